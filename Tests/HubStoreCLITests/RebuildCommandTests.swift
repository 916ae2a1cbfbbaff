import Foundation
import HubTestSupport
import Synchronization
import Testing

/// `hubstore rebuild` and `hubstore verify --projections` as an operator runs them: beside a server
/// that keeps taking messages, and against a read model changed behind the log's back.
@Suite(.timeLimit(.minutes(5)))
struct RebuildCommandTests {
    static let sqlite3 = ["/usr/bin/sqlite3", "/usr/local/bin/sqlite3"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// Customer messages to the demo's account, each from a customer of its own, until `stop` is set.
    static func send(port: Int, token: String, sender: Int, stop: StopFlag) async throws -> [Int] {
        var statuses: [Int] = []
        var count = 0
        while !stop.isSet {
            count += 1
            let body = """
                {"messages": {"message": [{"messageId": "s\(sender)-\(count)", "type": {"value": "text"},
                  "content": {"text": "message \(count) from sender \(sender)"}, "sender": {"type": "customer"},
                  "conversation": {"account": {"address": "1000", "channel": {"type": "web_chat"}},
                    "customer": {"name": "Load \(sender)", "contacts": {"contact": [
                      {"type": "email", "address": "load\(sender)@example.com"}]}}}}]}}
                """
            let (status, _) = try await httpRequest(
                port: port,
                path: "/conversation/conversationmgr/v3/conversations/messages",
                method: "POST",
                headers: ["Authorization": "Bearer " + token, "Content-Type": "application/json"],
                body: body
            )
            statuses.append(status)
            stop.count()
        }
        return statuses
    }

    @Test func aRebuildBesideAServerUnderLoadFailsNoRequestAndEqualsTheLog() async throws {
        try await withTemporaryDirectory { directory in
            let demo = try await ChildProcess.run(["demo", "--data", directory])
            #expect(demo.status == 0, "\(demo.stderr)")
            let server = try ChildProcess(["serve", "--data", directory, "--port", "0"])
            let port = try await listeningPort(server)
            let token = try await ChildProcess.run([
                "token", "--data", directory, "--scope", "app.conversation.conversationmgr.interaction.manage",
            ])
            let bearer = token.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let stop = StopFlag()
            let (statuses, rebuild) = try await withThrowingTaskGroup(of: [Int].self) { group in
                for sender in 1...4 {
                    group.addTask { try await Self.send(port: port, token: bearer, sender: sender, stop: stop) }
                }
                while stop.requests < 20 { try await Task.sleep(for: .milliseconds(20)) }
                let rebuild = try await ChildProcess.run(["rebuild", "--data", directory])
                // Requests keep coming after the swap too.
                let swapped = stop.requests
                while stop.requests < swapped + 20 { try await Task.sleep(for: .milliseconds(20)) }
                stop.set()
                var statuses: [Int] = []
                for try await batch in group { statuses += batch }
                return (statuses, rebuild)
            }
            #expect(rebuild.status == 0, "\(rebuild.stderr)")
            for name in ["configuration", "clients", "transcripts", "outbox", "assets"] {
                #expect(rebuild.stdout.contains("\(name) (version "), "\(rebuild.stdout)")
            }
            #expect(rebuild.stdout.contains("messages: "))
            #expect(statuses.count >= 40, "the load kept running")
            #expect(statuses.allSatisfy { $0 == 202 }, "\(Set(statuses))")
            let verify = try await ChildProcess.run(["verify", "--data", directory, "--projections"])
            #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
            #expect(verify.stdout.contains("ok: projections equal a rebuild from the log"), "\(verify.stdout)")
            server.signal(SIGTERM)
            #expect(try await server.waitForExit() == 0)
        }
    }

    @Test func aReadModelRowChangedBehindTheLogsBackFailsVerify() async throws {
        let sqlite3 = try #require(Self.sqlite3, "the sqlite3 command-line tool is needed (apt-get install sqlite3)")
        try await withTemporaryDirectory { directory in
            let demo = try await ChildProcess.run(["demo", "--data", directory])
            #expect(demo.status == 0, "\(demo.stderr)")
            let clean = try await ChildProcess.run(["verify", "--data", directory, "--projections"])
            #expect(clean.status == 0, "\(clean.stdout)")
            let tamper = try await ChildProcess.run(
                [
                    directory + "/hub.sqlite",
                    #"UPDATE messages SET content = '{"text":"tampered"}' WHERE rowid = (SELECT min(rowid) FROM messages)"#,
                ],
                executable: sqlite3
            )
            #expect(tamper.status == 0, "\(tamper.stderr)")
            let verify = try await ChildProcess.run(["verify", "--data", directory, "--projections"])
            #expect(verify.status == 1)
            #expect(verify.stdout.contains("FAILED: projection transcripts, table messages"), "\(verify.stdout)")
            #expect(verify.stdout.contains("tampered"))
            // A rebuild repairs it.
            let rebuild = try await ChildProcess.run(["rebuild", "--data", directory, "--projection", "transcripts"])
            #expect(rebuild.status == 0, "\(rebuild.stderr)")
            #expect(!rebuild.stdout.contains("assets"), "only the projection asked for")
            let repaired = try await ChildProcess.run(["verify", "--data", directory, "--projections"])
            #expect(repaired.status == 0, "\(repaired.stdout)")
            // Without the master key nothing is rebuilt (and no new key is made).
            try FileManager.default.moveItem(atPath: directory + "/master.key", toPath: directory + "/master.key.away")
            let keyless = try await ChildProcess.run(["rebuild", "--data", directory])
            #expect(keyless.status == 1)
            #expect(keyless.stderr.contains("needs the data directory's master key"), "\(keyless.stderr)")
            #expect(!FileManager.default.fileExists(atPath: directory + "/master.key"))
            try FileManager.default.moveItem(atPath: directory + "/master.key.away", toPath: directory + "/master.key")
            let unknown = try await ChildProcess.run(["rebuild", "--data", directory, "--projection", "nope"])
            #expect(unknown.status == 1)
            #expect(unknown.stderr.contains("no projection 'nope'"), "\(unknown.stderr)")
        }
    }
}

extension RebuildCommandTests {
    /// A `verify --projections` killed mid-way leaves its scratch database; the next run removes it.
    @Test func aKilledVerifysScratchDatabaseIsRemovedByTheNextOne() async throws {
        try await withTemporaryDirectory { directory in
            let demo = try await ChildProcess.run(["demo", "--data", directory])
            #expect(demo.status == 0, "\(demo.stderr)")
            // A process id no process has (above the kernel's largest), and one that runs (this test's).
            let temporary = FileManager.default.temporaryDirectory.path
            let abandoned = temporary + "/hubstore-verify-4194305-1.sqlite"
            let running = temporary + "/hubstore-verify-\(getpid())-1.sqlite"
            for path in [abandoned, running, abandoned + "-journal"] {
                #expect(FileManager.default.createFile(atPath: path, contents: Data("x".utf8)))
            }
            defer { try? FileManager.default.removeItem(atPath: running) }
            let verify = try await ChildProcess.run(["verify", "--data", directory, "--projections"])
            #expect(verify.status == 0, "\(verify.stdout)")
            #expect(!FileManager.default.fileExists(atPath: abandoned))
            #expect(!FileManager.default.fileExists(atPath: abandoned + "-journal"))
            #expect(FileManager.default.fileExists(atPath: running))
        }
    }
}

final class StopFlag: Sendable {
    private let value = Atomic<Bool>(false)
    private let answered = Atomic<Int>(0)
    var isSet: Bool { value.load(ordering: .relaxed) }
    /// Requests answered so far, by every sender.
    var requests: Int { answered.load(ordering: .relaxed) }
    func set() { value.store(true, ordering: .relaxed) }
    func count() { answered.add(1, ordering: .relaxed) }
}
