import ArgumentParser
import Foundation
import HubTools

extension HubStoreCommand.Bench {
    struct Query: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The query API on a store of realistic traffic: transcript, search, analytics, the live tail.",
            discussion: """
                Makes a store with the ingest benchmark's mix (--messages messages, about three events \
                each) plus one conversation of 200 messages, in a hub in this process. Then, each as \
                sequential requests over one keep-alive client: the 200-message transcript, full-text \
                searches, 30 days of analytics for all accounts per day, beside the same client's \
                GET /healthz (the reference). Then ingest of --tail-messages alone; again while \
                --subscribers SSE subscribers follow GET /v1/events/live from the head; and again while \
                as many read it from position 1, catching up over the whole log. Every subscriber checks \
                that each position arrives once and in order. Targets: transcript p99 < 5 ms, search \
                p99 < 50 ms, analytics < 200 ms, at least 20,000 events/s to each subscriber (catching \
                up), ingest's ratio to its reference at most 10 % lower with live subscribers than \
                without. A gap or duplicate exits 1.
                """
        )

        @Option(help: "Messages the ingest benchmark sends to make the store.")
        var messages = 470_000

        @Option(
            help: "Messages of each of the three ingest phases (alone, with live subscribers, with catching-up ones)."
        )
        var tailMessages = 30_000

        @Option(help: "SSE subscribers during the second and the third ingest phase.")
        var subscribers = 10

        @Option(help: "Sequential requests for the transcript, search and reference latencies.")
        var requests = 1000

        @Option(help: "Make the store here and keep it; a store an earlier run kept here is measured again.")
        var data: String?

        @Flag(help: "Print the result as one JSON object on standard output.")
        var json = false

        func validate() throws {
            guard messages > 0, tailMessages > 0, subscribers >= 0, requests > 0 else {
                throw ValidationError("--messages, --tail-messages and --requests must be positive")
            }
        }

        func run() async throws {
            let result = try await failingClearly {
                try await QueryBenchmark(
                    options: .init(
                        messages: messages,
                        tailMessages: tailMessages,
                        subscribers: subscribers,
                        requests: requests,
                        dataDirectory: data
                    )
                ).run(log: { HubStoreCommand.Bench.Append.log($0) })
            }
            let aloneRatio = result.ingestAlone / max(result.ingestReferenceRequestsPerSecond, 1e-9)
            let withRatio = result.ingestWithSubscribers / max(result.ingestReferenceRequestsPerSecond, 1e-9)
            let slowest = (result.catchUpEventsPerSecond + result.liveEventsPerSecond).min() ?? 0
            let slowestCatchUp = result.catchUpEventsPerSecond.min() ?? 0
            let targets: [(String, Bool)] = [
                ("transcript p99 < 5 ms", result.transcript.p99 < 5),
                ("search p99 < 50 ms", result.search.p99 < 50),
                ("analytics < 200 ms", result.analytics.max < 200),
                ("live tail >= 20000 events/s to each subscriber (catching up)", slowestCatchUp >= 20_000),
                ("ingest ratio with live subscribers >= 90 % of without", withRatio >= 0.9 * aloneRatio),
            ]
            func round(_ value: Double, _ places: Double = 100) -> Double { (value * places).rounded() / places }
            if json {
                func latency(_ value: QueryBenchmark.Latency) -> [String: Any] {
                    ["p50_ms": round(value.p50), "p99_ms": round(value.p99), "max_ms": round(value.max)]
                }
                let object: [String: Any] = [
                    "events": result.events, "conversations": result.conversations,
                    "reference_healthz": latency(result.reference), "transcript_200": latency(result.transcript),
                    "search": latency(result.search), "analytics_30_days": latency(result.analytics),
                    "analytics_agents": latency(result.agents),
                    "catch_up_events_per_s": result.catchUpEventsPerSecond.map { $0.rounded() },
                    "live_events_per_s": result.liveEventsPerSecond.map { $0.rounded() },
                    "gaps": result.gaps,
                    "ingest_reference_requests_per_s": result.ingestReferenceRequestsPerSecond.rounded(),
                    "ingest_alone_messages_per_s": result.ingestAlone.rounded(),
                    "ingest_with_subscribers_messages_per_s": result.ingestWithSubscribers.rounded(),
                    "ingest_ratio_alone": round(aloneRatio, 1000),
                    "ingest_ratio_with_subscribers": round(withRatio, 1000),
                    "targets": Dictionary(uniqueKeysWithValues: targets.map { ($0.0, $0.1) }),
                ]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                func line(_ name: String, _ value: QueryBenchmark.Latency) -> String {
                    String(format: "%@ p50 %6.2f ms  p99 %6.2f ms  max %6.2f ms", name, value.p50, value.p99, value.max)
                }
                var lines = [
                    "store: \(result.events) events, \(result.conversations) conversations",
                    line("GET /healthz (reference)     ", result.reference),
                    line("transcript, 200 messages     ", result.transcript),
                    line("search                       ", result.search),
                    line("analytics, 30 days per day   ", result.analytics),
                    line("analytics per agent          ", result.agents),
                    "live tail, catching up from 1: "
                        + result.catchUpEventsPerSecond.map { String(format: "%.0f", $0) }.joined(separator: ", ")
                        + " events/s",
                    "live tail, following the head: "
                        + result.liveEventsPerSecond.map { String(format: "%.0f", $0) }.joined(separator: ", ")
                        + " events/s (the ingest's own rate)",
                    "gaps or duplicates: \(result.gaps)",
                    String(
                        format:
                            "ingest: %.0f messages/s alone (ratio %.3f to GET /healthz %.0f/s), %.0f with subscribers (ratio %.3f)",
                        result.ingestAlone,
                        aloneRatio,
                        result.ingestReferenceRequestsPerSecond,
                        result.ingestWithSubscribers,
                        withRatio
                    ),
                    String(format: "slowest subscriber: %.0f events/s", slowest),
                ]
                lines += targets.map { "target (\($0.0)): " + ($0.1 ? "met" : "NOT met") }
                print(lines.joined(separator: "\n"))
            }
            if result.gaps > 0 { throw ExitCode.failure }
        }
    }
}
