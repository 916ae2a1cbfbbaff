import HubDomain
@_spi(Storage) package import HubEventLog
import HubSQLite
import HubVault

/// The delivery outbox, `deliveries`: one row per recipient of each `message.routed` until it is done,
/// moved on by `delivery.attempted` and gone with `delivery.succeeded|failed` (what became of it is in
/// the log, and the message's transcript row names the call that finished it). Its rows are what the
/// delivery workers send; since the table is a projection of the log, a crash never loses or invents a
/// delivery.
///
/// Reads the transcripts (a delivery's sender type, and the callback body it keeps for a redacted
/// text or an escalation), so it applies after them. The LivePerson connector's webhooks are rows of
/// the same outbox, from the deliveries its `connector.*` events list, each keeping its notification
/// as the body (role: the webhook key; application: the app installation); they read the connector's
/// tables, so it applies after those too.
package struct OutboxProjection: Projection {
    package let name = "outbox"
    /// 2: `deliveries` is a WITHOUT ROWID table (its id is the key: no separate index on it).
    /// 3: only pending deliveries: a finished one's row goes (no `state`, no `finished_at`).
    package let version = 3
    package let dependencies = ["routing", "transcripts", "connector"]
    package let schema = ProjectionSchema(
        tables: ["deliveries"],
        statements: [
            """
            CREATE TABLE {deliveries} (
                id              TEXT    PRIMARY KEY,
                conversation    TEXT    NOT NULL,
                message         TEXT    NOT NULL,
                seq             INTEGER NOT NULL,
                application     TEXT    NOT NULL,
                role            TEXT    NOT NULL,
                sender_type     TEXT    NOT NULL,
                payload         TEXT    CHECK (payload IS NULL OR json_valid(payload)),
                attempts        INTEGER NOT NULL DEFAULT 0,
                next_attempt_at INTEGER NOT NULL,
                created_at      INTEGER NOT NULL,
                last_status     INTEGER,
                last_error      TEXT,
                last_latency_ms INTEGER,
                request         TEXT
            ) STRICT, WITHOUT ROWID
            """,
            "CREATE INDEX {deliveries}_due ON {deliveries} (next_attempt_at)",
            "CREATE INDEX {deliveries}_lanes ON {deliveries} (conversation, application, role, seq)",
        ]
    )

    package func apply(_ event: RecordedEvent, _ context: ProjectionContext) throws {
        switch event.type {
        case MessageRouted.type:
            try routed(
                try RoutingProjection.resolved(try event.payload(MessageRouted.self), event, context),
                event,
                context
            )
        case ConnectorEventPublished.type:
            let published = try event.payload(ConnectorEventPublished.self)
            guard let deliveries = published.deliveries, !deliveries.isEmpty else { return }
            try TranscriptRows.writeHeld(context)
            let message = try published.message.flatMap { try row($0, context) }
            let body = ConnectorNotifications.messaging(
                published,
                content: message?.content,
                text: message?.text,
                at: event.recordedAt
            )
            try webhooks(
                deliveries,
                body,
                conversation: published.conversation,
                message: published.message,
                event,
                context
            )
        case ConnectorConversationOpened.type, ConnectorConversationChanged.type:
            let (conversation, deliveries) =
                event.type == ConnectorConversationOpened.type
                ? try event.payload(ConnectorConversationOpened.self).webhookTarget
                : try event.payload(ConnectorConversationChanged.self).webhookTarget
            guard let deliveries, !deliveries.isEmpty,
                let row = try ConnectorConversations.conversation(
                    conversation,
                    context.connection,
                    table: context.table("connector_conversations")
                )
            else { return }
            try webhooks(
                deliveries,
                ConnectorNotifications.conversationChange(row),
                conversation: conversation,
                message: nil,
                event,
                context
            )
        case DeliveryAttempted.type:
            let attempted = try event.payload(DeliveryAttempted.self)
            guard let next = Timestamp.milliseconds(attempted.nextAttemptAt) else {
                throw event.missing("nextAttemptAt")
            }
            let outcome = Outcome(attempted.request, attempted.status, attempted.error, attempted.latencyMs)
            try attempt(outcome, attempted.deliveries, nextAttemptAt: next, event, context)
        case DeliverySucceeded.type: try finish(try event.payload(DeliverySucceeded.self).deliveries, context)
        case DeliveryFailed.type: try finish(try event.payload(DeliveryFailed.self).deliveries, context)
        case ErasurePerformed.type:
            try Self.writeHeld(context)
            // Nothing of an erased conversation goes out any more, and no kept body stays.
            for conversation in try event.payload(ErasurePerformed.self).conversations {
                try context.connection.run(
                    sql: "DELETE FROM \(context.table("deliveries")) WHERE conversation = ?",
                    [conversation]
                )
            }
        default: break
        }
    }

    private func routed(_ routed: MessageRouted, _ event: RecordedEvent, _ context: ProjectionContext) throws {
        let deliveries = routed.deliveries
        guard !deliveries.isEmpty else { return }
        let messageId = routed.message
        let conversationId = routed.conversation
        let written = context.state(TranscriptScratch.init).routed
        guard let message = try (written?.id == messageId ? written : nil) ?? summary(messageId, context) else {
            throw event.missing("message \(messageId)'s row")
        }
        var payload: String?
        if message.text == "*****" || message.type == "escalation.transfer" {
            // The kept body reads the transcript's rows.
            try TranscriptRows.writeHeld(context)
            if let row = try row(messageId, context) {
                payload = try keptBody(for: row, conversation: conversationId, event, context)
            }
        }
        let scratch = context.state(OutboxScratch.init)
        for delivery in deliveries {
            scratch.index[delivery.id] = scratch.held.count
            scratch.held.append(
                HeldDelivery(
                    id: delivery.id,
                    conversation: conversationId,
                    message: messageId,
                    seq: message.seq,
                    application: delivery.application,
                    role: delivery.type,
                    senderType: message.senderType,
                    payload: payload,
                    createdAt: event.recordedAt
                )
            )
        }
    }

    package func settle(_ context: ProjectionContext) throws {
        try Self.writeHeld(context)
    }

    private static func writeHeld(_ context: ProjectionContext) throws {
        try context.state(OutboxScratch.init).write(context)
    }

    /// A connector change's webhook deliveries: each keeps the notification, in the conversation's lane
    /// order (the event's position).
    private func webhooks(
        _ deliveries: [MessageRouted.Delivery],
        _ body: JSONValue,
        conversation: String,
        message: String?,
        _ event: RecordedEvent,
        _ context: ProjectionContext
    ) throws {
        for delivery in deliveries {
            try context.connection.run(
                sql: """
                    INSERT INTO \(context.table("deliveries")) (id, conversation, message, seq, application, role,
                        sender_type, payload, next_attempt_at, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, 'connector', ?, ?, ?)
                    """,
                [
                    delivery.id, conversation, message ?? event.id, event.position, delivery.application,
                    delivery.type, body.text, event.recordedAt, event.recordedAt,
                ]
            )
        }
    }

    /// The callback body a delivery keeps when the message row cannot give it at delivery time: a
    /// redacted text goes out once in the original, an escalation carries the transcript so far (spec §5.2).
    private func keptBody(
        for message: MessageRow,
        conversation: String,
        _ event: RecordedEvent,
        _ context: ProjectionContext
    ) throws -> String? {
        var original = message
        let redacted = try originalContent(of: message, routedBy: event, context)
        if let redacted { original.content = redacted }
        guard redacted != nil || message.type == "escalation.transfer" else { return nil }
        guard let row = try conversationRow(conversation, context) else { throw event.missing("conversation") }
        var batch: [JSONValue] = []
        if message.type == "escalation.transfer" {
            batch = try visibleMessages(of: conversation, context).filter { $0.id != message.id }
                .map { $0.callbackJSON(conversation: row) }
        }
        batch.append(original.callbackJSON(conversation: row))
        return CallbackPayload.body(batch, attributes: message.attributes).text
    }

    /// A redacted text's original content: from the `message.received` that carries the routing, or
    /// that the routing follows, in the conversation's stream, opened. `nil` for a message that was not
    /// redacted.
    private func originalContent(
        of message: MessageRow,
        routedBy event: RecordedEvent,
        _ context: ProjectionContext
    ) throws -> JSONValue? {
        guard message.senderType != "system", message.text == "*****" else { return nil }
        let statement = try context.connection.cachedStatement(
            sql: """
                SELECT data FROM events WHERE stream = ? AND version <= ? AND type = 'message.received'
                ORDER BY version DESC LIMIT 1
                """
        )
        defer { statement.reset() }
        try statement.bind([event.stream, event.version])
        guard try statement.step() else { return nil }
        let received = try EventCatalogue.decode(MessageReceived.self, from: statement.text(at: 0))
        guard received.id == message.id,
            let opened = try context.open(received.content, record: "message/\(message.id)")
        else { return nil }
        let content = try JSONValue.parse(opened)
        return content["redact"] == .bool(true) ? content : nil
    }

    /// What an attempt's event says of every delivery it lists.
    struct Outcome {
        var request: String
        var status: Int?
        var error: String?
        var latencyMs: Int64

        init(_ request: String, _ status: Int?, _ error: String?, _ latencyMs: Int64) {
            (self.request, self.status, self.error, self.latencyMs) = (request, status, error, latencyMs)
        }
    }

    /// `delivery.attempted`: the deliveries stay pending, due again at `nextAttemptAt`.
    private func attempt(
        _ outcome: Outcome,
        _ items: [DeliveryItem],
        nextAttemptAt: Int64,
        _ event: RecordedEvent,
        _ context: ProjectionContext
    ) throws {
        let scratch = context.state(OutboxScratch.init)
        for item in items {
            if let index = scratch.index[item.delivery] {
                guard !scratch.held[index].finished else { continue }
                scratch.held[index].attempts += 1
                scratch.held[index].nextAttemptAt = nextAttemptAt
                scratch.held[index].record(outcome)
                continue
            }
            try context.connection.run(
                sql: """
                    UPDATE \(context.table("deliveries")) SET attempts = attempts + 1, next_attempt_at = ?, request = ?,
                        last_status = ?, last_error = ?, last_latency_ms = ? WHERE id = ?
                    """,
                [
                    nextAttemptAt, outcome.request, outcome.status.map(Int64.init), outcome.error, outcome.latencyMs,
                    item.delivery,
                ]
            )
        }
    }

    /// `delivery.succeeded|failed`: the deliveries are done, and their rows (with any kept body) go.
    private func finish(_ items: [DeliveryItem], _ context: ProjectionContext) throws {
        let scratch = context.state(OutboxScratch.init)
        for item in items {
            if let index = scratch.index[item.delivery] {
                scratch.held[index].finished = true
                continue
            }
            try context.connection.run(
                sql: "DELETE FROM \(context.table("deliveries")) WHERE id = ?",
                [item.delivery]
            )
        }
    }

    // MARK: - Reading the transcripts

    /// What every delivery row needs of its message, without decoding the rest of it.
    private func summary(_ id: String, _ context: ProjectionContext) throws -> MessageSummary? {
        let statement = try context.connection.cachedStatement(
            sql: "SELECT seq, sender_type, type, text FROM \(context.table("messages")) WHERE id = ?"
        )
        defer { statement.reset() }
        try statement.bind([id])
        guard try statement.step() else { return nil }
        return MessageSummary(
            id: id,
            seq: statement.int64(at: 0),
            senderType: statement.text(at: 1),
            type: statement.text(at: 2),
            text: statement.optionalText(at: 3)
        )
    }

    /// The transcripts' message columns, from the tables this context names.
    private static func messageColumns(_ context: ProjectionContext) -> String {
        ConversationProjection.messageColumns(
            recipients: context.table("message_recipients"),
            conversations: context.table("conversations")
        )
    }

    private func row(_ id: String, _ context: ProjectionContext) throws -> MessageRow? {
        let statement = try context.connection.cachedStatement(
            sql: "SELECT \(Self.messageColumns(context)) FROM \(context.table("messages")) WHERE id = ?"
        )
        defer { statement.reset() }
        try statement.bind([id])
        return try statement.step() ? try ConversationProjection.decodeMessage(statement) : nil
    }

    private func visibleMessages(of conversation: String, _ context: ProjectionContext) throws -> [MessageRow] {
        let statement = try context.connection.cachedStatement(
            sql: """
                SELECT \(Self.messageColumns(context)) FROM \(context.table("messages"))
                WHERE \(ConversationProjection.ofConversation(context.table("conversations"))) AND transcript = 1
                    AND hidden = 0 AND erased = 0
                ORDER BY seq
                """
        )
        defer { statement.reset() }
        try statement.bind([conversation])
        var rows: [MessageRow] = []
        while try statement.step() { rows.append(try ConversationProjection.decodeMessage(statement)) }
        return rows
    }

    private func conversationRow(_ id: String, _ context: ProjectionContext) throws -> ConversationRow? {
        let statement = try context.connection.cachedStatement(
            sql:
                "SELECT \(ConversationProjection.conversationColumns) FROM \(context.table("conversations")) WHERE id = ?"
        )
        defer { statement.reset() }
        try statement.bind([id])
        return try statement.step() ? try ConversationProjection.decodeConversation(statement) : nil
    }
}

extension ConnectorConversationOpened {
    var webhookTarget: (String, [MessageRouted.Delivery]?) { (conversation, deliveries) }
}

extension ConnectorConversationChanged {
    var webhookTarget: (String, [MessageRouted.Delivery]?) { (conversation, deliveries) }
}
