import HubDomain
@_spi(Storage) package import HubEventLog
import HubSQLite

/// `message_text`: an FTS5 index of what clients wrote, each message under its transcript row's rowid
/// (the position of its `message.received`), so that a search reads the message's conversation, sender
/// type, time and whether it is hidden from `messages` itself. From the messages' events:
/// - `message.received` with a text, not redacted: indexed;
/// - `message.softDeleted` / `message.restored`: nothing here (its text stays indexed, so an undo can
///   find it again; the transcripts hide the message, and a hidden message is never a match);
/// - `message.erased`: its text leaves the index;
/// - `erasure.performed`: the erased conversations' texts leave it, and it is merged (see below).
///
/// `message_text`'s writes are held back to the end of the batch (``ProjectionContext/atBatchEnd(sql:_:)``):
/// one FTS5 segment per batch rather than one per message.
package struct SearchProjection: Projection {
    package let name = "search"
    /// 2: prefix indexes of 2, 3 and 4 characters (a prefix query no longer merges every matching
    /// term's doclist). 3: no `search_messages` beside the index; it reads the transcripts' rows.
    package let version = 3
    package let dependencies = ["transcripts"]
    package let schema = ProjectionSchema(
        tables: ["message_text"],
        statements: [
            "CREATE VIRTUAL TABLE {message_text} USING fts5(text, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3 4')"
        ]
    )

    package func sealedValues(in event: RecordedEvent) -> [SealedReference] {
        guard let received = event.typedPayload as? MessageReceived else { return [] }
        return [SealedReference(received.content, record: "message/\(received.id)")]
    }

    package func apply(_ event: RecordedEvent, _ context: ProjectionContext) throws {
        let messages = context.table("messages")
        let text = context.table("message_text")
        switch event.type {
        case MessageReceived.type:
            let received = try event.payload(MessageReceived.self)
            guard ConversationRules.isTranscriptLine(received.type.value),
                let content = try context.openJSON(received.content, record: "message/\(received.id)"),
                content["redact"] != .bool(true), let words = content["text"]?.stringValue, !words.isEmpty
            else { return }
            // The rowid is the event's position, as the message's row in `messages` has it: the same
            // whether applied inline or rebuilt.
            context.atBatchEnd(sql: "INSERT INTO \(text) (rowid, text) VALUES (?, ?)", [event.position, words])
        case MessageErased.type:
            // The transcripts (applied first) keep the erased message's row, emptied.
            let message = try event.payload(MessageErased.self).message
            if let row = try context.connection.singleInt64(
                sql: "SELECT rowid FROM \(messages) WHERE id = ?",
                [message]
            ) {
                context.atBatchEnd(sql: "DELETE FROM \(text) WHERE rowid = ?", [row])
            }
        case ErasurePerformed.type:
            for conversation in try event.payload(ErasurePerformed.self).conversations {
                let rows = try context.connection.singleText(
                    sql: "SELECT json_group_array(rowid) FROM \(messages) WHERE conversation = ?",
                    [conversation]
                )
                context.atBatchEnd(
                    sql: "DELETE FROM \(text) WHERE rowid IN (SELECT value FROM json_each(?))",
                    [rows ?? "[]"]
                )
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
