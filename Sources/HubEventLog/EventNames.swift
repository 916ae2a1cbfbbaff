public import HubSQLite

/// The ids of the log's names (streams, types, accounts, actors) in `event_names`, interned as events
/// are appended: a record of `event_records` refers to each name by id (migration 0014).
///
/// It remembers what it found or added, for the length of one write transaction: a name added by a
/// statement that is then rolled back is gone, so whoever rolls back (a command's savepoint) calls
/// ``forget()``, and a new transaction starts with a new instance. Names committed before the
/// transaction began (the writer's ``LogMemory`` of them) stay valid: a committed name is never
/// removed. Not `Sendable`: it lives on the connection's executor, like the transaction it serves.
public final class EventNames {
    /// What this transaction found or added.
    private(set) var ids: [String: Int64] = [:]
    private let memory: LogMemory?

    public init() {
        self.memory = nil
    }

    /// With the writer's memory of the names committed before this transaction began.
    init(memory: LogMemory) {
        self.memory = memory
    }

    /// The id of `name`, added to `event_names` if the log has never used it.
    public func id(of name: String, _ connection: Connection) throws(SQLiteError) -> Int64 {
        if let id = ids[name] ?? memory?.names[name] { return id }
        let lookup = try connection.cachedStatement(sql: "SELECT id FROM event_names WHERE name = ?")
        defer { lookup.reset() }
        try lookup.bind(name, at: 1)
        let id: Int64
        if try lookup.step() {
            id = lookup.int64(at: 0)
        } else {
            let insert = try connection.cachedStatement(sql: "INSERT INTO event_names (name) VALUES (?)")
            try insert.bind(name, at: 1)
            try insert.execute()
            id = connection.lastInsertedRowID
        }
        ids[name] = id
        return id
    }

    /// Remembers `name`'s id, found in `event_names` in this transaction by another query.
    public func remember(_ name: String, id: Int64) {
        ids[name] = id
    }

    /// Drops every id remembered: what the transaction added since may have been rolled back.
    public func forget() {
        ids.removeAll(keepingCapacity: true)
    }
}
