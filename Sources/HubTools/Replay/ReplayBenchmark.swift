import Foundation
import HubDelivery
import HubEventLog
import HubHTTP
import HubSQLite
import Logging

/// `hubstore bench replay`: the ingest benchmark makes a source hub (its messages/s is the reference:
/// the same messages, the same machine), then `replay` re-drives a fresh hub in this process with it
/// and reconciles. Reports replayed messages/s and its ratio to the ingest rate.
public struct ReplayBenchmark: Sendable {
    public var messages: Int
    public var concurrency: Int

    public init(messages: Int, concurrency: Int) {
        self.messages = messages
        self.concurrency = concurrency
    }

    public struct Result: Sendable {
        public var messages: Int
        public var conversations: Int
        public var replaySeconds: Double
        public var ingestMessagesPerSecond: Double
        public var reconcileSeconds: Double
        public var clean: Bool

        public var replayMessagesPerSecond: Double { Double(messages) / max(replaySeconds, 1e-9) }
    }

    public func run(log: @escaping @Sendable (String) -> Void) async throws -> Result {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("hubstore-bench-replay-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        log("making the source: \(messages) messages through bench ingest")
        let ingest = try await IngestBenchmark(
            options: .init(
                messages: messages,
                senders: 64,
                synchronous: .full,
                dataDirectory: directory + "/source",
                includeReference: false
            )
        ).run(log: log)
        var configuration = ServerConfiguration(
            port: 0,
            store: EventStoreConfiguration(dataDirectory: directory + "/target")
        )
        // The source's callbacks are gone: fail their deliveries quickly and do not retry for long.
        configuration.delivery.retrySchedule = [.seconds(60)]
        let logger = Logger(label: "hubstore", factory: { _ in SwiftLogNoOpLogHandler() })
        return try await InProcessHub.run(configuration, logger: logger) { hub in
            try await ReplaySource(path: directory + "/source").withPlan(.init()) { loaded in
                try await ReplayClient.with(
                    target: hub.baseURL,
                    credentials: .token(hub.token),
                    rate: nil,
                    connections: concurrency
                ) { client in
                    log(
                        "replaying \(loaded.plan.messageCount) messages of \(loaded.plan.conversations.count) conversations"
                    )
                    let replayed = try await Replayer(
                        loaded: loaded,
                        client: client,
                        checkpoint: try ReplayCheckpoint(
                            path: directory + "/replay.checkpoint",
                            source: directory + "/source",
                            target: client.root
                        ),
                        options: .init(concurrency: concurrency),
                        say: log,
                        progress: { _, _ in }
                    ).run()
                    let clock = ContinuousClock()
                    let started = clock.now
                    let report = try await ReplayReconciliation(
                        plan: loaded.plan,
                        client: client,
                        result: replayed,
                        concurrency: concurrency
                    ).run()
                    return Result(
                        messages: replayed.sentMessages,
                        conversations: replayed.conversations.count,
                        replaySeconds: replayed.seconds,
                        ingestMessagesPerSecond: ingest.messagesPerSecond,
                        reconcileSeconds: AppendBenchmark.seconds(started.duration(to: clock.now)),
                        clean: report.isClean && replayed.failures.isEmpty
                    )
                }
            }
        }
    }
}
