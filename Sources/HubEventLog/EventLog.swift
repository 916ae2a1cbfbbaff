import HubDomain
public import HubSQLite

/// The SQL of the log: every statement that reads or writes it lives here.
///
/// The log is read through the view `events`, whose columns are an event's; it is stored in
/// `event_records`, which refers to each stream, type, account and actor by its id in `event_names`
/// (migration 0014). Functions run inside a transaction the caller opened, on the connection's own
/// executor.
public enum EventLog {
    package static let columns =
        "position, id, stream, version, type, schema_version, recorded_at, account, actor, correlation_id, causation_id, data, hash"

    /// The INSERT of one event's record, its names given by id (also what the raw SQLite benchmark
    /// runs, for a like-for-like reference). An INSERT into the view `events` does the same from names,
    /// through a trigger that interns them in SQL, at about three times the cost.
    public static let insertSQL = """
        INSERT INTO event_records (\(columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    /// The last position and hash: where the next append chains on.
    public static func tip(_ connection: Connection) throws(SQLiteError) -> (position: Int64, hash: [UInt8]) {
        let statement = try connection.cachedStatement(
            sql: "SELECT position, hash FROM events ORDER BY position DESC LIMIT 1"
        )
        defer { statement.reset() }
        guard try statement.step() else { return (0, EventHash.genesis) }
        return (statement.int64(at: 0), statement.blob(at: 1))
    }

    /// The stream's last version, 0 when it has no events.
    public static func version(of stream: String, _ connection: Connection) throws(SQLiteError) -> Int64 {
        try versionAndNameId(of: stream, connection).version
    }

    /// The stream's last version (0 when it has no events) and, when the log has ever used its name,
    /// that name's id (which an append to the stream then needs), in one lookup of the name.
    package static func versionAndNameId(
        of stream: String,
        _ connection: Connection
    ) throws(SQLiteError) -> (version: Int64, nameId: Int64?) {
        let statement = try connection.cachedStatement(
            sql: """
                SELECT n.id, (SELECT max(version) FROM event_records WHERE stream = n.id)
                FROM event_names AS n WHERE n.name = ?
                """
        )
        defer { statement.reset() }
        try statement.bind(stream, at: 1)
        guard try statement.step() else { return (0, nil) }
        return (statement.optionalInt64(at: 1) ?? 0, statement.int64(at: 0))
    }

    /// Inserts one fully formed event, interning its names through `names`.
    package static func insert(
        _ event: RecordedEvent,
        names: EventNames,
        _ connection: Connection
    ) throws(SQLiteError) {
        let stream = try names.id(of: event.stream, connection)
        let type = try names.id(of: event.type, connection)
        let account = try event.account.map { (name) throws(SQLiteError) in try names.id(of: name, connection) }
        let actor = try names.id(of: event.actor, connection)
        let statement = try connection.cachedStatement(sql: insertSQL)
        try statement.bind(event.position, at: 1)
        try statement.bind(event.id, at: 2)
        try statement.bind(stream, at: 3)
        try statement.bind(event.version, at: 4)
        try statement.bind(type, at: 5)
        try statement.bind(event.schemaVersion, at: 6)
        try statement.bind(event.recordedAt, at: 7)
        try statement.bind(account, at: 8)
        try statement.bind(actor, at: 9)
        try statement.bind(event.correlationId, at: 10)
        try statement.bind(event.causationId, at: 11)
        try statement.bind(event.data, at: 12)
        try statement.bind(event.hash, at: 13)
        try statement.execute()
    }

    /// The position, stream and version of the event with this id, if any.
    package static func locate(
        id: String,
        _ connection: Connection
    ) throws(SQLiteError) -> (
        position: Int64, stream: String, version: Int64
    )? {
        let statement = try connection.cachedStatement(sql: "SELECT position, stream, version FROM events WHERE id = ?")
        defer { statement.reset() }
        try statement.bind(id, at: 1)
        guard try statement.step() else { return nil }
        return (statement.int64(at: 0), statement.text(at: 1), statement.int64(at: 2))
    }

    /// The id, stream and version of the event at `position`.
    package static func locate(
        position: Int64,
        _ connection: Connection
    ) throws(SQLiteError) -> (id: String, stream: String, version: Int64)? {
        let statement = try connection.cachedStatement(sql: "SELECT id, stream, version FROM events WHERE position = ?")
        defer { statement.reset() }
        try statement.bind(position, at: 1)
        guard try statement.step() else { return nil }
        return (statement.text(at: 0), statement.text(at: 1), statement.int64(at: 2))
    }

    /// Reads the event at the current row of a statement that selected `columns`.
    public static func decode(_ statement: Statement) -> RecordedEvent {
        RecordedEvent(
            position: statement.int64(at: 0),
            id: statement.text(at: 1),
            stream: statement.text(at: 2),
            version: statement.int64(at: 3),
            type: statement.text(at: 4),
            schemaVersion: Int(statement.int64(at: 5)),
            recordedAt: statement.int64(at: 6),
            account: statement.optionalText(at: 7),
            actor: statement.text(at: 8),
            correlationId: statement.optionalText(at: 9),
            causationId: statement.optionalText(at: 10),
            data: statement.text(at: 11),
            hash: statement.blob(at: 12)
        )
    }

    /// Calls `body` with every event in position order until it returns `false` (one statement, so
    /// inside a read transaction it walks one consistent snapshot).
    public static func scan(_ connection: Connection, _ body: (RecordedEvent) throws -> Bool) throws {
        let statement = try connection.prepare(sql: "SELECT \(columns) FROM events ORDER BY position")
        while try statement.step() {
            guard try body(decode(statement)) else { return }
        }
    }

    /// Events of one stream from a version on, in version order.
    public static func readStream(
        _ stream: String,
        fromVersion: Int64,
        limit: Int,
        _ connection: Connection
    ) throws(SQLiteError) -> [RecordedEvent] {
        let statement = try connection.cachedStatement(
            sql: "SELECT \(columns) FROM events WHERE stream = ? AND version >= ? ORDER BY version LIMIT ?"
        )
        defer { statement.reset() }
        try statement.bind(stream, at: 1)
        try statement.bind(fromVersion, at: 2)
        try statement.bind(limit, at: 3)
        var events: [RecordedEvent] = []
        while try statement.step() { events.append(decode(statement)) }
        return events
    }

    /// Events of the whole log after a position, in position order, that pass the filter.
    public static func readAll(
        after position: Int64,
        through last: Int64? = nil,
        filter: EventFilter,
        limit: Int,
        _ connection: Connection
    ) throws(SQLiteError) -> [RecordedEvent] {
        var (sql, arguments) = selection(after: position, through: last, filter: filter)
        let statement = try connection.cachedStatement(sql: sql + " LIMIT ?")
        defer { statement.reset() }
        arguments.append(limit)
        try statement.bind(arguments)
        var events: [RecordedEvent] = []
        while try statement.step() { events.append(decode(statement)) }
        return events
    }

    /// The SELECT of every column of the events after `position` (up to `last`) that pass the filter,
    /// in position order, and its arguments.
    public static func selection(
        after position: Int64,
        through last: Int64? = nil,
        filter: EventFilter
    ) -> (sql: String, arguments: [any SQLiteBindable]) {
        var conditions = ["position > ?"]
        var arguments: [any SQLiteBindable] = [position]
        if let last {
            conditions.append("position <= ?")
            arguments.append(last)
        }
        if let stream = filter.stream {
            conditions.append("stream = ?")
            arguments.append(stream)
        }
        if let from = filter.recordedFrom {
            conditions.append("recorded_at >= ?")
            arguments.append(from)
        }
        if let to = filter.recordedTo {
            conditions.append("recorded_at <= ?")
            arguments.append(to)
        }
        if !filter.types.isEmpty {
            conditions.append("type IN (SELECT value FROM json_each(?))")
            arguments.append(JSONValue.array(filter.types.map(JSONValue.string)).text)
        }
        if let prefix = filter.streamPrefix {
            conditions.append("substr(stream, 1, ?) = ?")
            arguments.append(prefix.unicodeScalars.count)  // substr counts code points
            arguments.append(prefix)
        }
        if let account = filter.account {
            conditions.append("account = ?")
            arguments.append(account)
        }
        return (
            "SELECT \(columns) FROM events WHERE \(conditions.joined(separator: " AND ")) ORDER BY position", arguments
        )
    }
}
