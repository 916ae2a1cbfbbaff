package import HubDomain
@_spi(Storage) package import HubEventLog
package import HubSQLite

/// A connector conversation as ``ConnectorProjection`` keeps it.
package struct ConnectorConversationRow: Sendable, Equatable {
    package var conversation: String
    package var account: String
    package var consumer: String
    package var app: String
    /// `OPEN` or `CLOSE`.
    package var state: String
    package var stage: String
    /// The MAIN dialog's next sequence.
    package var nextSequence: Int64
    package var skill: String?
    package var ttrType: String
    package var ttrValue: Int64
    package var csat: JSONValue?
    package var closeReason: String?
    package var assigned: JSONValue?
    package var startedAt: Int64
    package var endedAt: Int64?
    package var updatedAt: Int64

    package var isOpen: Bool { state == "OPEN" }
}

/// Reads of the connector's conversations, inside the writer's transaction (commands) or from a snapshot.
package enum ConnectorConversations {
    static let columns = """
        conversation, account, consumer, app, state, stage, next_sequence, skill, ttr_type, ttr_value, csat,
        close_reason, assigned, started_at, ended_at, updated_at
        """

    package static func conversation(_ id: String, in transaction: LogTransaction) throws -> ConnectorConversationRow? {
        try conversation(id, transaction.connection)
    }

    /// `table`: the table's name in this run (a rebuild's shadow table).
    package static func conversation(
        _ id: String,
        _ connection: Connection,
        table: String = "connector_conversations"
    ) throws -> ConnectorConversationRow? {
        let statement = try connection.cachedStatement(sql: "SELECT \(columns) FROM \(table) WHERE conversation = ?")
        defer { statement.reset() }
        try statement.bind([id])
        return try statement.step() ? try decode(statement) : nil
    }

    /// The consumer's open conversation in the account, if any (one at a time, spec §5.2).
    package static func open(
        account: String,
        consumer: String,
        in transaction: LogTransaction
    ) throws -> ConnectorConversationRow? {
        let statement = try transaction.connection.cachedStatement(
            sql: "SELECT \(columns) FROM connector_conversations WHERE account = ? AND consumer = ? AND state = 'OPEN'"
        )
        defer { statement.reset() }
        try statement.bind([account, consumer])
        return try statement.step() ? try decode(statement) : nil
    }

    private static func decode(_ statement: Statement) throws -> ConnectorConversationRow {
        ConnectorConversationRow(
            conversation: statement.text(at: 0),
            account: statement.text(at: 1),
            consumer: statement.text(at: 2),
            app: statement.text(at: 3),
            state: statement.text(at: 4),
            stage: statement.text(at: 5),
            nextSequence: statement.int64(at: 6),
            skill: statement.optionalText(at: 7),
            ttrType: statement.text(at: 8),
            ttrValue: statement.int64(at: 9),
            csat: try statement.optionalText(at: 10).map(JSONValue.parse),
            closeReason: statement.optionalText(at: 11),
            assigned: try statement.optionalText(at: 12).map(JSONValue.parse),
            startedAt: statement.int64(at: 13),
            endedAt: statement.optionalInt64(at: 14),
            updatedAt: statement.int64(at: 15)
        )
    }
}
