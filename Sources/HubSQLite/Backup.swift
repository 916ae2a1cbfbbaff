import CHubSQLite

extension Connection {
    /// Copies this connection's `main` database into a new database file at `path` with SQLite's
    /// online backup API, `pagesPerStep` pages at a time, as of one snapshot: a read transaction is
    /// held from the first page to the last (in WAL mode other connections keep writing meanwhile,
    /// and the copy is what the database was when it began).
    ///
    /// - Parameter progress: called after each step with the pages copied and the total.
    /// - Returns: the number of pages copied.
    @discardableResult
    public func backup(
        into path: String,
        pagesPerStep: Int32 = 4096,
        progress: (_ copied: Int, _ total: Int) -> Void = { _, _ in }
    ) throws(SQLiteError) -> Int {
        let destination = try Connection(path: path, configuration: .init(mode: .readWrite(create: true)))
        defer { destination.close() }
        // The snapshot: a read transaction that the backup's steps read through.
        try execute(sql: "BEGIN DEFERRED")
        defer { rollbackQuietly() }
        _ = try singleInt64(sql: "SELECT count(*) FROM sqlite_schema")
        guard let backup = sqlite3_backup_init(destination.handle, "main", handle, "main") else {
            throw destination.lastError(sql: nil)
        }
        var code: Int32
        var total = 0
        repeat {
            code = sqlite3_backup_step(backup, pagesPerStep)
            total = Int(sqlite3_backup_pagecount(backup))
            progress(total - Int(sqlite3_backup_remaining(backup)), total)
            if code == SQLITE_BUSY || code == SQLITE_LOCKED { sqlite3_sleep(5) }
        } while code == SQLITE_OK || code == SQLITE_BUSY || code == SQLITE_LOCKED
        let finished = sqlite3_backup_finish(backup)
        guard code == SQLITE_DONE, finished == SQLITE_OK else {
            throw SQLiteError(
                code: ResultCode(rawValue: code == SQLITE_DONE ? finished : code),
                message:
                    "backup into \(path) failed: \(String(cString: sqlite3_errstr(code == SQLITE_DONE ? finished : code)))"
            )
        }
        return total
    }
}
