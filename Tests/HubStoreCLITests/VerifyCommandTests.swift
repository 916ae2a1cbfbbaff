import Foundation
import HubTestSupport
import Testing

/// `hubstore verify` against tampering done behind the server's back with the `sqlite3` CLI.
@Suite(.timeLimit(.minutes(5)))
struct VerifyCommandTests {
    static let sqlite3 = ["/usr/bin/sqlite3", "/usr/local/bin/sqlite3"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// A data directory with 600 events over 50 streams.
    func makeLog(_ directory: String) async throws {
        let bench = try await ChildProcess.run([
            "bench", "append", "--data", directory, "--no-raw", "--events", "600", "--streams", "50", "--submitters",
            "16",
        ])
        #expect(bench.status == 0, "\(bench.stderr)")
        let verify = try await ChildProcess.run(["verify", "--data", directory])
        #expect(verify.status == 0)
        #expect(verify.stdout == "ok: 600 events in 50 streams, positions 1...600 gapless, hash chain intact\n")
    }

    @Test(arguments: [
        ("UPDATE event_records SET data = replace(data, 'bench', 'bencH') WHERE position = 123", 123, "hash mismatch"),
        ("UPDATE event_records SET recorded_at = recorded_at + 1 WHERE position = 7", 7, "hash mismatch"),
        ("DELETE FROM event_records WHERE position = 300", 300, "missing event"),
        (
            "UPDATE event_records SET position = -1 WHERE position = 400; UPDATE event_records SET position = 400 WHERE position = 401; "
                + "UPDATE event_records SET position = 401 WHERE position = -1", 400, "hash mismatch"
        ),
        ("UPDATE event_records SET version = version + 1 WHERE position = 599", 599, "version"),
    ])
    func tamperingIsReportedAtTheFirstBadPosition(_ sql: String, _ position: Int, _ reason: String) async throws {
        let sqlite3 = try #require(Self.sqlite3, "the sqlite3 command-line tool is needed (apt-get install sqlite3)")
        try await withTemporaryDirectory { directory in
            try await makeLog(directory)
            let tamper = try await ChildProcess.run(
                [directory + "/hub.sqlite", "DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete; \(sql);"],
                executable: sqlite3
            )
            #expect(tamper.status == 0, "\(tamper.stderr)")
            let verify = try await ChildProcess.run(["verify", "--data", directory])
            #expect(verify.status == 1)
            #expect(verify.stdout.hasPrefix("FAILED at position \(position): "), "\(verify.stdout)")
            #expect(verify.stdout.contains(reason))
            let json = try await ChildProcess.run(["verify", "--data", directory, "--json"])
            let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
            #expect(object?["intact"] as? Bool == false)
            #expect(object?["failedPosition"] as? Int == position)
        }
    }

    @Test func verifyWorksWhileAServerUsesTheDirectory() async throws {
        try await withTemporaryDirectory { directory in
            try await makeLog(directory)
            let server = try ChildProcess(["serve", "--data", directory, "--port", "0"])
            _ = try await listeningPort(server)
            let verify = try await ChildProcess.run(["verify", "--data", directory])
            #expect(verify.status == 0)
            #expect(verify.stdout.hasPrefix("ok: 600 events"))
            server.signal(SIGTERM)
            #expect(try await server.waitForExit() == 0)
        }
    }

    /// The server signs the head every N events and at shutdown; verify checks those checkpoints, and a
    /// head taken from `GET /v1/log/head`; cutting the log's tail is then reported.
    @Test func theServersSignedHeadsAreCheckedAndACutTailFails() async throws {
        let sqlite3 = try #require(Self.sqlite3, "the sqlite3 command-line tool is needed (apt-get install sqlite3)")
        try await withTemporaryDirectory { directory in
            let arguments = [
                "serve", "--data", directory, "--port", "0", "--checkpoint-events", "3", "--checkpoint-interval", "1h",
            ]
            let server = try ChildProcess(arguments)
            let port = try await listeningPort(server)
            let token = try await ChildProcess.run([
                "token", "--data", directory, "--scope", "app.conversation.conversationmgr.manage hubstore.query",
            ])
            let bearer = token.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let api = HubAPI(port: port, token: bearer)
            for index in 0..<7 {
                _ = try await api.create(
                    "channels",
                    #"{"type": "head_\#(index)", "displayName": "Head \#(index)", "icon": "iVBORw0KGgo="}"#
                )
            }
            // Checkpoints every 3 events: one covers at least position 6 before shutdown.
            var head = ""
            try await waitUntilAsync("a signed head at 6 or beyond") {
                let response = try await httpGet(
                    port: port,
                    path: "/v1/log/head",
                    headers: ["Authorization": "Bearer \(bearer)"]
                )
                guard response.status == 200, let match = response.body.firstMatch(of: /"head":"((\d+):[0-9a-f]{64})"/),
                    let position = Int(match.2), position >= 6
                else { return false }
                head = String(match.1)
                return true
            }
            server.signal(SIGTERM)
            #expect(try await server.waitForExit() == 0)

            // Again, signing only at shutdown: the last event is covered when the server stops.
            let again = try ChildProcess([
                "serve", "--data", directory, "--port", "0", "--checkpoint-interval", "1h", "--log-level", "debug",
            ])
            let againAPI = HubAPI(port: try await listeningPort(again), token: bearer)
            _ = try await againAPI.create(
                "channels",
                #"{"type": "head_last", "displayName": "Last", "icon": "iVBORw0KGgo="}"#
            )
            again.signal(SIGTERM)
            #expect(try await again.waitForExit() == 0)
            #expect(again.standardError.contains("log head signed at shutdown"))
            // The service group logs each service's description: never the signing key.
            #expect(again.standardError.contains("LogCheckpointService(everyEvents"))
            #expect(!again.standardError.contains("seed"))

            let last = try await ChildProcess.run(
                [directory + "/hub.sqlite", "SELECT max(position) FROM events"],
                executable: sqlite3
            )
            let lastPosition = try #require(Int(last.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
            let verify = try await ChildProcess.run(["verify", "--data", directory, "--expect-head", head])
            #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
            #expect(verify.stdout.contains("the latest at position \(lastPosition)"), "\(verify.stdout)")
            #expect(verify.stdout.contains("as expected"))

            let tamper = try await ChildProcess.run(
                [
                    directory + "/hub.sqlite",
                    "DROP TRIGGER events_no_delete; DELETE FROM event_records WHERE position = \(lastPosition);",
                ],
                executable: sqlite3
            )
            #expect(tamper.status == 0, "\(tamper.stderr)")
            let cut = try await ChildProcess.run(["verify", "--data", directory])
            #expect(cut.status == 1)
            #expect(
                cut.stdout.hasPrefix(
                    "FAILED at position \(lastPosition): the log ends at position \(lastPosition - 1)"
                ),
                "\(cut.stdout)"
            )
            // Without the master key the checkpoints cannot be checked: an error, never a pass.
            try FileManager.default.removeItem(atPath: directory + "/master.key")
            let keyless = try await ChildProcess.run(["verify", "--data", directory])
            #expect(keyless.status == 1)
            #expect(keyless.stderr.contains("no master key"))
            let bad = try await ChildProcess.run(["verify", "--data", directory, "--expect-head", "12:abc"])
            #expect(bad.status != 0)
            #expect(bad.stderr.contains("POSITION:HASH"))
        }
    }

    @Test func verifyOfAMissingLogSaysSo() async throws {
        try await withTemporaryDirectory { directory in
            let verify = try await ChildProcess.run(["verify", "--data", directory + "/nothing-here"])
            #expect(verify.status == 1)
            #expect(verify.stderr.contains("no hub.sqlite in"))
        }
    }
}

/// Polls an async condition until it holds.
func waitUntilAsync(_ what: String, timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async throws
{
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw CallbackWaitTimeout(what: what, seen: 0) }
        try await Task.sleep(for: .milliseconds(100))
    }
}
