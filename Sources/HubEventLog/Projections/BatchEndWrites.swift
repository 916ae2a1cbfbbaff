import HubSQLite

/// What projections hold back to the end of the writer's batch (or of a rebuild's chunk): writes run
/// in the order they were asked for, then counter increments summed per row, one upsert a row.
///
/// Held back, an FTS5 table writes one segment a batch instead of one a message, and a counter row
/// that every message bumps (an hour's metrics) is written once a batch instead of once a message,
/// by a statement that needs no statement journal per message. Entries are kept in order, so the
/// entries of a command or append that is rolled back are dropped by truncating to a mark.
struct BatchEndWrites {
    private enum Entry {
        case write(sql: String, arguments: [any SQLiteBindable])
        case increment(Increment)
    }

    /// `columns += amounts` on the row of `table` whose `keyColumns` are `key`.
    struct Increment {
        var table: String
        var keyColumns: [String]
        var key: [any SQLiteBindable]
        /// `key` as text, to sum increments of one row.
        var keyText: String
        var columns: [String]
        var amounts: [Int64]
    }

    private var entries: [Entry] = []

    var mark: Int { entries.count }
    var isEmpty: Bool { entries.isEmpty }

    mutating func write(sql: String, _ arguments: [any SQLiteBindable]) {
        entries.append(.write(sql: sql, arguments: arguments))
    }

    mutating func increment(_ increment: Increment) {
        entries.append(.increment(increment))
    }

    mutating func discard(after mark: Int) {
        if entries.count > mark { entries.removeSubrange(mark...) }
    }

    /// Runs the writes in order, then one upsert per incremented row (increments commute with each
    /// other; a projection does not both write and increment one table at the batch's end).
    mutating func flush(_ connection: Connection) throws(SQLiteError) {
        defer { entries.removeAll(keepingCapacity: true) }
        var rows: [String: Increment] = [:]
        var order: [String] = []
        for entry in entries {
            switch entry {
            case .write(let sql, let arguments):
                try connection.run(sql: sql, arguments)
            case .increment(let increment):
                let id = increment.table + "\u{1}" + increment.keyText
                guard var row = rows[id] else {
                    rows[id] = increment
                    order.append(id)
                    continue
                }
                for (column, amount) in zip(increment.columns, increment.amounts) {
                    if let index = row.columns.firstIndex(of: column) {
                        row.amounts[index] += amount
                    } else {
                        row.columns.append(column)
                        row.amounts.append(amount)
                    }
                }
                rows[id] = row
            }
        }
        for id in order {
            guard let row = rows[id] else { continue }
            let names = (row.keyColumns + row.columns).joined(separator: ", ")
            let marks = Array(repeating: "?", count: row.keyColumns.count + row.columns.count).joined(separator: ", ")
            let sums = row.columns.map { "\($0) = \($0) + excluded.\($0)" }.joined(separator: ", ")
            try connection.run(
                sql: """
                    INSERT INTO \(row.table) (\(names)) VALUES (\(marks))
                    ON CONFLICT (\(row.keyColumns.joined(separator: ", "))) DO UPDATE SET \(sums)
                    """,
                row.key + row.amounts.map { $0 as any SQLiteBindable }
            )
        }
    }
}
