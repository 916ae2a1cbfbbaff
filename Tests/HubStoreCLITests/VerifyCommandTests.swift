import Foundation
import HubTestSupport
import Testing

/// `hubstore verify` against tampering done behind the server's back with the `sqlite3` CLI.
@Suite(.timeLimit(.minutes(3)))
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
        ("UPDATE events SET data = replace(data, 'bench', 'bencH') WHERE position = 123", 123, "hash mismatch"),
        ("UPDATE events SET recorded_at = recorded_at + 1 WHERE position = 7", 7, "hash mismatch"),
        ("DELETE FROM events WHERE position = 300", 300, "missing event"),
        (
            "UPDATE events SET position = -1 WHERE position = 400; UPDATE events SET position = 400 WHERE position = 401; "
                + "UPDATE events SET position = 401 WHERE position = -1", 400, "hash mismatch"
        ),
        ("UPDATE events SET version = version + 1 WHERE position = 599", 599, "version"),
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

    @Test func verifyOfAMissingLogSaysSo() async throws {
        try await withTemporaryDirectory { directory in
            let verify = try await ChildProcess.run(["verify", "--data", directory + "/nothing-here"])
            #expect(verify.status == 1)
            #expect(verify.stderr.contains("no hub.sqlite in"))
        }
    }
}
