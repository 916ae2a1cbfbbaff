import CHubSQLite
import CHubWALBuffer

/// One SQLite connection.
///
/// Not `Sendable`: a connection is confined to one serial executor (see ``SerializedConnection``),
/// which is what makes it safe to open it with `SQLITE_OPEN_NOMUTEX`.
///
/// Related SQLite documentation: <https://www.sqlite.org/c3ref/sqlite3.html>
public final class Connection {
    /// The raw `sqlite3 *` handle.
    public let handle: OpaquePointer
    /// The path the connection was opened on.
    public let path: String
    private var statementCache: [StatementKey: Statement] = [:]
    private var isClosed = false
    /// Whether a commit may happen now (only read when ``refuseImplicitCommits()`` installed the hook).
    private var commitAllowed = false
    /// The busy timeout the connection was opened with.
    private var busyTimeout: Duration = .zero
    /// Kept alive while SQLite's profile callback points at it.
    private var profile: StatementProfile?

    /// Opens a connection and runs the set-up sequence: busy timeout, double-quoted string
    /// literals off, foreign keys, recursive triggers, extended result codes, WAL (when asked) and
    /// synchronous, then a format check so a file that is not a database fails here rather than at
    /// first use.
    ///
    /// - Throws: ``SQLiteError`` (for example `SQLITE_NOTADB` or `SQLITE_CANTOPEN`).
    public init(path: String, configuration: ConnectionConfiguration = .init()) throws(SQLiteError) {
        var flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        switch configuration.mode {
        case .readOnly: flags |= SQLITE_OPEN_READONLY
        case .readWrite(let create): flags |= SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0)
        }
        _ = sqliteProcessConfiguration
        var database: OpaquePointer?
        // Only where every commit syncs the WAL: the sync writes the buffer out and reports a failed
        // write before the commit is published, as the write itself would have.
        let buffered = configuration.bufferWALWrites && configuration.synchronous == .full
        let vfs = buffered ? walBufferVFS(over: configuration.vfs) : configuration.vfs
        let code = sqlite3_open_v2(path, &database, flags, vfs)
        guard code == SQLITE_OK, let database else {
            let message = database.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
            // The handle is allocated even when opening fails, and must still be closed.
            sqlite3_close(database)
            throw SQLiteError(code: ResultCode(rawValue: code), message: message)
        }
        self.handle = database
        self.path = path
        do {
            try setUp(configuration)
        } catch {
            close()
            throw error
        }
    }

    deinit {
        if !isClosed {
            sqlite3_commit_hook(handle, nil, nil)
            if profile != nil { StatementProfile.detach(from: handle) }
            statementCache.removeAll()
            sqlite3_close_v2(handle)
        }
    }

    private func setUp(_ configuration: ConnectionConfiguration) throws(SQLiteError) {
        sqlite3_extended_result_codes(handle, 1)
        busyTimeout = configuration.busyTimeout
        hub_set_busy_timeout(handle, Self.milliseconds(busyTimeout))
        // Debian's SQLite accepts "text" as a string literal when no column matches; turn that off.
        _ = hub_sqlite_db_config_int(handle, SQLITE_DBCONFIG_DQS_DDL, 0)
        _ = hub_sqlite_db_config_int(handle, SQLITE_DBCONFIG_DQS_DML, 0)
        // Format check: a file that is not a database fails here with SQLITE_NOTADB.
        try execute(sql: "SELECT count(*) FROM sqlite_master")
        try execute(sql: "PRAGMA foreign_keys = \(configuration.foreignKeys ? "ON" : "OFF")")
        // The rows an INSERT OR REPLACE deletes fire DELETE triggers only with recursive triggers on:
        // that is what refuses a REPLACE over an append-only row.
        try execute(sql: "PRAGMA recursive_triggers = ON")
        if configuration.journalModeWAL {
            let mode = try singleText(sql: "PRAGMA journal_mode = WAL")
            guard mode?.lowercased() == "wal" else {
                throw SQLiteError(code: .error, message: "could not enable WAL (journal_mode is \(mode ?? "unknown"))")
            }
        }
        if let synchronous = configuration.synchronous {
            try execute(sql: "PRAGMA synchronous = \(synchronous.rawValue.uppercased())")
        }
        if configuration.memoryTempStore {
            try execute(sql: "PRAGMA temp_store = MEMORY")
        }
        if let pages = configuration.walAutocheckpointPages {
            try execute(sql: "PRAGMA wal_autocheckpoint = \(pages)")
        }
        // What the connection runs for its user, not this set-up.
        if let profile = configuration.statementProfile {
            self.profile = profile
            StatementProfile.attach(profile, to: handle)
        }
    }

    private static func milliseconds(_ duration: Duration) -> Int32 {
        Int32(clamping: duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }

    /// Runs `body` with another busy timeout (`.zero`: fail at once with `SQLITE_BUSY` instead of
    /// waiting for a lock), then restores the connection's own.
    ///
    /// Related SQLite documentation: <https://www.sqlite.org/c3ref/busy_handler.html>
    public func withBusyTimeout<T>(_ timeout: Duration, _ body: () throws -> T) rethrows -> T {
        hub_set_busy_timeout(handle, Self.milliseconds(timeout))
        defer { hub_set_busy_timeout(handle, Self.milliseconds(busyTimeout)) }
        return try body()
    }

    /// Finalizes cached statements and closes the connection. Safe to call twice.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        sqlite3_commit_hook(handle, nil, nil)
        if profile != nil { StatementProfile.detach(from: handle) }
        statementCache.removeAll()
        if sqlite3_close(handle) == SQLITE_BUSY {
            // A statement outside the cache is still alive; let SQLite close when it is finalized.
            sqlite3_close_v2(handle)
        }
    }

    // MARK: - Executing SQL

    /// Executes one or more SQL statements separated by semicolons, discarding any rows.
    ///
    /// Related SQLite documentation: <https://www.sqlite.org/c3ref/exec.html>
    public func execute(sql: String) throws(SQLiteError) {
        let code = sqlite3_exec(handle, sql, nil, nil, nil)
        if code != SQLITE_OK { throw lastError(sql: sql) }
    }

    /// Prepares a statement that is finalized when it is released.
    public func prepare(sql: String) throws(SQLiteError) -> Statement {
        try Statement(database: handle, sql: sql, persistent: false)
    }

    /// Returns a prepared statement from the connection's cache (keyed by SQL text), reset and
    /// with no bindings, preparing it on first use.
    public func cachedStatement(sql: String) throws(SQLiteError) -> Statement {
        let key = StatementKey(sql: sql)
        if let statement = statementCache[key] {
            statement.reset()
            return statement
        }
        let statement = try Statement(database: handle, sql: sql, persistent: true)
        statementCache[key] = statement
        return statement
    }

    /// Runs a cached statement with arguments and returns the first column of the first row as text.
    public func singleText(sql: String, _ arguments: [any SQLiteBindable] = []) throws(SQLiteError) -> String? {
        let statement = try cachedStatement(sql: sql)
        defer { statement.reset() }
        try statement.bind(arguments)
        return try statement.step() ? statement.optionalText(at: 0) : nil
    }

    /// Runs a cached statement with arguments and returns the first column of the first row as an integer.
    public func singleInt64(sql: String, _ arguments: [any SQLiteBindable] = []) throws(SQLiteError) -> Int64? {
        let statement = try cachedStatement(sql: sql)
        defer { statement.reset() }
        try statement.bind(arguments)
        return try statement.step() ? statement.optionalInt64(at: 0) : nil
    }

    /// Runs a cached statement with arguments to completion.
    public func run(sql: String, _ arguments: [any SQLiteBindable] = []) throws(SQLiteError) {
        let statement = try cachedStatement(sql: sql)
        try statement.bind(arguments)
        try statement.execute()
    }

    /// The name of the VFS the connection opened its files through (`unix` by default).
    public var vfsName: String {
        var vfs: UnsafeMutablePointer<sqlite3_vfs>?
        guard sqlite3_file_control(handle, "main", SQLITE_FCNTL_VFS_POINTER, &vfs) == SQLITE_OK,
            let name = vfs?.pointee.zName
        else { return "" }
        return String(cString: name)
    }

    /// The rowid of the last inserted row.
    public var lastInsertedRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Rows inserted, updated or deleted since the connection opened (`sqlite3_total_changes64`):
    /// unchanged across a piece of work, it wrote no row.
    public var totalChanges: Int64 { sqlite3_total_changes64(handle) }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    public var changesCount: Int { Int(sqlite3_changes64(handle)) }

    /// Whether a transaction is open (the connection is not in autocommit mode).
    public var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    // MARK: - Transactions

    /// How a transaction takes its locks.
    ///
    /// Related SQLite documentation: <https://www.sqlite.org/lang_transaction.html>
    public enum TransactionKind: String, Sendable {
        case deferred = "DEFERRED"
        case immediate = "IMMEDIATE"
        case exclusive = "EXCLUSIVE"
    }

    /// Runs `body` in a transaction: commits when it returns, rolls back when it throws and
    /// rethrows that (first) error.
    public func transaction<T>(_ kind: TransactionKind = .immediate, _ body: () throws -> T) throws -> T {
        try run(sql: "BEGIN \(kind.rawValue)")
        let result: T
        do {
            result = try body()
        } catch {
            rollbackQuietly()
            throw error
        }
        do {
            commitAllowed = true
            defer { commitAllowed = false }
            try run(sql: "COMMIT")
        } catch {
            rollbackQuietly()
            throw error
        }
        return result
    }

    /// Runs `body` under a savepoint: released when it returns, rolled back to (and released) when
    /// it throws, so a failure undoes only what `body` wrote.
    ///
    /// SQLite may end the whole transaction itself when a statement fails with `SQLITE_FULL`,
    /// `SQLITE_IOERR`, `SQLITE_BUSY`, `SQLITE_NOMEM` or `SQLITE_CORRUPT` ("Response To Errors Within A
    /// Transaction"). Then there is no savepoint left to roll back to, and the error is rethrown with
    /// the connection out of its transaction: a caller running several savepoints in one transaction
    /// must check ``isInTransaction`` before it runs anything else, since what it ran next would
    /// start (and commit) a transaction of its own. A `ROLLBACK TO` that fails rolls the whole
    /// transaction back, for the same reason.
    ///
    /// Related SQLite documentation: <https://www.sqlite.org/lang_savepoint.html>,
    /// <https://www.sqlite.org/lang_transaction.html#response_to_errors_within_a_transaction>
    public func savepoint<T>(_ name: String = "hub", _ body: () throws -> T) throws -> T {
        try run(sql: "SAVEPOINT \(name)")
        do {
            let result = try body()
            try run(sql: "RELEASE \(name)")
            return result
        } catch {
            guard isInTransaction else { throw error }
            do {
                try run(sql: "ROLLBACK TO \(name)")
                try run(sql: "RELEASE \(name)")
            } catch {
                rollbackQuietly()
            }
            throw error
        }
    }

    /// From now on refuses every commit but the `COMMIT` of ``transaction(_:_:)``: a statement run
    /// outside a transaction, or the `RELEASE` of an outermost savepoint, fails with
    /// `SQLITE_CONSTRAINT_COMMITHOOK` and is rolled back instead of committing on its own.
    ///
    /// For the log's writer, whose batches must commit whole or not at all: once SQLite has ended a
    /// batch's transaction after an I/O error, nothing the batch still runs can commit behind it.
    ///
    /// Related SQLite documentation: <https://www.sqlite.org/c3ref/commit_hook.html>
    public func refuseImplicitCommits() {
        sqlite3_commit_hook(
            handle,
            { context in
                guard let context else { return 0 }
                return Unmanaged<Connection>.fromOpaque(context).takeUnretainedValue().commitAllowed ? 0 : 1
            },
            Unmanaged.passUnretained(self).toOpaque()
        )
    }

    /// Rolls back the open transaction, if any, ignoring errors (used on paths that already fail).
    public func rollbackQuietly() {
        if isInTransaction { try? run(sql: "ROLLBACK") }
    }

    func lastError(sql: String?) -> SQLiteError {
        SQLiteError(lastErrorOf: handle, sql: sql)
    }
}

@available(*, unavailable)
extension Connection: Sendable {}

/// The version of the linked SQLite library, e.g. `3.40.1`.
public var sqliteLibraryVersion: String { String(cString: sqlite3_libversion()) }

/// Process-wide SQLite settings, made once before the first connection initialises SQLite: memory
/// statistics off, so allocations do not take SQLite's global mutex.
private let sqliteProcessConfiguration: Void = {
    _ = hub_sqlite_disable_memory_statistics()
}()

/// Makes SQLite's process-wide settings (see ``Connection``) now, if no connection has yet. Call it
/// before anything else that initialises SQLite (registering a VFS does): settings made after that
/// are refused.
public func configureSQLiteProcess() {
    sqliteProcessConfiguration
}

/// Whether the `hubstore-wal-buffer` VFS is available (registered once per process); without it a
/// connection asking for buffered WAL writes uses the default VFS.
private let walBufferRegistered: Bool = hub_wal_buffer_register() == SQLITE_OK

/// The name of the WAL-buffering VFS over `underlying` (the default VFS when `nil`), registering it
/// on first use; `underlying` itself when no buffering VFS can be had.
private func walBufferVFS(over underlying: String?) -> String? {
    guard let underlying else { return walBufferRegistered ? HUB_WAL_BUFFER_VFS_NAME : nil }
    var name = [CChar](repeating: 0, count: 256)
    guard hub_wal_buffer_register_over(underlying, &name, Int32(name.count)) == SQLITE_OK else { return underlying }
    return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
