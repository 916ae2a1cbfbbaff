import Crypto
public import HubSQLite

/// A table's content in a few bytes: its row count and a digest of its rows that does not depend on
/// their order (so their physical order, rowids included, does not matter: two tables with the same
/// rows have the same fingerprint). Each row's SHA-256 covers every column in order, each as its
/// storage class, length and stored bytes; the table's digest is the sum of its rows' digests as
/// 256-bit integers — a multiset hash, which needs no sort of the table.
public struct TableFingerprint: Sendable, Equatable, CustomStringConvertible {
    public var table: String
    public var rows: Int64
    /// Lowercase hex, 32 bytes.
    public var digest: String

    public var description: String { "\(table): \(rows) rows, \(digest.prefix(16))" }

    /// Fingerprints `table` of the schema `schema` (`main`, or an attached database's name).
    public static func compute(_ table: String, _ connection: Connection, schema: String = "main") throws -> Self {
        let source = try indexSource(table, schema, connection)
        let columns = try columns(source, schema, connection)
        let statement = try connection.prepare(
            sql: "SELECT \(columns.joined(separator: ", ")) FROM \(schema).\(source)"
        )
        // Little-endian 64-bit limbs, least significant first.
        var sum: [UInt64] = [0, 0, 0, 0]
        var rows: Int64 = 0
        // A row's bytes, gathered and hashed at once (one digest update a row, not two a column).
        var row: [UInt8] = []
        row.reserveCapacity(4096)
        while try statement.step() {
            row.removeAll(keepingCapacity: true)
            for column in columns.indices {
                statement.withStoredValue(at: column) { type, bytes in
                    withUnsafeBytes(of: (UInt32(type).littleEndian, UInt32(bytes.count).littleEndian)) {
                        row.append(contentsOf: $0)
                    }
                    row.append(contentsOf: bytes)
                }
            }
            SHA256.hash(data: row).withUnsafeBytes { digest in
                var carry: UInt64 = 0
                for limb in 0..<4 {
                    let word = UInt64(littleEndian: digest.loadUnaligned(fromByteOffset: limb * 8, as: UInt64.self))
                    let (partial, overflow) = sum[limb].addingReportingOverflow(word)
                    let (total, overflow2) = partial.addingReportingOverflow(carry)
                    sum[limb] = total
                    carry = (overflow ? 1 : 0) + (overflow2 ? 1 : 0)
                }
            }
            rows += 1
        }
        let digest = sum.reversed().map { limb in
            let hex = String(limb, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
        return TableFingerprint(table: table, rows: rows, digest: digest)
    }

    /// The first row one side has and the other lacks, between `main.table` (rebuilt) and
    /// `live.table`, described for an operator.
    package static func firstDifference(_ table: String, _ connection: Connection) throws -> String? {
        let table = try indexSource(table, "main", connection)
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

    /// What stands for `table`'s rows: the table itself, or for an FTS5 index, its documents' sizes
    /// (`<table>_docsize`: each indexed rowid and its token counts). An FTS5 table's own rows are those
    /// of its external content table (fingerprinted as itself), whatever the index holds.
    private static func indexSource(_ table: String, _ schema: String, _ connection: Connection) throws -> String {
        let shadow = table + "_docsize"
        let found = try connection.singleInt64(
            sql: "SELECT count(*) FROM \(schema).sqlite_master WHERE type = 'table' AND name = ?",
            [shadow]
        )
        return found == 1 ? shadow : table
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
