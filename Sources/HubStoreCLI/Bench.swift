import ArgumentParser
import Foundation
import HubSQLite
import HubTools
import Synchronization

extension HubStoreCommand {
    struct Bench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure HubStore against its references, in one run.",
            subcommands: [Append.self, Ingest.self, Rebuild.self, Replay.self, Query.self]
        )
    }
}

extension HubStoreCommand.Bench {
    struct Append: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Appends through the group-commit writer vs raw SQLite inserts at the same batch size.",
            discussion: """
                (a) HubStore: many concurrent submitters append one event each through the writer; \
                (b) raw SQLite: the same rows through the C API with a prepared statement, the same \
                schema and indexes, in batches of the average size (a) achieved. Prints events/s for \
                each and their ratio. With --runs N, the figures are the medians of N runs.
                """
        )

        @Option(help: "Events to append in each run.")
        var events = 100_000

        @Option(help: "Concurrent submitters.")
        var submitters = 256

        @Option(help: "Streams the events are spread over (interleaved).")
        var streams = 2000

        @Option(help: "Bytes of JSON data per event.")
        var payloadBytes = 300

        @Option(help: "full or normal.")
        var synchronous: ConnectionConfiguration.Synchronous = .full

        @Option(
            help: "The longest (µs) an idle writer lets a batch grow while commands keep arriving."
        )
        var batchWaitMicroseconds = 250

        @Option(help: "The most commands in one batch.")
        var maxBatch = 1024

        @Option(help: "Runs; the reported figures are their medians.")
        var runs = 1

        @Option(help: "Keep HubStore's store in this data directory (default: a temporary one, removed).")
        var data: String?

        @Flag(help: "Print each event id on standard output once its commit returned (crash tests).")
        var reportAcks = false

        @Flag(help: "Skip the raw SQLite reference.")
        var noRaw = false

        @Flag(help: "Print the result as one JSON object on standard output.")
        var json = false

        func validate() throws {
            guard events > 0, submitters > 0, streams > 0, runs > 0, maxBatch > 0 else {
                throw ValidationError("--events, --submitters, --streams, --runs and --max-batch must be positive")
            }
            guard payloadBytes >= 32 else { throw ValidationError("--payload-bytes must be at least 32") }
            guard data == nil || runs == 1 else { throw ValidationError("--data takes one run (--runs 1)") }
        }

        func run() async throws {
            let benchmark = AppendBenchmark(
                options: .init(
                    events: events,
                    submitters: submitters,
                    streams: streams,
                    payloadBytes: payloadBytes,
                    synchronous: synchronous,
                    batchWait: .microseconds(batchWaitMicroseconds),
                    maxBatchSize: maxBatch,
                    dataDirectory: data,
                    includeRaw: !noRaw
                )
            )
            let acks = reportAcks ? AckPrinter() : nil
            let acknowledged: (@Sendable (String) -> Void)?
            if let acks { acknowledged = { id in acks.print(id) } } else { acknowledged = nil }
            let runs = self.runs
            var results: [AppendBenchmark.Run] = []
            try await failingClearly {
                for index in 1...runs {
                    let run = try await benchmark.run(
                        acknowledged: acknowledged,
                        log: { Self.log("run \(index)/\(runs): \($0)") }
                    )
                    acks?.flush()
                    results.append(run)
                }
            }
            let summary = Summary(runs: results, options: benchmark.options)
            if json {
                print(try summary.json())
            } else if !reportAcks {
                print(summary.text())
            }
        }

        static func log(_ line: String) {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }
}

/// The medians over runs, as text or JSON.
private struct Summary {
    let runs: [AppendBenchmark.Run]
    let options: AppendBenchmark.Options

    func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted.count % 2 == 1
            ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    var hubstore: Double { median(runs.map(\.hubstoreEventsPerSecond)) }
    var raw: Double? {
        runs.allSatisfy { $0.rawEventsPerSecond != nil } ? median(runs.compactMap(\.rawEventsPerSecond)) : nil
    }
    var ratio: Double? { runs.allSatisfy { $0.ratio != nil } ? median(runs.compactMap(\.ratio)) : nil }
    var averageBatch: Double { median(runs.map(\.averageBatchSize)) }

    func text() -> String {
        var lines = [
            "events: \(options.events) per run, \(runs.count) run(s), synchronous=\(options.synchronous.rawValue), "
                + "\(options.submitters) submitters, \(options.streams) streams, \(options.payloadBytes)-byte data",
            String(format: "hubstore (writer, group commit): %10.0f events/s", hubstore),
        ]
        if let raw, let ratio {
            lines.append(String(format: "raw SQLite (same batch size):    %10.0f events/s", raw))
            lines.append(String(format: "ratio hubstore / raw:            %10.1f %%", ratio * 100))
        }
        let smallest = runs.map(\.smallestBatch).min() ?? 0
        let largest = runs.map(\.largestBatch).max() ?? 0
        lines.append(
            String(
                format: "writer batches: average %.1f commands, smallest %d, largest %d",
                averageBatch,
                smallest,
                largest
            )
        )
        if runs.count > 1 {
            for (index, run) in runs.enumerated() {
                lines.append(
                    String(
                        format: "  run %d: hubstore %.0f/s, raw %.0f/s, ratio %.3f, average batch %.1f",
                        index + 1,
                        run.hubstoreEventsPerSecond,
                        run.rawEventsPerSecond ?? 0,
                        run.ratio ?? 0,
                        run.averageBatchSize
                    )
                )
            }
        }
        return lines.joined(separator: "\n")
    }

    func json() throws -> String {
        var object: [String: Any] = [
            "events": options.events,
            "runs": runs.count,
            "synchronous": options.synchronous.rawValue,
            "submitters": options.submitters,
            "streams": options.streams,
            "payload_bytes": options.payloadBytes,
            "hubstore_events_per_s": hubstore.rounded(),
            "avg_batch_size": (averageBatch * 10).rounded() / 10,
            "min_batch_size": runs.map(\.smallestBatch).min() ?? 0,
            "max_batch_size": runs.map(\.largestBatch).max() ?? 0,
            "per_run": runs.map { run -> [String: Any] in
                [
                    "hubstore_events_per_s": run.hubstoreEventsPerSecond.rounded(),
                    "raw_events_per_s": (run.rawEventsPerSecond ?? 0).rounded(),
                    "ratio": ((run.ratio ?? 0) * 1000).rounded() / 1000,
                    "avg_batch_size": (run.averageBatchSize * 10).rounded() / 10,
                    "batches": run.batches,
                ]
            },
        ]
        if let raw, let ratio {
            object["raw_events_per_s"] = raw.rounded()
            object["ratio"] = (ratio * 1000).rounded() / 1000
        }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}

/// Prints acknowledged ids to standard output in chunks (a line each); what is printed was committed.
final class AckPrinter: Sendable {
    private let buffer = Mutex<[UInt8]>([])

    func print(_ id: String) {
        let chunk: [UInt8]? = buffer.withLock { buffer in
            buffer.append(contentsOf: id.utf8)
            buffer.append(0x0A)
            guard buffer.count >= 4096 else { return nil }
            defer { buffer.removeAll(keepingCapacity: true) }
            return buffer
        }
        if let chunk { write(chunk) }
    }

    func flush() {
        let chunk = buffer.withLock { buffer in
            defer { buffer.removeAll(keepingCapacity: true) }
            return buffer
        }
        if !chunk.isEmpty { write(chunk) }
    }

    private func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Foundation.write(STDOUT_FILENO, raw.baseAddress! + offset, raw.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }
}
