import ArgumentParser
import Foundation
import HubEventLog
import HubSQLite
import HubTools

extension HubStoreCommand.Bench {
    struct Rebuild: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Rebuilds every projection from a store's log, against a raw scan of its events and SQLite's own floor for writing the rows.",
            discussion: """
                The store is --data when given (any data directory; it is rebuilt in place), else one made \
                first by the ingest benchmark (--messages messages from 64 senders, with their routing and \
                deliveries: realistic traffic) in a temporary directory. The first reference reads every \
                column of every event in log order through the C API. The second, SQLite's write floor, \
                copies the rebuilt tables' rows into empty tables made by the same SQL, in one transaction \
                and with no HubStore code per row (each row still goes through its indexes and FTS5). A \
                rebuild must read every event and write every row, so events / (scan + floor) is the most \
                any rebuild with these read models can reach on this machine: the ceiling. The same copy \
                of the events table is the log's floor, and events / (scan + log floor + floor) bounds \
                hubstore import (which writes the events, then rebuilds). Prints events/s \
                for each and their ratios; with --runs N, the medians of N runs. Target: >= 200,000 events/s.
                """
        )

        @Option(
            help: """
                Rebuild this data directory's projections; when it holds no store, the ingest benchmark makes \
                one there first (--messages) and it is kept (default: a temporary store, removed).
                """
        )
        var data: String?

        @Option(help: "Messages the ingest benchmark sends to make the store, without --data.")
        var messages = 100_000

        @Option(help: "Runs; the reported figures are their medians.")
        var runs = 3

        @Flag(help: "Print the result as one JSON object on standard output.")
        var json = false

        func validate() throws {
            guard messages > 0, runs > 0 else { throw ValidationError("--messages and --runs must be positive") }
        }

        func run() async throws {
            let result = try await failingClearly {
                let temporary = data == nil
                let directory =
                    data
                    ?? FileManager.default.temporaryDirectory
                    .appendingPathComponent("hubstore-bench-rebuild-\(UUID().uuidString)").path
                if !FileManager.default.fileExists(atPath: DataDirectory(path: directory).databasePath) {
                    HubStoreCommand.Bench.Append.log("making the store: \(messages) messages through bench ingest")
                    let ingest = IngestBenchmark(
                        options: .init(
                            messages: messages,
                            senders: 64,
                            synchronous: .normal,
                            dataDirectory: directory,
                            includeReference: false
                        )
                    )
                    _ = try await ingest.run(log: { HubStoreCommand.Bench.Append.log($0) })
                }
                defer { if temporary { try? FileManager.default.removeItem(atPath: directory) } }
                let result = try await RebuildBenchmark(dataDirectory: directory, runs: runs)
                    .run(log: { HubStoreCommand.Bench.Append.log($0) })
                guard result.events > 0 else { throw CLIFailure("the store has no events to rebuild") }
                return result
            }
            let ratio = result.rebuildEventsPerSecond / result.scanEventsPerSecond
            let ofCeiling = result.rebuildEventsPerSecond / result.ceilingEventsPerSecond
            let targetMet = result.rebuildEventsPerSecond >= 200_000
            if json {
                let object: [String: Any] = [
                    "events": result.events, "runs": runs,
                    "rebuild_seconds": (result.rebuildSeconds * 1000).rounded() / 1000,
                    "rebuild_events_per_s": result.rebuildEventsPerSecond.rounded(),
                    "scan_seconds": (result.scanSeconds * 1000).rounded() / 1000,
                    "scan_events_per_s": result.scanEventsPerSecond.rounded(),
                    "ratio": (ratio * 1000).rounded() / 1000, "rows": result.rows, "target_met": targetMet,
                    "floor_seconds": (result.floorSeconds * 1000).rounded() / 1000,
                    "ceiling_events_per_s": result.ceilingEventsPerSecond.rounded(),
                    "ratio_to_ceiling": (ofCeiling * 1000).rounded() / 1000,
                    "log_floor_seconds": (result.logFloorSeconds * 1000).rounded() / 1000,
                    "import_ceiling_events_per_s": result.importCeilingEventsPerSecond.rounded(),
                    "floor_tables": result.floorTables.map { table -> [String: Any] in
                        ["table": table.table, "rows": table.rows, "seconds": (table.seconds * 1000).rounded() / 1000]
                    },
                ]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
                return
            }
            print(
                [
                    "events: \(result.events); rows: "
                        + result.rows.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "),
                    String(
                        format: "rebuild:  %9.0f events/s (%.2f s)",
                        result.rebuildEventsPerSecond,
                        result.rebuildSeconds
                    ),
                    String(format: "raw scan: %9.0f events/s (%.2f s)", result.scanEventsPerSecond, result.scanSeconds),
                    String(format: "ratio rebuild / raw scan: %.1f %%", ratio * 100),
                    String(format: "SQLite's write floor: %.2f s (", result.floorSeconds)
                        + result.floorTables.sorted { $0.seconds > $1.seconds }.prefix(6)
                        .map { "\($0.table) " + String(format: "%.2f s", $0.seconds) }.joined(separator: ", ") + ")",
                    String(
                        format: "ceiling (events / (scan + floor)): %9.0f events/s; rebuild / ceiling: %.1f %%",
                        result.ceilingEventsPerSecond,
                        ofCeiling * 100
                    ),
                    String(
                        format:
                            "log floor: %.2f s; import ceiling (events / (scan + log floor + floor)): %.0f events/s",
                        result.logFloorSeconds,
                        result.importCeilingEventsPerSecond
                    ),
                    "target (>= 200000 events/s): " + (targetMet ? "met" : "NOT met")
                        + (result.ceilingEventsPerSecond < 200_000 ? " (above this machine's ceiling)" : ""),
                ].joined(separator: "\n")
            )
        }
    }
}
