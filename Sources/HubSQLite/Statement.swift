import CHubSQLite

/// A value that can be bound to a statement parameter.
public protocol SQLiteBindable {
    /// Binds the value at a 1-based parameter index and returns SQLite's result code.
    func bind(to statement: OpaquePointer, at index: Int32) -> Int32
}

/// SQLite copies bound text and blobs (`SQLITE_TRANSIENT`), so a Swift value may go away after binding.
let transientDestructor = hub_sqlite_transient()

extension Int64: SQLiteBindable {
    public func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        sqlite3_bind_int64(statement, index, self)
    }
}

extension Int: SQLiteBindable {
    public func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        sqlite3_bind_int64(statement, index, Int64(self))
    }
}

extension Double: SQLiteBindable {
    public func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        sqlite3_bind_double(statement, index, self)
    }
}

extension Bool: SQLiteBindable {
    public func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        sqlite3_bind_int64(statement, index, self ? 1 : 0)
    }
}

extension String: SQLiteBindable {
    public func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        var copy = self
        // Bind with the UTF-8 byte count so an embedded NUL does not truncate the value.
        return copy.withUTF8 { utf8 in
            // An empty string has no base address; SQLite needs a non-NULL pointer for '' (NULL means SQL NULL).
            guard let base = utf8.baseAddress, utf8.count > 0 else {
                return sqlite3_bind_text(statement, index, "", 0, transientDestructor)
            }
            return UnsafeRawPointer(base).withMemoryRebound(to: CChar.self, capacity: utf8.count) { text in
                sqlite3_bind_text64(statement, index, text, UInt64(utf8.count), transientDestructor, UInt8(SQLITE_UTF8))
            }
        }
    }
}

extension Array: SQLiteBindable where Element == UInt8 {
    public func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        withUnsafeBytes { bytes in
            // A zero-length blob must not be bound as NULL: SQLite treats a NULL pointer as SQL NULL.
            guard let base = bytes.baseAddress, bytes.count > 0 else {
                return sqlite3_bind_zeroblob(statement, index, 0)
            }
            return sqlite3_bind_blob64(statement, index, base, UInt64(bytes.count), transientDestructor)
        }
    }
}

extension Optional: SQLiteBindable where Wrapped: SQLiteBindable {
    public func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        switch self {
        case .none: sqlite3_bind_null(statement, index)
        case .some(let value): value.bind(to: statement, at: index)
        }
    }
}

/// A prepared statement.
///
/// Not `Sendable`: it belongs to its ``Connection`` and is used only inside that connection's
/// serial executor. Finalized in `deinit`; cached statements are finalized by ``Connection/close()``.
///
/// Related SQLite documentation: <https://www.sqlite.org/c3ref/stmt.html>
public final class Statement {
    let handle: OpaquePointer
    let database: OpaquePointer
    /// The SQL text the statement was prepared from.
    public let sql: String

    init(database: OpaquePointer, sql: String, persistent: Bool) throws(SQLiteError) {
        var statement: OpaquePointer?
        let flags: UInt32 = persistent ? UInt32(SQLITE_PREPARE_PERSISTENT) : 0
        let code = sqlite3_prepare_v3(database, sql, -1, flags, &statement, nil)
        guard code == SQLITE_OK, let statement else {
            throw SQLiteError(lastErrorOf: database, sql: sql)
        }
        self.handle = statement
        self.database = database
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    // MARK: - Binding

    /// Binds a value at a 1-based parameter index.
    public func bind(_ value: some SQLiteBindable, at index: Int) throws(SQLiteError) {
        let code = value.bind(to: handle, at: Int32(index))
        if code != SQLITE_OK { throw makeError() }
    }

    /// Binds values to parameters 1, 2, ... in order.
    public func bind(_ values: [any SQLiteBindable]) throws(SQLiteError) {
        for (offset, value) in values.enumerated() {
            let code = value.bind(to: handle, at: Int32(offset + 1))
            if code != SQLITE_OK { throw makeError() }
        }
    }

    /// Binds SQL NULL at a 1-based parameter index.
    public func bindNull(at index: Int) throws(SQLiteError) {
        let code = sqlite3_bind_null(handle, Int32(index))
        if code != SQLITE_OK { throw makeError() }
    }

    // MARK: - Stepping

    /// Advances to the next row; returns `false` when the statement is done.
    ///
    /// Related SQLite documentation: <https://www.sqlite.org/c3ref/step.html>
    @discardableResult
    public func step() throws(SQLiteError) -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw makeError()
        }
    }

    /// Runs the statement to completion, then resets it for reuse.
    public func execute() throws(SQLiteError) {
        defer { reset() }
        while try step() {}
    }

    /// Resets the cursor and clears every binding, so a reused statement starts clean.
    public func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    // MARK: - Columns (0-based)

    /// Whether the column of the current row is SQL NULL.
    public func isNull(at column: Int) -> Bool {
        sqlite3_column_type(handle, Int32(column)) == SQLITE_NULL
    }

    /// A result column's storage class in the current row.
    public enum ColumnType: Sendable {
        case integer, float, text, blob, null
    }

    public func columnType(at column: Int) -> ColumnType {
        switch sqlite3_column_type(handle, Int32(column)) {
        case SQLITE_INTEGER: .integer
        case SQLITE_FLOAT: .float
        case SQLITE_TEXT: .text
        case SQLITE_BLOB: .blob
        default: .null
        }
    }

    /// A result column's declared type (`TEXT`, `INTEGER`, …) when it is a table's column; `nil` for
    /// an expression.
    public func columnDeclaredType(at column: Int) -> String? {
        sqlite3_column_decltype(handle, Int32(column)).map { String(cString: $0) }
    }

    /// A result column's name (its alias, or the column's own).
    public func columnName(at column: Int) -> String {
        sqlite3_column_name(handle, Int32(column)).map { String(cString: $0) } ?? ""
    }

    public func int64(at column: Int) -> Int64 {
        sqlite3_column_int64(handle, Int32(column))
    }

    public func optionalInt64(at column: Int) -> Int64? {
        isNull(at: column) ? nil : int64(at: column)
    }

    public func double(at column: Int) -> Double {
        sqlite3_column_double(handle, Int32(column))
    }

    /// The column as text; SQL NULL reads as the empty string (use ``optionalText(at:)`` to tell).
    public func text(at column: Int) -> String {
        guard let pointer = sqlite3_column_text(handle, Int32(column)) else { return "" }
        // The byte count is read after the text call, and decoding uses it rather than NUL-termination.
        let count = Int(sqlite3_column_bytes(handle, Int32(column)))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }

    public func optionalText(at column: Int) -> String? {
        isNull(at: column) ? nil : text(at: column)
    }

    /// The column as bytes; SQL NULL and an empty blob both read as `[]`.
    public func blob(at column: Int) -> [UInt8] {
        guard let pointer = sqlite3_column_blob(handle, Int32(column)) else { return [] }
        let count = Int(sqlite3_column_bytes(handle, Int32(column)))
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    /// Calls `body` with the column's bytes without copying them; valid only inside `body`.
    public func withBlob<R>(at column: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        guard let pointer = sqlite3_column_blob(handle, Int32(column)) else {
            return try body(UnsafeRawBufferPointer(start: nil, count: 0))
        }
        let count = Int(sqlite3_column_bytes(handle, Int32(column)))
        return try body(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    /// Calls `body` with the column's storage class (`SQLITE_INTEGER`, `SQLITE_FLOAT`, `SQLITE_TEXT`,
    /// `SQLITE_BLOB` or `SQLITE_NULL`) and its value's bytes as stored: an integer's or a real's 8
    /// bytes, little-endian; text's UTF-8 or a blob's bytes; none for NULL. Valid only inside `body`.
    public func withStoredValue<R>(at column: Int, _ body: (Int32, UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let type = sqlite3_column_type(handle, Int32(column))
        switch type {
        case SQLITE_INTEGER:
            return try withUnsafeBytes(of: int64(at: column).littleEndian) { try body(type, $0) }
        case SQLITE_FLOAT:
            return try withUnsafeBytes(of: double(at: column).bitPattern.littleEndian) { try body(type, $0) }
        case SQLITE_NULL: return try body(type, UnsafeRawBufferPointer(start: nil, count: 0))
        default: return try withBlob(at: column) { try body(type, $0) }
        }
    }

    /// Whether the statement has been stepped and not yet reset or run to completion.
    public var isBusy: Bool { sqlite3_stmt_busy(handle) != 0 }

    /// The number of columns a row of this statement has.
    public var columnCount: Int { Int(sqlite3_column_count(handle)) }

    private func makeError() -> SQLiteError {
        SQLiteError(lastErrorOf: database, sql: sql)
    }
}

@available(*, unavailable)
extension Statement: Sendable {}
