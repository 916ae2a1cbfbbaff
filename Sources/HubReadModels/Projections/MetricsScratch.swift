@_spi(Storage) import HubEventLog
import HubSQLite

/// A `metrics_conversations` row as the events so far left it.
struct MetricsConversation: Equatable {
    var conversation: String
    var account: String
    var channel: String
    var startedAt: Int64
    var firstCustomerAt: Int64?
    var firstResponseAt: Int64?
    var firstAgentAt: Int64?
    var escalatedAt: Int64?
    var endedAt: Int64?
}

/// The metrics' conversation rows as the writer's batches committed them, kept from one batch to the
/// next (``ProjectionContext/carriedState(_:)``): a conversation's next message finds its row here
/// instead of reading it. Bounded: once it holds ``capacity`` rows it starts over.
final class MetricsCarried {
    static let capacity = 4096
    var rows: [String: MetricsConversation] = [:]

    init() {}
}

/// The metrics projection's conversation rows in one append or rebuild chunk: each read once, changed
/// in memory by every event of the chunk, and written once at ``write(_:)`` (a conversation's messages
/// cost no statement each).
final class MetricsScratch {
    private var rows: [String: MetricsConversation] = [:]
    /// Rows started in this chunk (inserted), and rows changed (updated).
    private var started: Set<String> = []
    private var changed: Set<String> = []

    init() {}

    /// A new conversation's row. A conversation started twice is refused: here within the chunk, by
    /// the table's key (when the row is written) across chunks.
    func start(_ conversation: String, account: String, channel: String, at time: Int64) throws {
        guard rows[conversation] == nil else {
            throw SQLiteError(code: .constraint, message: "metrics_conversations: \(conversation) was started before")
        }
        rows[conversation] = MetricsConversation(
            conversation: conversation,
            account: account,
            channel: channel,
            startedAt: time
        )
        started.insert(conversation)
    }

    /// The conversation's row, `nil` for a conversation the metrics never saw start.
    func row(_ conversation: String, _ context: ProjectionContext) throws -> MetricsConversation? {
        if let row = rows[conversation] { return row }
        guard let row = try context.carriedState(MetricsCarried.init)?.rows[conversation] ?? read(conversation, context)
        else { return nil }
        rows[conversation] = row
        return row
    }

    /// Keeps the row's new values; a row left as it was is not written again.
    func update(_ row: MetricsConversation) {
        guard rows[row.conversation] != row else { return }
        rows[row.conversation] = row
        if !started.contains(row.conversation) { changed.insert(row.conversation) }
    }

    /// Writes the started and changed rows, in key order, and forgets them all; in the writer, every row
    /// of the append is then kept as written (or read) for the next batches (``MetricsCarried``).
    func write(_ context: ProjectionContext) throws {
        defer {
            rows.removeAll(keepingCapacity: true)
            started.removeAll(keepingCapacity: true)
            changed.removeAll(keepingCapacity: true)
        }
        let table = context.table("metrics_conversations")
        for id in started.union(changed).sorted() {
            guard let row = rows[id] else { continue }
            let values: [any SQLiteBindable] = [
                row.conversation, row.account, row.channel, row.startedAt, row.firstCustomerAt, row.firstResponseAt,
                row.firstAgentAt, row.escalatedAt, row.endedAt,
            ]
            if started.contains(id) {
                try context.connection.run(
                    sql: """
                        INSERT INTO \(table) (conversation, account, channel_type, started_at, first_customer_at,
                            first_response_at, first_agent_at, escalated_at, ended_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    values
                )
            } else {
                try context.connection.run(
                    sql: """
                        UPDATE \(table) SET first_customer_at = ?5, first_response_at = ?6, first_agent_at = ?7,
                            escalated_at = ?8, ended_at = ?9
                        WHERE conversation = ?1
                        """,
                    values
                )
            }
        }
        if let carried = context.carriedState(MetricsCarried.init), !rows.isEmpty {
            if carried.rows.count + rows.count > MetricsCarried.capacity {
                carried.rows.removeAll(keepingCapacity: true)
            }
            carried.rows.merge(rows) { _, written in written }
        }
    }

    private func read(_ conversation: String, _ context: ProjectionContext) throws -> MetricsConversation? {
        let statement = try context.connection.cachedStatement(
            sql: """
                SELECT account, channel_type, started_at, first_customer_at, first_response_at, first_agent_at,
                    escalated_at, ended_at
                FROM \(context.table("metrics_conversations")) WHERE conversation = ?
                """
        )
        defer { statement.reset() }
        try statement.bind([conversation])
        guard try statement.step() else { return nil }
        return MetricsConversation(
            conversation: conversation,
            account: statement.text(at: 0),
            channel: statement.text(at: 1),
            startedAt: statement.int64(at: 2),
            firstCustomerAt: statement.optionalInt64(at: 3),
            firstResponseAt: statement.optionalInt64(at: 4),
            firstAgentAt: statement.optionalInt64(at: 5),
            escalatedAt: statement.optionalInt64(at: 6),
            endedAt: statement.optionalInt64(at: 7)
        )
    }
}
