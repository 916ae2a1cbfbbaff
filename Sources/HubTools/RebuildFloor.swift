import Foundation
@_spi(Storage) import HubEventLog
import HubSQLite

/// The second reference of `hubstore bench rebuild`: what SQLite alone takes to write the rows a
/// rebuild made, with no HubStore code per row. Every projection table of the store (just rebuilt)
/// is copied, row by row in its stored order, into empty tables made by the projections' own SQL in
/// a scratch database, in one transaction: `INSERT … SELECT` (with a `WHERE` that keeps SQLite from
/// copying the b-trees' pages whole, so each row goes through the indexes and FTS5 as a rebuild's
/// insert does).
///
/// A lower bound: one transaction instead of a rebuild's many, rows arriving in order, nothing
/// decoded or decrypted. A rebuild must read every event (the raw scan) and write these rows, so
/// `events / (scan + writes)` is the most any rebuild on this machine, with these read models, can
/// reach.
///
/// The same copy of the log's tables (their own SQL, indexes included) is the log's floor: an import
/// writes every event and then the rows, so `events / (scan + log + writes)` bounds an import.
struct RebuildFloor {
    struct Result {
        /// The projections' rows.
        var seconds: Double
        /// Seconds per table, in the order written.
        var tables: [(table: String, rows: Int64, seconds: Double)]
        /// The log's rows.
        var logSeconds: Double
    }

    let databasePath: String
    let projections: [any Projection]

    /// Runs off the cooperative pool.
    func measure() async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Swift.Result { try measuring() }) }
        }
    }

    private func measuring() throws -> Result {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("hubstore-bench-floor-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let connection = try Connection(
            path: directory.appendingPathComponent("floor.sqlite").path,
            configuration: .init(journalModeWAL: true, synchronous: .normal, foreignKeys: false)
        )
        defer { connection.close() }
        try connection.run(sql: "ATTACH DATABASE ? AS live", [databasePath])
        for projection in projections {
            for statement in projection.schema.statements(naming: [:]) { try connection.execute(sql: statement) }
        }
        let tables = projections.flatMap(\.schema.tables)
        let clock = ContinuousClock()
        var timings: [(table: String, rows: Int64, seconds: Double)] = []
        var started = clock.now
        try connection.transaction {
            for table in tables {
                let tableStarted = clock.now
                let columns = try Self.columns(of: table, connection)
                let list = columns.map { "\"\($0)\"" }.joined(separator: ", ")
                let virtual = try Self.isVirtual(table, connection)
                // A virtual table's rowid is not among its columns; the WHERE keeps the copy row by row.
                let copy =
                    virtual
                    ? "INSERT INTO main.\"\(table)\" (rowid, \(list)) SELECT rowid, \(list) FROM live.\"\(table)\""
                    : "INSERT INTO main.\"\(table)\" (\(list)) SELECT \(list) FROM live.\"\(table)\" WHERE 1"
                try connection.execute(sql: copy)
                let seconds = AppendBenchmark.seconds(tableStarted.duration(to: clock.now))
                timings.append((table, try connection.singleInt64(sql: "SELECT changes()") ?? 0, seconds))
            }
        }
        let seconds = AppendBenchmark.seconds(started.duration(to: clock.now))
        let log = try connection.prepare(
            sql: """
                SELECT sql FROM live.sqlite_schema
                WHERE tbl_name IN ('event_names', 'event_records') AND type IN ('table', 'index') AND sql IS NOT NULL
                ORDER BY type = 'index'
                """
        )
        while try log.step() { try connection.execute(sql: log.text(at: 0)) }
        started = clock.now
        try connection.transaction {
            for table in ["event_names", "event_records"] {
                try connection.execute(sql: "INSERT INTO main.\(table) SELECT * FROM live.\(table) WHERE 1")
            }
        }
        return Result(
            seconds: seconds,
            tables: timings,
            logSeconds: AppendBenchmark.seconds(started.duration(to: clock.now))
        )
    }

    private static func columns(of table: String, _ connection: Connection) throws(SQLiteError) -> [String] {
        let statement = try connection.prepare(sql: "SELECT name FROM pragma_table_info(?, 'live')")
        try statement.bind([table])
        var names: [String] = []
        while try statement.step() { names.append(statement.text(at: 0)) }
        return names
    }

    private static func isVirtual(_ table: String, _ connection: Connection) throws(SQLiteError) -> Bool {
        let sql = try connection.singleText(sql: "SELECT sql FROM live.sqlite_schema WHERE name = ?", [table])
        return sql?.uppercased().hasPrefix("CREATE VIRTUAL TABLE") ?? false
    }
}
