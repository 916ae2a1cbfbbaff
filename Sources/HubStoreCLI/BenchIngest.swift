import ArgumentParser
import Foundation
import HubDomain
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
                acknowledged messages/s, p50/p99 latency and deliveries/s; the writer's stages from the \
                hub's /metrics (queue wait and time per command, batch end and commit/fsync per batch, \
                delivery per call); the store's bytes per message (tables and indexes, by dbstat) and \
                the peak RSS of the hub's process (in this process, the load generator's too). Then it \
                checks that every acknowledged message is in its \
                transcript; a loss is printed and exits 1.

                With --url it drives a server in another process on this machine (its callbacks come \
                back to a receiver here), so that the load generator's CPU is told apart from the hub's; \
                --token is then an operator token of that server with the scopes to configure, send, \
                read transcripts and /metrics (hubstore.admin, hubstore.query and the conversation \
                manager's), and --data, if given, is its data directory, read for the sizes.

                With the reference it also prints the CPU a message and a reference request cost (this \
                process's, or with --url the server's and this process's) and the cores each workload kept \
                busy: while both keep the cores as busy, the ratio of a request's CPU to a message's is \
                the ceiling of the throughput ratio.

                Targets (issue 18): at least 10,000 messages/s with p99 under 25 ms and at least 0.4 \
                times the GET /healthz reference; at most 1,500 bytes per message; RSS under 150 MB.
                """
        )

        @Option(help: "Messages to send in all.")
        var messages = 60_000

        @Option(help: "Concurrent senders.")
        var senders = 64

        @Option(help: "full or normal.")
        var synchronous: ConnectionConfiguration.Synchronous = .full

        @Option(
            help: "Keep the hub's data in this directory (default: a temporary one, removed); with --url, the server's."
        )
        var data: String?

        @Option(help: "Drive the server at this URL (http://host:port) instead of a hub in this process.")
        var url: String?

        @Option(help: "The operator token for --url.")
        var token: String?

        @Flag(help: "Skip the reference (the same senders doing GET /healthz).")
        var noReference = false

        @Flag(help: "The writer waits for each fsync itself instead of leaving it to a thread of its own (to compare).")
        var syncOnWriterThread = false

        @Flag(
            help: """
                Count the writer's SQL statements during the run and print the longest (runs and SQLite's \
                time per message); adds a little work to each statement. Not with --url.
                """
        )
        var sqlProfile = false

        @Flag(help: "Print the result as one JSON object on standard output.")
        var json = false

        func validate() throws {
            guard messages > 0, senders > 0 else { throw ValidationError("--messages and --senders must be positive") }
            if url != nil, token == nil {
                throw ValidationError("--url needs --token (an operator token of that server)")
            }
            if token != nil, url == nil { throw ValidationError("--token is for --url") }
            if sqlProfile, url != nil {
                throw ValidationError("--sql-profile counts the statements of a hub in this process, not with --url")
            }
        }

        func run() async throws {
            var options = IngestBenchmark.Options(
                messages: messages,
                senders: senders,
                synchronous: synchronous,
                dataDirectory: data,
                includeReference: !noReference,
                url: url,
                token: token
            )
            options.syncsOnWriterThread = syncOnWriterThread
            options.profilesSQL = sqlProfile
            let benchmark = IngestBenchmark(options: options)
            let result = try await failingClearly {
                try await benchmark.run(log: { HubStoreCommand.Bench.Append.log($0) })
            }
            let ratio = result.reference.map { result.messagesPerSecond / $0.requestsPerSecond }
            let stages = result.stages
            let targetMet =
                result.messagesPerSecond >= 10_000 && result.p99Milliseconds < 25 && (ratio ?? 0) >= 0.4
                && (result.bytesPerMessage ?? .infinity) <= 1500 && stages.peakResidentBytes < 150 * 1_048_576
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
                    "writer": [
                        "batches": stages.batches, "commands_per_batch": (stages.commandsPerBatch * 10).rounded() / 10,
                        "queue_wait_us": stages.queueWaitMicroseconds.rounded(),
                        "command_us": stages.commandMicroseconds.rounded(),
                        "batch_end_us": stages.batchEndMicroseconds.rounded(),
                        "sync_us": stages.syncMicroseconds.rounded(),
                        "fsyncs_off_thread": stages.fsyncs, "fsync_us": stages.fsyncMicroseconds.rounded(),
                        "per_command_us": stages.writerMicrosecondsPerCommand.rounded(),
                    ],
                    "delivery_call_ms": (stages.deliveryCallMilliseconds * 100).rounded() / 100,
                    "peak_rss_bytes": stages.peakResidentBytes,
                    "cpu_us_per_message": result.serverMicrosecondsPerMessage.rounded(),
                    "cpu_us_per_message_by_threads": Dictionary(
                        uniqueKeysWithValues: stages.threadCPUSeconds.map {
                            ($0.threads, ($0.seconds * 1e6 / Double(max(result.acknowledged, 1))).rounded())
                        }
                    ),
                    "storage_written_bytes_per_message":
                        (stages.storageWrittenBytes / Double(max(result.acknowledged, 1))).rounded(),
                ]
                if url != nil {
                    object["client_cpu_us_per_message"] = result.clientMicrosecondsPerMessage.rounded()
                    object["cores_busy"] = (result.coresBusy * 100).rounded() / 100
                }
                if let size = result.storeSize, let perMessage = result.bytesPerMessage {
                    object["store_bytes"] = size.bytes
                    object["bytes_per_message"] = perMessage.rounded()
                    object["store_objects"] = Dictionary(uniqueKeysWithValues: size.objects.map { ($0.name, $0.bytes) })
                }
                if let statements = result.writerStatements {
                    object["writer_sql"] = Self.statementsJSON(statements, messages: result.acknowledged)
                }
                if let reference = result.reference, let cpuRatio = result.cpuRatio {
                    object["total_cpu_us_per_message"] = result.totalMicrosecondsPerMessage.rounded()
                    object["reference_cpu_us_per_request"] = reference.totalMicrosecondsPerRequest.rounded()
                    object["reference_cores_busy"] = (reference.coresBusy * 100).rounded() / 100
                    if url != nil {
                        object["reference_server_cpu_us_per_request"] = reference.serverMicrosecondsPerRequest.rounded()
                    }
                    object["cpu_ratio"] = (cpuRatio * 1000).rounded() / 1000
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
                    String(
                        format: "writer:     %.0f batches of %.1f commands; per command: queue wait %.0f µs, "
                            + "command %.0f µs; per batch: end %.0f µs, commit %.0f µs; "
                            + "%.0f µs of writer time per command",
                        stages.batches,
                        stages.commandsPerBatch,
                        stages.queueWaitMicroseconds,
                        stages.commandMicroseconds,
                        stages.batchEndMicroseconds,
                        stages.syncMicroseconds,
                        stages.writerMicrosecondsPerCommand
                    ),
                    String(
                        format: "fsync:      %.0f off the writer's thread, %.0f µs each",
                        stages.fsyncs,
                        stages.fsyncMicroseconds
                    ),
                    String(format: "delivery:   %.2f ms per call", stages.deliveryCallMilliseconds),
                    String(format: "memory:     peak RSS %.0f MB", stages.peakResidentBytes / 1_048_576)
                        + (url == nil
                            ? " (this process: the hub and the load generator, which keeps every acknowledged id)"
                            : " (the server's process)"),
                    String(
                        format: "process:    %.0f µs of CPU and %.0f bytes sent to storage per message",
                        result.serverMicrosecondsPerMessage,
                        stages.storageWrittenBytes / Double(max(result.acknowledged, 1))
                    ) + (url == nil ? " (this process: the hub and the load generator)" : " (the server's process)"),
                    "threads:    "
                        + stages.threadCPUSeconds.map {
                            $0.threads + " "
                                + String(format: "%.0f", $0.seconds * 1e6 / Double(max(result.acknowledged, 1)))
                        }.joined(separator: ", ") + " µs of CPU per message",
                ]
                if url != nil {
                    // Both processes share this machine's cores: together they show how much of it the
                    // run used, and what is left for the hub to grow into.
                    lines.append(
                        String(
                            format: "client:     %.0f µs of CPU per message (this process: the load generator and the "
                                + "callback receiver); with the server's, %.2f of %d cores busy",
                            result.clientMicrosecondsPerMessage,
                            result.coresBusy,
                            ProcessInfo.processInfo.activeProcessorCount
                        )
                    )
                }
                lines += Self.cpuLines(result, remote: url != nil)
                lines += [
                    "missing from transcripts: \(result.missing.count)"
                        + (result.refused > 0 ? ", refused: \(result.refused)" : "")
                ]
                if let size = result.storeSize, let perMessage = result.bytesPerMessage {
                    let largest = size.objects.prefix(6).map { "\($0.name) \(ByteSizeText.format($0.bytes))" }
                    lines.append(
                        String(format: "store:      %.0f bytes per message", perMessage)
                            + " (\(ByteSizeText.format(size.bytes)) in all; \(largest.joined(separator: ", ")))"
                    )
                }
                if let statements = result.writerStatements {
                    lines += Self.statementLines(statements, messages: result.acknowledged)
                }
                lines.append(
                    "target (>= 10000 messages/s, p99 < 25 ms, ratio >= 0.4, <= 1500 bytes/message, RSS < 150 MB): "
                        + (targetMet ? "met" : "NOT met")
                )
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

        /// What a message costs in CPU against a reference request, both processes together: the
        /// ceiling that CPU sets on the throughput ratio while both workloads keep the cores as busy.
        static func cpuLines(_ result: IngestBenchmark.Result, remote: Bool) -> [String] {
            guard let reference = result.reference, let cpuRatio = result.cpuRatio else { return [] }
            return [
                String(
                    format: "cpu:        %.0f µs per message, %.0f µs per GET /healthz request (%@); "
                        + "cores busy %.2f and %.2f",
                    result.totalMicrosecondsPerMessage,
                    reference.totalMicrosecondsPerRequest,
                    remote
                        ? String(
                            format: "the server's %.0f and %.0f, this process's %.0f and %.0f",
                            result.serverMicrosecondsPerMessage,
                            reference.serverMicrosecondsPerRequest,
                            result.clientMicrosecondsPerMessage,
                            reference.clientMicrosecondsPerRequest
                        ) : "this process: the hub and the load generator",
                    result.coresBusy,
                    reference.coresBusy
                ),
                String(
                    format: "cpu ratio:  %.3f (a request's CPU over a message's: the ratio's ceiling at equal cores "
                        + "busy; a ratio of 0.4 needs a message to cost at most 2.5 requests, here %.1f)",
                    cpuRatio,
                    1 / max(cpuRatio, 1e-9)
                ),
            ]
        }

        /// The writer's statements by SQLite's time per message, longest first: the SQL (one line,
        /// shortened), runs per message, time per run and per message, share of all the writer's SQL.
        static func statementLines(_ statements: [StatementProfile.Entry], messages: Int) -> [String] {
            let count = Double(max(messages, 1))
            let total = Double(statements.reduce(0) { $0 + $1.nanoseconds })
            var lines = [
                String(
                    format: "writer SQL: %.1f µs per message in %.1f statements (SQLite's time, first step to last)",
                    total / 1000 / count,
                    Double(statements.reduce(0) { $0 + $1.runs }) / count
                )
            ]
            for entry in statements.prefix(15) {
                lines.append(
                    String(
                        format: "  %6.2f per message %8.2f µs each %7.2f µs per message %5.1f %%  ",
                        Double(entry.runs) / count,
                        Double(entry.nanoseconds) / 1000 / Double(max(entry.runs, 1)),
                        Double(entry.nanoseconds) / 1000 / count,
                        total > 0 ? Double(entry.nanoseconds) / total * 100 : 0
                    ) + oneLine(entry.sql, limit: 110)
                )
            }
            return lines
        }

        static func statementsJSON(_ statements: [StatementProfile.Entry], messages: Int) -> [String: Any] {
            let count = Double(max(messages, 1))
            let total = statements.reduce(0) { $0 + $1.nanoseconds }
            return [
                "us_per_message": (Double(total) / 1000 / count * 10).rounded() / 10,
                "statements": statements.prefix(30).map { entry -> [String: Any] in
                    [
                        "sql": oneLine(entry.sql, limit: 400),
                        "runs_per_message": (Double(entry.runs) / count * 1000).rounded() / 1000,
                        "us_each": (Double(entry.nanoseconds) / 1000 / Double(max(entry.runs, 1)) * 100).rounded()
                            / 100,
                        "us_per_message": (Double(entry.nanoseconds) / 1000 / count * 100).rounded() / 100,
                    ]
                },
            ]
        }

        /// `sql` on one line, runs of whitespace made one space, cut at `limit` characters.
        static func oneLine(_ sql: String, limit: Int) -> String {
            let words = sql.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).joined(separator: " ")
            return words.count > limit ? String(words.prefix(limit - 1)) + "…" : words
        }
    }
}
