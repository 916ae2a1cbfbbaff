import Crypto
public import HubSQLite

/// A table's content in a few bytes: its row count and a SHA-256 over its rows, each rendered with
/// SQLite's `quote()` and taken in the order of all their columns (so the rows' physical order,
/// rowids included, does not matter; two tables with the same rows have the same fingerprint).
public struct TableFingerprint: Sendable, Equatable, CustomStringConvertible {
    public var table: String
    public var rows: Int64
    /// Lowercase hex SHA-256.
    public var digest: String

    public var description: String { "\(table): \(rows) rows, \(digest.prefix(16))" }

    /// Fingerprints `table` of the schema `schema` (`main`, or an attached database's name).
    public static func compute(_ table: String, _ connection: Connection, schema: String = "main") throws -> Self {
        let statement = try connection.prepare(
            sql: "SELECT \(rowText(try columns(table, schema, connection))) FROM \(schema).\(table) ORDER BY 1"
        )
        var hasher = SHA256()
        var rows: Int64 = 0
        while try statement.step() {
            statement.withBlob(at: 0) { hasher.update(bufferPointer: $0) }
            hasher.update(data: [0x0A])
            rows += 1
        }
        let digest = Array(hasher.finalize()).hexEncoded
        return TableFingerprint(table: table, rows: rows, digest: digest)
    }

    /// The first row one side has and the other lacks, between `main.table` (rebuilt) and
    /// `live.table`, described for an operator.
    package static func firstDifference(_ table: String, _ connection: Connection) throws -> String? {
        let row = rowText(try columns(table, "main", connection))
        let names = try columns(table, "main", connection).joined(separator: ", ")
        let onlyRebuilt = try connection.singleText(
            sql:
                "SELECT * FROM (SELECT \(row) FROM main.\(table) EXCEPT SELECT \(row) FROM live.\(table)) ORDER BY 1 LIMIT 1"
        )
        let onlyLive = try connection.singleText(
            sql:
                "SELECT * FROM (SELECT \(row) FROM live.\(table) EXCEPT SELECT \(row) FROM main.\(table)) ORDER BY 1 LIMIT 1"
        )
        var parts: [String] = []
        func shortened(_ row: String) -> String { row.count > 300 ? row.prefix(300) + "…" : row }
        if let onlyLive { parts.append("live row (\(names)) = (\(shortened(onlyLive))) is not what the log gives") }
        if let onlyRebuilt { parts.append("the log gives (\(shortened(onlyRebuilt))), missing from the live table") }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }

    private static func columns(_ table: String, _ schema: String, _ connection: Connection) throws -> [String] {
        let statement = try connection.prepare(sql: "SELECT name FROM pragma_table_info(?, ?) ORDER BY cid")
        try statement.bind([table, schema])
        var names: [String] = []
        while try statement.step() { names.append(statement.text(at: 0)) }
        guard !names.isEmpty else { throw SQLiteError(code: .error, message: "no table \(schema).\(table)") }
        return names
    }

    /// One text per row: every column quoted, separated by commas.
    private static func rowText(_ columns: [String]) -> String {
        columns.map { "quote(\($0))" }.joined(separator: " || ',' || ")
    }
}
