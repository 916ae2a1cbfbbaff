import Foundation
import HubSQLite
import HubTestSupport
import Testing

/// Acknowledged appends survive SIGKILL: the binary appends from many submitters and prints each
/// event id only after its commit returned; the test kills it mid-stream and finds every printed id.
@Suite(.timeLimit(.minutes(5)))
struct CrashSafetyTests {
    @Test func everyAcknowledgedAppendSurvivesSIGKILL() async throws {
        try await withTemporaryDirectory { directory in
            var acknowledged = Set<String>()
            for round in 1...4 {
                let writer = try ChildProcess([
                    "bench", "append", "--data", directory, "--report-acks", "--no-raw", "--events", "50000000",
                    "--submitters", "128",
                ])
                // Kill at a different point each round, well inside the stream.
                let target = 3000 * round + 2000
                try await writer.waitFor("\(target) acknowledgements") { $0.standardOutput.utf8.count >= target * 37 }
                writer.signal(SIGKILL)
                _ = try await writer.waitForExit()
                // Only complete lines were acknowledged.
                let lines = writer.standardOutput.split(separator: "\n", omittingEmptySubsequences: true)
                let complete = writer.standardOutput.hasSuffix("\n") ? lines : lines.dropLast()
                #expect(complete.count >= target - 1)
                acknowledged.formUnion(complete.map(String.init))

                let connection = try Connection(path: directory + "/hub.sqlite", configuration: .init(mode: .readOnly))
                var missing = 0
                for id in acknowledged
                where try connection.singleInt64(sql: "SELECT count(*) FROM events WHERE id = ?", [id]) != 1 {
                    missing += 1
                }
                #expect(missing == 0, "round \(round): \(missing) acknowledged events missing after SIGKILL")
                let count = try #require(try connection.singleInt64(sql: "SELECT count(*) FROM events"))
                let last = try #require(try connection.singleInt64(sql: "SELECT max(position) FROM events"))
                #expect(count == last, "positions are not gapless")
                connection.close()

                let verify = try await ChildProcess.run(["verify", "--data", directory])
                #expect(verify.status == 0, "verify after round \(round): \(verify.stdout) \(verify.stderr)")
                #expect(verify.stdout.hasPrefix("ok: \(count) events"))
            }
        }
    }
}
