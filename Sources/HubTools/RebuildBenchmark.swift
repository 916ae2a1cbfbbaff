import Foundation
import HubCommands
@_spi(Storage) import HubEventLog
import HubReadModels
import HubSQLite
import HubVault

/// `hubstore bench rebuild`: every projection rebuilt from a store's log (DESIGN.md §10: ≥ 200,000
/// events/s), against its references in the same run: a raw SQLite scan of the same `events` table
/// that reads every column of every row through the C API, and SQLite's floor for writing the rows
/// the rebuild made (``RebuildFloor``). Scan plus floor is the least any rebuild must do.
public struct RebuildBenchmark: Sendable {
    public var dataDirectory: String
    public var runs: Int

    public init(dataDirectory: String, runs: Int) {
        self.dataDirectory = dataDirectory
        self.runs = runs
    }

    public struct Result: Sendable {
        public var events: Int64
        /// Medians over the runs.
        public var rebuildSeconds: Double
        public var scanSeconds: Double
        /// SQLite alone writing the rebuilt rows (``RebuildFloor``).
        public var floorSeconds: Double
        /// The last run's floor, per table: rows and seconds.
        public var floorTables: [(table: String, rows: Int64, seconds: Double)]
        /// SQLite alone writing the log's rows (``RebuildFloor``).
        public var logFloorSeconds: Double
        public var rows: [String: Int64]

        public var rebuildEventsPerSecond: Double { Double(events) / max(rebuildSeconds, 1e-9) }
        public var scanEventsPerSecond: Double { Double(events) / max(scanSeconds, 1e-9) }
        /// The most a rebuild could reach: every event read (the scan) and every row written (the floor).
        public var ceilingEventsPerSecond: Double { Double(events) / max(scanSeconds + floorSeconds, 1e-9) }
        /// The most an import of this log could reach: read every event, write it, write the rows.
        public var importCeilingEventsPerSecond: Double {
            Double(events) / max(scanSeconds + logFloorSeconds + floorSeconds, 1e-9)
        }
    }

    public func run(log: @Sendable (String) -> Void) async throws -> Result {
        let store = try await EventStore.open(
            EventStoreConfiguration(dataDirectory: dataDirectory),
            exclusive: false,
            readModels: .hub
        )
        do {
            let events = store.headPosition
            var rebuilds: [Double] = []
            var scans: [Double] = []
            var floors: [RebuildFloor.Result] = []
            var rows: [String: Int64] = [:]
            for run in 1...max(1, runs) {
                let scan = try await Self.scan(store.directory.databasePath)
                scans.append(scan)
                let clock = ContinuousClock()
                let started = clock.now
                let reports = try await store.rebuild([])
                let seconds = AppendBenchmark.seconds(started.duration(to: clock.now))
                rebuilds.append(seconds)
                for table in reports.flatMap(\.tables) { rows[table.table] = table.rows }
                let floor = try await RebuildFloor(
                    databasePath: store.directory.databasePath,
                    projections: store.projections.projections
                ).measure()
                floors.append(floor)
                log(
                    String(
                        format: "run %d: rebuild %.2f s (%.0f events/s), raw scan %.2f s, SQLite's write floor %.2f s",
                        run,
                        seconds,
                        Double(events) / seconds,
                        scan,
                        floor.seconds
                    )
                )
            }
            await store.close()
            return Result(
                events: events,
                rebuildSeconds: median(rebuilds),
                scanSeconds: median(scans),
                floorSeconds: median(floors.map(\.seconds)),
                floorTables: floors.last?.tables ?? [],
                logFloorSeconds: median(floors.map(\.logSeconds)),
                rows: rows
            )
        } catch {
            await store.close()
            throw error
        }
    }

    /// Reads every column of every event in log order (off the cooperative pool); returns the seconds it took.
    static func scan(_ path: String) async throws -> Double {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Swift.Result { try scanning(path) }) }
        }
    }

    private static func scanning(_ path: String) throws -> Double {
        let connection = try Connection(path: path, configuration: .init(mode: .readOnly))
        defer { connection.close() }
        let clock = ContinuousClock()
        let started = clock.now
        let statement = try connection.prepare(sql: "SELECT \(EventLog.columns) FROM events ORDER BY position")
        var bytes = 0
        while try statement.step() {
            bytes &+= Int(statement.int64(at: 0))
            for column in [1, 2, 4, 8, 11] { bytes &+= statement.text(at: column).utf8.count }
            bytes &+= statement.blob(at: 12).count
        }
        precondition(bytes != -1)
        return AppendBenchmark.seconds(started.duration(to: clock.now))
    }

    private func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted[sorted.count / 2]
    }
}
