import ArgumentParser
import Foundation
import HubTools

extension HubStoreCommand.Bench {
    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replay into a fresh hub in this process, vs the ingest that made the source.",
            discussion: """
                Makes a source hub with the ingest benchmark (--messages messages from 64 senders, \
                customer and bot taking turns), then replays it into a fresh hub in this process, as \
                `hubstore replay` does, and reconciles the two. The reference is the ingest's own \
                messages/s, measured in the same run. Prints replayed messages/s and the ratio; a \
                reconciliation that is not clean exits 1. Target: at least 2,000 messages/s.
                """
        )

        @Option(help: "Messages the ingest benchmark sends to make the source.")
        var messages = 60_000

        @Option(help: "Customers replayed at once.")
        var concurrency = 16

        @Flag(help: "Print the result as one JSON object on standard output.")
        var json = false

        func validate() throws {
            guard messages > 0, concurrency > 0 else {
                throw ValidationError("--messages and --concurrency must be positive")
            }
        }

        func run() async throws {
            let result = try await failingClearly {
                try await ReplayBenchmark(messages: messages, concurrency: concurrency)
                    .run(log: { HubStoreCommand.Bench.Append.log($0) })
            }
            let ratio = result.replayMessagesPerSecond / max(result.ingestMessagesPerSecond, 1e-9)
            let targetMet = result.replayMessagesPerSecond >= 2000
            if json {
                let object: [String: Any] = [
                    "messages": result.messages, "conversations": result.conversations,
                    "replay_seconds": (result.replaySeconds * 1000).rounded() / 1000,
                    "replay_messages_per_s": result.replayMessagesPerSecond.rounded(),
                    "ingest_messages_per_s": result.ingestMessagesPerSecond.rounded(),
                    "ratio": (ratio * 1000).rounded() / 1000,
                    "reconcile_seconds": (result.reconcileSeconds * 1000).rounded() / 1000,
                    "clean": result.clean, "target_met": targetMet,
                ]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print(
                    [
                        "replayed \(result.messages) messages of \(result.conversations) conversations",
                        String(
                            format: "replay: %8.0f messages/s (%.2f s)",
                            result.replayMessagesPerSecond,
                            result.replaySeconds
                        ),
                        String(format: "ingest: %8.0f messages/s (the reference)", result.ingestMessagesPerSecond),
                        String(format: "ratio replay / ingest: %.1f %%", ratio * 100),
                        String(
                            format: "reconciliation: %@ (%.2f s)",
                            result.clean ? "clean" : "DIFFERENCES",
                            result.reconcileSeconds
                        ),
                        "target (>= 2000 messages/s): " + (targetMet ? "met" : "NOT met"),
                    ].joined(separator: "\n")
                )
            }
            if !result.clean { throw ExitCode.failure }
        }
    }
}
