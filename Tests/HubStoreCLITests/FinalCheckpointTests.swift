import Foundation
import HubTestSupport
import Testing

/// A stopping server folds its WAL into `hub.sqlite`, and says so through its exit status when it
/// cannot: once, after "hubstore stopped", the WAL remained and `hub.sqlite` was 4 KiB.
@Suite(.timeLimit(.minutes(5)))
struct FinalCheckpointTests {
    @Test func aCheckpointThatCannotCompleteIsLoggedAndMakesTheExitStatusNonZero() async throws {
        try await withTemporaryDirectory { directory in
            let data = directory + "/data"
            let server = try ChildProcess(["serve", "--data", data, "--port", "0", "--log-format", "json"])
            _ = try await listeningPort(server)
            // Another process holds a read transaction on the WAL's last commit for longer than the
            // server will wait at shutdown.
            let reader = try ChildProcess(
                [
                    "python3", "-c",
                    """
                    import sqlite3, sys, time
                    c = sqlite3.connect(sys.argv[1], isolation_level=None)
                    c.execute('BEGIN')
                    c.execute('SELECT count(*) FROM schema_migrations').fetchall()
                    print('reading', flush=True)
                    time.sleep(40)
                    """,
                    data + "/hub.sqlite",
                ],
                executable: "/usr/bin/env"
            )
            try await reader.waitFor(timeout: .seconds(20), "the reader's transaction") {
                $0.standardOutput.contains("reading")
            }
            server.signal(SIGTERM)
            let status = try await server.waitForExit(timeout: .seconds(60))
            reader.signal(SIGKILL)
            #expect(status != 0)
            #expect(server.standardError.contains("final WAL checkpoint failed"))
            #expect(!server.standardError.contains(#""message":"hubstore stopped""#))
        }
    }

    @Test func aCleanStopLeavesNoWALAndSaysItCheckpointed() async throws {
        try await withTemporaryDirectory { directory in
            let data = directory + "/data"
            let server = try ChildProcess(["serve", "--data", data, "--port", "0", "--log-format", "json"])
            _ = try await listeningPort(server)
            _ = try await ChildProcess.run([
                "clients", "create", "--data", data, "--name", "c", "--scope", "hubstore.query",
            ])
            server.signal(SIGTERM)
            #expect(try await server.waitForExit() == 0)
            #expect(server.standardError.contains(#""wal.checkpointed":"true""#))
            let wal = (try? FileManager.default.attributesOfItem(atPath: data + "/hub.sqlite-wal")[.size] as? Int) ?? 0
            #expect(wal == 0)
        }
    }
}
