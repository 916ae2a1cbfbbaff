import Foundation
import HubTestSupport
import Testing

/// `hubstore bench ingest` end to end, small: every acknowledged message found in its transcript.
@Suite(.timeLimit(.minutes(2)))
struct BenchIngestTests {
    @Test func aSmallIngestRunLosesNothingAndReportsItsFigures() async throws {
        let result = try await ChildProcess.run([
            "bench", "ingest", "--messages", "300", "--senders", "8", "--json", "--synchronous", "normal",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        )
        #expect(report["messages"] as? Int == 300)
        #expect(report["missing"] as? Int == 0)
        #expect(report["refused"] as? Int == 0)
        #expect(report["deliveries"] as? Int == 300)
        #expect((report["messages_per_s"] as? Double ?? 0) > 0)
        #expect((report["reference_requests_per_s"] as? Double ?? 0) > 0)
        #expect(report["p99_ms"] != nil && report["ratio"] != nil)
    }
}
