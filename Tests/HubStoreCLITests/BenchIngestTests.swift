import Foundation
import HubTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `hubstore bench ingest` end to end, small: every acknowledged message found in its transcript.
@Suite(.timeLimit(.minutes(5)))
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
        // At least once: on a loaded machine a callback answered after the delivery's timeout goes again.
        #expect(report["deliveries"] as? Int ?? 0 >= 300, "\(report)")
        #expect((report["messages_per_s"] as? Double ?? 0) > 0)
        #expect((report["reference_requests_per_s"] as? Double ?? 0) > 0)
        #expect(report["p99_ms"] != nil && report["ratio"] != nil)
        Self.expectStagesAndSizes(report)
        Self.expectCPURatio(report)
    }

    /// What a message and a reference request cost in CPU (this process's, or the server's and this
    /// one's with `--url`), and the ceiling that sets on the ratio: a message costs more than a
    /// `GET /healthz`, so the ceiling is below 1.
    static func expectCPURatio(_ report: [String: Any]) {
        let perMessage = report["total_cpu_us_per_message"] as? Double ?? 0
        let perRequest = report["reference_cpu_us_per_request"] as? Double ?? 0
        #expect(perMessage > perRequest && perRequest > 0, "\(report)")
        let ratio = report["cpu_ratio"] as? Double ?? 0
        #expect(ratio > 0 && ratio < 1, "\(report)")
        // The ratio is of the rounded figures' unrounded values.
        #expect(abs(ratio - perRequest / perMessage) < 0.05, "\(report)")
        #expect((report["reference_cores_busy"] as? Double ?? 0) > 0, "\(report)")
    }

    /// `--sql-profile`: the writer's statements during the run, with what every message costs it.
    @Test func theWritersStatementsAreCountedPerMessage() async throws {
        let result = try await ChildProcess.run([
            "bench", "ingest", "--messages", "200", "--senders", "4", "--json", "--synchronous", "normal",
            "--no-reference", "--sql-profile",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        )
        let sql = try #require(report["writer_sql"] as? [String: Any], "\(report.keys.sorted())")
        #expect((sql["us_per_message"] as? Double ?? 0) > 0, "\(sql)")
        let statements = sql["statements"] as? [[String: Any]] ?? []
        // Each message is one event: at least one insert into the log per message, none before the run
        // (the configuration's appends are left out), and SQLite's time for it.
        let insert = try #require(
            statements.first { ($0["sql"] as? String)?.hasPrefix("INSERT INTO event_records") == true }
        )
        let runs = insert["runs_per_message"] as? Double ?? 0
        #expect(runs >= 1 && runs < 2, "\(insert)")
        #expect((insert["us_each"] as? Double ?? 0) > 0, "\(insert)")
        #expect(statements.contains { ($0["sql"] as? String) == "COMMIT" }, "\(statements)")

        let refused = try await ChildProcess.run([
            "bench", "ingest", "--sql-profile", "--url", "http://127.0.0.1:9", "--token", "t",
        ])
        #expect(refused.status != 0 && refused.stderr.contains("--sql-profile"), "\(refused.stderr)")
    }

    /// The writer's stages, the store's size and the peak RSS are reported, and are plausible.
    static func expectStagesAndSizes(_ report: [String: Any], sizes: Bool = true) {
        let writer = report["writer"] as? [String: Double] ?? [:]
        #expect((writer["batches"] ?? 0) >= 1, "\(report)")
        #expect((writer["command_us"] ?? 0) > 0 && (writer["sync_us"] ?? 0) > 0, "\(writer)")
        #expect((writer["per_command_us"] ?? 0) >= (writer["command_us"] ?? 0))
        #expect((report["delivery_call_ms"] as? Double ?? 0) > 0)
        #expect((report["peak_rss_bytes"] as? Double ?? 0) > 10_000_000)
        // The hub's CPU and storage writes per message, from its /metrics (both read from /proc/self; a
        // directory on tmpfs sends nothing to storage).
        #expect((report["cpu_us_per_message"] as? Double ?? 0) > 0, "\(report)")
        #expect((report["storage_written_bytes_per_message"] as? Double ?? -1) >= 0, "\(report)")
        // The CPU by threads (in clock ticks of 10 ms: a group may show none in so short a run).
        let threads = report["cpu_us_per_message_by_threads"] as? [String: Double] ?? [:]
        #expect(Set(threads.keys) == ["writer", "wal_sync", "event_loops", "tasks", "dispatch", "other"], "\(report)")
        #expect(threads.values.reduce(0, +) > 0, "\(threads)")
        guard sizes else { return }
        // 300 messages in a few hundred KiB: hundreds to thousands of bytes each, tables and indexes.
        let perMessage = report["bytes_per_message"] as? Double ?? 0
        #expect(perMessage > 200 && perMessage < 100_000, "\(report)")
        let objects = report["store_objects"] as? [String: Int] ?? [:]
        #expect((objects["event_records"] ?? 0) > 0 && (objects["messages"] ?? 0) > 0, "\(objects.keys.sorted())")
    }

    /// `--url`: the same bench against a `hubstore serve` in another process, whose data directory
    /// is measured read-only while it runs.
    @Test func theBenchDrivesAServerInAnotherProcess() async throws {
        try await withTemporaryDirectory { directory in
            let server = try ChildProcess(["serve", "--data", directory, "--port", "0"])
            let port = try await listeningPort(server)
            let token = try await ChildProcess.run([
                "token", "--data", directory, "--scope",
                "hubstore.admin hubstore.query app.conversation.conversationmgr.manage "
                    + "app.conversation.conversationmgr.read app.conversation.conversationmgr.interaction.manage",
            ])
            let result = try await ChildProcess.run([
                "bench", "ingest", "--messages", "200", "--senders", "4", "--json",
                "--url", "http://127.0.0.1:\(port)", "--token",
                token.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "--data", directory,
            ])
            #expect(result.status == 0, "\(result.stderr)")
            let report = try #require(
                try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            )
            #expect(report["messages"] as? Int == 200)
            // At least once, as in the process: a callback answered after the delivery's timeout goes again.
            #expect(report["missing"] as? Int == 0 && report["deliveries"] as? Int ?? 0 >= 200, "\(report)")
            Self.expectStagesAndSizes(report)
            // The bench's own CPU (this process's, the hub's being in another), and both together.
            let client = report["client_cpu_us_per_message"] as? Double ?? 0
            #expect(client > 0, "\(report)")
            #expect((report["cores_busy"] as? Double ?? 0) > 0, "\(report)")
            // Both processes' CPU: the message's includes the server's (more than the bench's own).
            Self.expectCPURatio(report)
            #expect((report["total_cpu_us_per_message"] as? Double ?? 0) > client, "\(report)")
            #expect(report["reference_server_cpu_us_per_request"] is Double, "\(report)")
            server.signal(SIGTERM)
            #expect(try await server.waitForExit() == 0)

            let unauthorized = try await ChildProcess.run([
                "bench", "ingest", "--messages", "10", "--url", "http://127.0.0.1:\(port)",
            ])
            #expect(unauthorized.status != 0)
            #expect(unauthorized.stderr.contains("--url needs --token"), "\(unauthorized.stderr)")
        }
    }
}

/// `hubstore bench query` end to end, small: every measurement taken, every position delivered once.
@Suite(.timeLimit(.minutes(5)))
struct BenchQueryTests {
    @Test func aSmallQueryRunMeasuresEverythingAndTheTailMissesNothing() async throws {
        // A debug build under a parallel suite: small, and given time (on an oversubscribed machine, a
        // full suite beside it made it take more than 150 s; the suite's own limit is 5 minutes).
        let result = try await ChildProcess.run(
            [
                "bench", "query", "--messages", "200", "--tail-messages", "60", "--subscribers", "2", "--requests",
                "10", "--json",
            ],
            timeout: .seconds(270)
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
