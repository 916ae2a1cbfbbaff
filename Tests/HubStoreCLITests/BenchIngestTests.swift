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

/// `hubstore bench query` end to end, small: every measurement taken, every position delivered once.
@Suite(.timeLimit(.minutes(3)))
struct BenchQueryTests {
    @Test func aSmallQueryRunMeasuresEverythingAndTheTailMissesNothing() async throws {
        // A debug build under a parallel suite: small, and given time.
        let result = try await ChildProcess.run(
            [
                "bench", "query", "--messages", "200", "--tail-messages", "60", "--subscribers", "2", "--requests",
                "10", "--json",
            ],
            timeout: .seconds(150)
        )
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        )
        #expect(report["gaps"] as? Int == 0)
        #expect((report["events"] as? Int ?? 0) > 600)
        for key in ["reference_healthz", "transcript_200", "search", "analytics_30_days"] {
            let latency = report[key] as? [String: Any]
            #expect((latency?["p99_ms"] as? Double ?? 0) > 0, "\(key)")
        }
        #expect((report["catch_up_events_per_s"] as? [Double])?.count == 2)
        #expect((report["live_events_per_s"] as? [Double])?.count == 2)
        #expect((report["ingest_alone_messages_per_s"] as? Double ?? 0) > 0)
        #expect((report["targets"] as? [String: Bool])?.count == 5)
    }
}
