import Foundation
import HubDomain
import HubTestSupport
import Testing

/// `hubstore backup` as an operator runs it: beside a server that keeps taking messages.
@Suite(.timeLimit(.minutes(5)))
struct BackupCommandTests {
    /// Uploads `text` as an asset through the API.
    static func uploadAsset(port: Int, token: String, text: String) async throws {
        let (status, answer) = try await httpRequest(
            port: port,
            path: "/conversation/conversationmgr/v3/assets",
            method: "POST",
            headers: ["Authorization": "Bearer " + token, "Content-Type": "application/json"],
            body:
                #"{"channel": {"type": "web_chat"}, "sender": {"type": "customer"}, "name": "a.txt", "size": \#(text.utf8.count)}"#
        )
        #expect(status == 200, "\(answer)")
        let url = try #require(try JSONValue.parse(answer)["contentUrl"]?.stringValue)
        let path = String(url[try #require(url.range(of: "/conversation/")).lowerBound...])
        let (uploaded, body) = try await httpRequest(
            port: port,
            path: path,
            method: "POST",
            headers: ["Content-Type": "text/plain"],
            body: text
        )
        #expect(uploaded == 204, "\(body)")
    }

    @Test func aBackupUnderLoadVerifiesAndAServerStartsOnIt() async throws {
        try await withTemporaryDirectory { directory in
            let data = directory + "/data"
            let demo = try await ChildProcess.run(["demo", "--data", data])
            #expect(demo.status == 0, "\(demo.stderr)")
            let server = try ChildProcess(["serve", "--data", data, "--port", "0"])
            let port = try await listeningPort(server)
            let token = try await ChildProcess.run([
                "token", "--data", data, "--scope", "app.conversation.conversationmgr.interaction.manage",
            ])
            let bearer = token.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            try await Self.uploadAsset(port: port, token: bearer, text: "the asset's bytes")
            let stop = StopFlag()
            let (statuses, backup) = try await withThrowingTaskGroup(of: [Int].self) { group in
                for sender in 1...4 {
                    group.addTask {
                        try await RebuildCommandTests.send(port: port, token: bearer, sender: sender, stop: stop)
                    }
                }
                while stop.requests < 20 { try await Task.sleep(for: .milliseconds(20)) }
                let backup = try await ChildProcess.run(
                    ["backup", "--data", data, "--out", directory + "/copy", "--include-key", "--json"]
                )
                let after = stop.requests
                while stop.requests < after + 20 { try await Task.sleep(for: .milliseconds(20)) }
                stop.set()
                var statuses: [Int] = []
                for try await batch in group { statuses += batch }
                return (statuses, backup)
            }
            #expect(backup.status == 0, "\(backup.stderr)")
            // Progress on standard error: the database's pages, then the asset files.
            #expect(backup.stderr.contains("backup: database pages: "), "\(backup.stderr)")
            #expect(backup.stderr.contains("backup: asset files: 1/1 (100%)"), "\(backup.stderr)")
            #expect(statuses.allSatisfy { $0 == 202 }, "\(Set(statuses))")
            let summary = try JSONValue.parse(backup.stdout)
            #expect(summary["assets"] == .integer(1))
            #expect(summary["key_included"] == .bool(true))
            let position = try #require(summary["position"].flatMap { if case .integer(let p) = $0 { p } else { nil } })
            server.signal(SIGTERM)
            #expect(try await server.waitForExit() == 0)
            // The copy stands at one position of the log, behind the source's end, and is whole there.
            let assets = try FileManager.default.contentsOfDirectory(atPath: directory + "/copy/assets")
            #expect(assets.count == 1)
            #expect(
                FileManager.default.contents(atPath: directory + "/copy/assets/" + (assets.first ?? ""))
                    == Data("the asset's bytes".utf8)
            )
            #expect(!FileManager.default.fileExists(atPath: directory + "/copy/hub.sqlite.partial"))
            let verify = try await ChildProcess.run(["verify", "--data", directory + "/copy", "--projections"])
            #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
            #expect(verify.stdout.contains("hash chain intact"), "\(verify.stdout)")
            #expect(verify.stdout.contains("ok: projections equal a rebuild from the log at position \(position)"))
            let source = try await ChildProcess.run(["verify", "--data", data, "--json"])
            let sourceEnd = try JSONValue.parse(source.stdout)["lastPosition"]
            #expect(sourceEnd.flatMap { if case .integer(let p) = $0 { p > position } else { nil } } == true)
            // A server starts on the copy and answers from it.
            let restored = try ChildProcess(["serve", "--data", directory + "/copy", "--port", "0"])
            let restoredPort = try await listeningPort(restored)
            let ready = try await httpGet(port: restoredPort, path: "/readyz")
            #expect(ready.status == 200, "\(ready.body)")
            // It stands where the copy does, or just after: its delivery workers may already have recorded
            // an attempt of a delivery the copy had pending.
            let served = try #require(ready.body.firstMatch(of: /"position":"(\d+)"/).flatMap { Int64($0.1) })
            #expect(served >= position, "\(ready.body)")
            restored.signal(SIGTERM)
            #expect(try await restored.waitForExit() == 0)
        }
    }

    @Test func aBackupRefusesWhatItCannotDoAndKeepsTheKeyOutUnlessAsked() async throws {
        try await withTemporaryDirectory { directory in
            let data = directory + "/data"
            let demo = try await ChildProcess.run(["demo", "--data", data])
            #expect(demo.status == 0, "\(demo.stderr)")
            let plain = try await ChildProcess.run(["backup", "--data", data, "--out", directory + "/plain"])
            #expect(plain.status == 0, "\(plain.stderr)")
            #expect(plain.stdout.contains("the master key was not copied"), "\(plain.stdout)")
            #expect(!FileManager.default.fileExists(atPath: directory + "/plain/master.key"))
            let again = try await ChildProcess.run(["backup", "--data", data, "--out", directory + "/plain"])
            #expect(again.status == 1)
            #expect(again.stderr.contains("is not empty"), "\(again.stderr)")
            let nowhere = try await ChildProcess.run([
                "backup", "--data", directory + "/none", "--out", directory + "/x",
            ])
            #expect(nowhere.status == 1)
            #expect(nowhere.stderr.contains("not a HubStore data directory"), "\(nowhere.stderr)")
            let help = try await ChildProcess.run(["backup", "--help"])
            #expect(help.stdout.contains("--include-key"))
        }
    }
}
