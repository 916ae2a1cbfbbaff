import CHubSQLite

/// An error reported by SQLite, captured at the moment it happened.
///
/// The message belongs to the connection and is overwritten by the next call, so it is copied
/// into the error immediately, together with the extended code and the SQL that failed.
public struct SQLiteError: Error, Sendable, CustomStringConvertible {
    /// The extended result code (extended codes are always turned on by ``Connection``).
    public let extendedCode: ResultCode
    /// SQLite's own message for the failure.
    public let message: String
    /// The SQL statement being prepared or executed, when there was one.
    public let sql: String?

    /// The primary result code.
    public var code: ResultCode { extendedCode.primary }

    public init(code: ResultCode, message: String, sql: String? = nil) {
        self.extendedCode = code
        self.message = message
        self.sql = sql
    }

    /// The connection's last error, read at once: the next call on the connection overwrites it.
    init(lastErrorOf database: OpaquePointer, sql: String?) {
        self.init(
            code: ResultCode(rawValue: sqlite3_extended_errcode(database)),
            message: String(cString: sqlite3_errmsg(database)),
            sql: sql
        )
    }

    public var description: String {
        var text = "SQLite error \(extendedCode.rawValue): \(message)"
        if let sql { text += " - while executing `\(sql)`" }
        return text
    }
}
