@_spi(Storage) package import HubEventLog
import HubSQLite

/// The transcripts as commands read them, inside the writer's transaction.
extension ConversationProjection {
    /// Only the writer keeps parsed customers: an erasure, which the writer applies, empties the cache,
    /// and no reader's older snapshot can put an erased customer back in it.
    ///
    /// The row is handed to the transcripts too (``TranscriptRows/seed(_:_:)``): the command's next
    /// append applies to it.
    package static func conversation(_ id: String, in transaction: LogTransaction) throws -> ConversationRow? {
        let row = try conversation(id, transaction.connection, customers: .customerStates)
        if let row { TranscriptRows.seed(row, transaction.projectionContext) }
        return row
    }

    /// The customer's latest conversation with the account that has not ended.
    package static func openConversation(
        customer: String,
        account: String,
        in transaction: LogTransaction
    ) throws -> ConversationRow? {
        let row = try openConversation(
            customer: customer,
            account: account,
            transaction.connection,
            customers: .customerStates
        )
        if let row { TranscriptRows.seed(row, transaction.projectionContext) }
        return row
    }

    package static func customer(
        account: String,
        contactKeys: [String],
        in transaction: LogTransaction
    ) throws -> (id: String, isNew: Bool, unlinkedKeys: [String]) {
        try customer(account: account, contactKeys: contactKeys, transaction.connection)
    }

    package static func target(
        _ reference: String,
        in conversation: String,
        _ transaction: LogTransaction
    ) throws -> (id: String, seq: Int64)? {
        try target(reference, in: conversation, transaction.connection)
    }

    package static func messages(
        of conversation: String,
        visibleOnly: Bool,
        in transaction: LogTransaction
    ) throws -> [MessageRow] {
        try messages(of: conversation, visibleOnly: visibleOnly, transaction.connection)
    }

    /// The customer's latest conversation with the account, ended or not: its id and last activity.
    package static func latestConversation(
        customer: String,
        account: String,
        in transaction: LogTransaction
    ) throws -> (id: String, lastActivity: Int64)? {
        let statement = try transaction.connection.cachedStatement(
            sql: """
                SELECT id, last_activity FROM conversations WHERE customer = ? AND account = ?
                ORDER BY started_at DESC LIMIT 1
                """
        )
        defer { statement.reset() }
        try statement.bind([customer, account])
        return try statement.step() ? (statement.text(at: 0), statement.int64(at: 1)) : nil
    }

    /// Whether a bot sent anything in the conversation.
    package static func botTookPart(in conversation: String, _ transaction: LogTransaction) throws -> Bool {
        try transaction.connection.singleInt64(
            sql: """
                SELECT EXISTS (SELECT 1 FROM messages WHERE \(ConversationProjection.ofConversation())
                    AND sender_type IN ('custom_bot', 'egain_bot'))
                """,
            [conversation]
        ) == 1
    }

    /// A message's sender type and the client's own `messageId`.
    package static func sender(
        ofMessage id: String,
        in transaction: LogTransaction
    ) throws -> (senderType: String, messageId: String?)? {
        let statement = try transaction.connection.cachedStatement(
            sql: "SELECT sender_type, message_id FROM messages WHERE id = ?"
        )
        defer { statement.reset() }
        try statement.bind([id])
        return try statement.step() ? (statement.text(at: 0), statement.optionalText(at: 1)) : nil
    }

    /// The account a conversation belongs to.
    package static func account(ofConversation id: String, in transaction: LogTransaction) throws -> String? {
        try transaction.connection.singleText(sql: "SELECT account FROM conversations WHERE id = ?", [id])
    }
}

extension AccountDirectory {
    package func account(
        channelType: String,
        address: String,
        in transaction: LogTransaction
    ) throws
        -> ResolvedAccount?
    {
        try account(
            channelType: channelType,
            address: address,
            transaction.connection,
            generation: transaction.projectionContext.carriedState(ConfigurationGeneration.init)
        )
    }

    package func account(id: String, in transaction: LogTransaction) throws -> ResolvedAccount? {
        try account(
            id: id,
            transaction.connection,
            generation: transaction.projectionContext.carriedState(ConfigurationGeneration.init)
        )
    }

    /// The active account with this `address`, whatever its channel (a LivePerson account id names a
    /// HubStore account by its address); the oldest when several have it.
    package func account(address: String, in transaction: LogTransaction) throws -> ResolvedAccount? {
        guard
            let id = try transaction.connection.singleText(
                sql: """
                    SELECT id FROM config_resources
                    WHERE kind = 'account' AND json_extract(state, '$.address') = ?
                        AND json_extract(state, '$.active') IS NOT 0
                    ORDER BY json_extract(state, '$.created'), id LIMIT 1
                    """,
                [address]
            )
        else { return nil }
        return try account(
            id: id,
            transaction.connection,
            generation: transaction.projectionContext.carriedState(ConfigurationGeneration.init)
        )
    }
}
