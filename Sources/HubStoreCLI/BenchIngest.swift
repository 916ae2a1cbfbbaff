import ArgumentParser
import Foundation
import HubSQLite
import HubTools

extension HubStoreCommand.Bench {
    struct Ingest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Durable ingest over HTTP: POST /conversations/messages from concurrent senders.",
            discussion: """
                Starts a hub in this process on a temporary data directory (or --data), configures an \
                account whose bot and customer callbacks are a local receiver, and drives \
                POST /conversations/messages over keep-alive HTTP from --senders concurrent senders, each \
                holding conversations of 10 to 30 messages (customer and bot taking turns). Prints \
                acknowledged messages/s, p50/p99 latency and deliveries/s, then checks that every \
                acknowledged message is in its transcript; a loss is printed and exits 1. Target: \
                at least 5,000 messages/s with p99 under 50 ms.
                """
        )

        @Option(help: "Messages to send in all.")
        var messages = 60_000

        @Option(help: "Concurrent senders.")
        var senders = 64

        @Option(help: "full or normal.")
        var synchronous: ConnectionConfiguration.Synchronous = .full

        @Option(help: "Keep the hub's data in this directory (default: a temporary one, removed).")
        var data: String?

        @Flag(help: "Skip the reference (the same senders doing GET /healthz).")
        var noReference = false

        @Flag(help: "Print the result as one JSON object on standard output.")
        var json = false

        func validate() throws {
            guard messages > 0, senders > 0 else { throw ValidationError("--messages and --senders must be positive") }
        }

        func run() async throws {
            let benchmark = IngestBenchmark(
                options: .init(
                    messages: messages,
                    senders: senders,
                    synchronous: synchronous,
                    dataDirectory: data,
                    includeReference: !noReference
                )
            )
            let result = try await failingClearly {
                try await benchmark.run(log: { HubStoreCommand.Bench.Append.log($0) })
            }
            let targetMet = result.messagesPerSecond >= 5000 && result.p99Milliseconds < 50
            if json {
                var object: [String: Any] = [
                    "messages": result.acknowledged, "senders": senders, "synchronous": synchronous.rawValue,
                    "seconds": (result.seconds * 100).rounded() / 100,
                    "messages_per_s": result.messagesPerSecond.rounded(),
                    "p50_ms": (result.p50Milliseconds * 100).rounded() / 100,
                    "p99_ms": (result.p99Milliseconds * 100).rounded() / 100,
                    "max_ms": (result.maxMilliseconds * 100).rounded() / 100,
                    "deliveries": result.deliveries, "deliveries_per_s": result.deliveriesPerSecond.rounded(),
                    "delivery_calls": result.deliveryCalls,
                    "conversations": result.conversations, "missing": result.missing.count,
                    "refused": result.refused, "target_met": targetMet,
                ]
                if let reference = result.reference {
                    object["reference_requests_per_s"] = reference.requestsPerSecond.rounded()
                    object["reference_p99_ms"] = (reference.p99Milliseconds * 100).rounded() / 100
                    object["ratio"] = (result.messagesPerSecond / reference.requestsPerSecond * 1000).rounded() / 1000
                }
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                var lines = [
                    "messages: \(result.acknowledged) acknowledged in \(result.conversations) conversations, "
                        + "\(senders) senders, synchronous=\(synchronous.rawValue)",
                    String(
                        format: "ingest:     %8.0f messages/s (%.2f s)",
                        result.messagesPerSecond,
                        result.seconds
                    ),
                    String(
                        format: "latency:    p50 %.2f ms, p99 %.2f ms, max %.2f ms",
                        result.p50Milliseconds,
                        result.p99Milliseconds,
                        result.maxMilliseconds
                    ),
                    String(
                        format: "deliveries: %8d, %.0f/s (from the first request to the last delivery), in %d calls",
                        result.deliveries,
                        result.deliveriesPerSecond,
                        result.deliveryCalls
                    ),
                    "missing from transcripts: \(result.missing.count)"
                        + (result.refused > 0 ? ", refused: \(result.refused)" : ""),
                    "target (>= 5000 messages/s, p99 < 50 ms): " + (targetMet ? "met" : "NOT met"),
                ]
                if let reference = result.reference {
                    lines.insert(
                        String(
                            format: "reference:  %8.0f requests/s, p99 %.2f ms (GET /healthz, same senders and client)",
                            reference.requestsPerSecond,
                            reference.p99Milliseconds
                        ),
                        at: 3
                    )
                    lines.insert(
                        String(
                            format: "ratio ingest / reference: %.1f %%",
                            result.messagesPerSecond / reference.requestsPerSecond * 100
                        ),
                        at: 4
                    )
                }
                print(lines.joined(separator: "\n"))
            }
            if !result.missing.isEmpty {
                for id in result.missing.prefix(20) { FileHandle.standardError.write(Data("missing: \(id)\n".utf8)) }
                throw ExitCode(1)
            }
        }
    }
}
