import HubDomain
import HubSQLite

/// The delivery outbox, `deliveries`: one row per recipient of each `message.routed`, moved on by
/// `delivery.attempted|succeeded|failed`. Pending rows are what the delivery workers send; since the
/// table is a projection of the log, a crash never loses or invents a delivery.
///
/// Reads the transcripts (a delivery's sender type, and the callback body it keeps for a redacted
/// text or an escalation), so it applies after them.
struct OutboxProjection: Projection {
    let name = "outbox"
    let version = 1
    let dependencies = ["transcripts"]
    let schema = ProjectionSchema(
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
                state           TEXT    NOT NULL CHECK (state = 'pending' OR state = 'succeeded' OR state = 'failed'),
                attempts        INTEGER NOT NULL DEFAULT 0,
                next_attempt_at INTEGER NOT NULL,
                created_at      INTEGER NOT NULL,
                finished_at     INTEGER,
                last_status     INTEGER,
                last_error      TEXT,
                last_latency_ms INTEGER,
                request         TEXT
            ) STRICT
            """,
            "CREATE INDEX {deliveries}_pending ON {deliveries} (next_attempt_at) WHERE state = 'pending'",
            """
            CREATE INDEX {deliveries}_pending_lanes ON {deliveries} (conversation, application, role, seq)
                WHERE state = 'pending'
            """,
        ]
    )

    func apply(_ event: RecordedEvent, _ context: ProjectionContext) throws {
        switch event.type {
        case "message.routed": try routed(event, context)
        case "delivery.attempted", "delivery.succeeded", "delivery.failed": try attempted(event, context)
        default: break
        }
    }

    private func routed(_ event: RecordedEvent, _ context: ProjectionContext) throws {
        let data = try event.json()
        let deliveries = data["deliveries"]?.arrayValue ?? []
        guard !deliveries.isEmpty else { return }
        let messageId = try event.string(data, "message")
        let conversationId = try event.string(data, "conversation")
        guard let message = try row(messageId, context) else { throw event.missing("message \(messageId)'s row") }
        let payload = try keptBody(for: message, conversation: conversationId, event, context)
        for delivery in deliveries {
            try context.connection.run(
                sql: """
                    INSERT INTO \(context.table("deliveries")) (id, conversation, message, seq, application, role,
                        sender_type, payload, state, next_attempt_at, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)
                    """,
                [
                    try event.string(delivery, "id"), conversationId, messageId, message.seq,
                    try event.string(delivery, "application"), try event.string(delivery, "type"), message.senderType,
                    payload, event.recordedAt, event.recordedAt,
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

    /// A redacted text's original content: from the `message.received` the routing follows in the
    /// conversation's stream, opened. `nil` for a message that was not redacted.
    private func originalContent(
        of message: MessageRow,
        routedBy event: RecordedEvent,
        _ context: ProjectionContext
    ) throws -> JSONValue? {
        guard message.senderType != "system", message.text == "*****" else { return nil }
        let statement = try context.connection.cachedStatement(
            sql: """
                SELECT data FROM events WHERE stream = ? AND version < ? AND type = 'message.received'
                ORDER BY version DESC LIMIT 1
                """
        )
        defer { statement.reset() }
        try statement.bind([event.stream, event.version])
        guard try statement.step() else { return nil }
        let received = try JSONValue.parse(statement.text(at: 0))
        guard received["id"]?.stringValue == message.id, let sealed = received["content"]?.stringValue,
            let opened = try context.open(sealed, record: "message/\(message.id)")
        else { return nil }
        let content = try JSONValue.parse(opened)
        return content["redact"] == .bool(true) ? content : nil
    }

    private func attempted(_ event: RecordedEvent, _ context: ProjectionContext) throws {
        let data = try event.json()
        let status: Int64? = if case .integer(let value)? = data["status"] { value } else { nil }
        let latency: Int64? = if case .integer(let value)? = data["latencyMs"] { value } else { nil }
        let request = data["request"]?.stringValue
        let error = data["error"]?.stringValue
        let deliveries = context.table("deliveries")
        for item in data["deliveries"]?.arrayValue ?? [] {
            let id = try event.string(item, "delivery")
            if event.type == "delivery.attempted" {
                guard let next = data["nextAttemptAt"]?.stringValue.flatMap(Timestamp.milliseconds) else {
                    throw event.missing("nextAttemptAt")
                }
                try context.connection.run(
                    sql: """
                        UPDATE \(deliveries) SET attempts = attempts + 1, next_attempt_at = ?, request = ?,
                            last_status = ?, last_error = ?, last_latency_ms = ? WHERE id = ? AND state = 'pending'
                        """,
                    [next, request, status, error, latency, id]
                )
            } else {
                try context.connection.run(
                    sql: """
                        UPDATE \(deliveries) SET state = ?, attempts = attempts + 1, finished_at = ?, request = ?,
                            last_status = ?, last_error = ?, last_latency_ms = ?, payload = NULL
                        WHERE id = ? AND state = 'pending'
                        """,
                    [
                        event.type == "delivery.succeeded" ? "succeeded" : "failed", event.recordedAt, request, status,
                        error, latency, id,
                    ]
                )
            }
        }
    }

    // MARK: - Reading the transcripts

    private func row(_ id: String, _ context: ProjectionContext) throws -> MessageRow? {
        let statement = try context.connection.cachedStatement(
            sql: "SELECT \(ConversationProjection.messageColumns) FROM \(context.table("messages")) WHERE id = ?"
        )
        defer { statement.reset() }
        try statement.bind([id])
        return try statement.step() ? try ConversationProjection.decodeMessage(statement) : nil
    }

    private func visibleMessages(of conversation: String, _ context: ProjectionContext) throws -> [MessageRow] {
        let statement = try context.connection.cachedStatement(
            sql: """
                SELECT \(ConversationProjection.messageColumns) FROM \(context.table("messages"))
                WHERE conversation = ? AND transcript = 1 AND hidden = 0 AND erased = 0 ORDER BY seq
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
