import HubDomain
@_spi(Storage) package import HubEventLog
import HubSQLite

/// `message_text` (an FTS5 index of what clients wrote) and `search_messages` (each indexed message's
/// conversation, sender type, time and whether it is hidden), both keyed by the position of the
/// message's `message.received`, from the
/// messages' events:
/// - `message.received` with a text, not redacted: indexed;
/// - `message.softDeleted` / `message.restored`: hidden / shown again (its text stays indexed, so an
///   undo can find it again, but a hidden message is never a match);
/// - `message.erased`: its text leaves the index;
/// - `erasure.performed`: the erased conversations' texts leave it, and it is merged (see below).
///
/// `message_text`'s writes are held back to the end of the batch (``ProjectionContext/atBatchEnd(sql:_:)``):
/// one FTS5 segment per batch rather than one per message.
package struct SearchProjection: Projection {
    package let name = "search"
    /// 2: prefix indexes of 2, 3 and 4 characters (a prefix query no longer merges every matching
    /// term's doclist).
    package let version = 2
    package let schema = ProjectionSchema(
        tables: ["search_messages", "message_text"],
        statements: [
            """
            CREATE TABLE {search_messages} (
                row          INTEGER PRIMARY KEY,
                message      TEXT    NOT NULL UNIQUE,
                conversation TEXT    NOT NULL,
                sender_type  TEXT    NOT NULL,
                created_at   INTEGER NOT NULL,
                hidden       INTEGER NOT NULL DEFAULT 0
            ) STRICT
            """,
            "CREATE VIRTUAL TABLE {message_text} USING fts5(text, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3 4')",
        ]
    )

    package func sealedValues(in event: RecordedEvent) -> [SealedReference] {
        guard let received = event.typedPayload as? MessageReceived else { return [] }
        return [SealedReference(received.content, record: "message/\(received.id)")]
    }

    package func apply(_ event: RecordedEvent, _ context: ProjectionContext) throws {
        let messages = context.table("search_messages")
        switch event.type {
        case MessageReceived.type:
            let received = try event.payload(MessageReceived.self)
            guard ConversationRules.isTranscriptLine(received.type.value),
                let content = try context.openJSON(received.content, record: "message/\(received.id)"),
                content["redact"] != .bool(true), let text = content["text"]?.stringValue, !text.isEmpty
            else { return }
            // The row is the event's position: the same whether applied inline or rebuilt (a rebuild
            // skips what was erased since, and numbering would shift).
            try context.connection.run(
                sql: """
                    INSERT INTO \(messages) (row, message, conversation, sender_type, created_at)
                    VALUES (?, ?, ?, ?, ?)
                    """,
                [
                    event.position, received.id, received.conversation, received.sender["type"]?.stringValue ?? "",
                    event.recordedAt,
                ]
            )
            context.atBatchEnd(
                sql: "INSERT INTO \(context.table("message_text")) (rowid, text) VALUES (?, ?)",
                [event.position, text]
            )
        case MessageSoftDeleted.type:
            try context.connection.run(
                sql: "UPDATE \(messages) SET hidden = 1 WHERE message = ?",
                [try event.payload(MessageSoftDeleted.self).message]
            )
        case MessageRestored.type:
            try context.connection.run(
                sql: "UPDATE \(messages) SET hidden = 0 WHERE message = ?",
                [try event.payload(MessageRestored.self).message]
            )
        case MessageErased.type:
            let message = try event.payload(MessageErased.self).message
            if let row = try context.connection.singleInt64(
                sql: "SELECT row FROM \(messages) WHERE message = ?",
                [message]
            ) {
                context.atBatchEnd(sql: "DELETE FROM \(context.table("message_text")) WHERE rowid = ?", [row])
            }
            try context.connection.run(sql: "DELETE FROM \(messages) WHERE message = ?", [message])
        case ErasurePerformed.type:
            let text = context.table("message_text")
            for conversation in try event.payload(ErasurePerformed.self).conversations {
                let rows = try context.connection.singleText(
                    sql: "SELECT json_group_array(row) FROM \(messages) WHERE conversation = ?",
                    [conversation]
                )
                context.atBatchEnd(
                    sql: "DELETE FROM \(text) WHERE rowid IN (SELECT value FROM json_each(?))",
                    [rows ?? "[]"]
                )
                try context.connection.run(sql: "DELETE FROM \(messages) WHERE conversation = ?", [conversation])
            }
            // FTS5 (before SQLite 3.42's secure-delete) only marks deleted rows: their words stay in the
            // index's segments until those are merged. Merging them all drops them (with secure_delete
            // on, the freed pages are zeroed).
            context.atBatchEnd(sql: "INSERT INTO \(text) (\(text)) VALUES ('optimize')", [])
        default:
            break
        }
    }
}
