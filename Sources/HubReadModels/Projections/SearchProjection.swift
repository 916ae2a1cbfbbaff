import HubDomain
@_spi(Storage) package import HubEventLog
import HubSQLite

/// `message_text`: an FTS5 index of what clients wrote, each message under its transcript row's rowid
/// (the position of its `message.received`), so that a search reads the message's conversation, sender
/// type, time and whether it is hidden from `messages` itself. The index keeps no copy of the texts: its
/// external content is `messages`, whose `text` a snippet reads. From the messages' events:
/// - `message.received` with a text, not redacted: indexed;
/// - `message.softDeleted` / `message.restored`: nothing here (its text stays indexed, so an undo can
///   find it again; the transcripts hide the message, and a hidden message is never a match);
/// - `message.erased`: its text leaves the index (its command asks `SearchIndexMerge` for a merge);
/// - `erasure.performed`: the erased conversations' texts leave it, and it is merged (see below).
///
/// Removing a text takes the words it had: the transcripts (applied first) empty an erased row, and hand
/// its text over in ``ErasedTexts``.
///
/// `message_text`'s writes are held back to the end of the batch (``ProjectionContext/atBatchEnd(sql:_:)``):
/// one FTS5 segment per batch rather than one per message.
package struct SearchProjection: Projection {
    package let name = "search"
    /// 2: prefix indexes of 2, 3 and 4 characters (a prefix query no longer merges every matching
    /// term's doclist). 3: no `search_messages` beside the index; it reads the transcripts' rows. 4: the
    /// index's content is `messages` (the live table's name: a rebuild's index reads no content before
    /// it replaces the live one), not a copy of its own. (An index that kept the words of texts a
    /// `delete.permanent` took out before `SearchIndexMerge` loses them at its first merge: migration 0016
    /// asks for one.)
    package let version = 4
    package let dependencies = ["transcripts"]
    package let schema = ProjectionSchema(
        tables: ["message_text"],
        statements: [
            """
            CREATE VIRTUAL TABLE {message_text} USING fts5(text, content = 'messages',
                tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3 4')
            """
        ]
    )

    /// The text a message of `type` with `content` (opened) is indexed under, if any: a transcript line's
    /// text, not redacted, not empty.
    static func indexedText(type: String, content: JSONValue) -> String? {
        guard ConversationRules.isTranscriptLine(type), content["redact"] != .bool(true),
            let words = content["text"]?.stringValue, !words.isEmpty
        else { return nil }
        return words
    }

    package func sealedValues(in event: RecordedEvent) -> [SealedReference] {
        guard let received = event.typedPayload as? MessageReceived else { return [] }
        return [SealedReference(received.content, record: "message/\(received.id)")]
    }

    package func apply(_ event: RecordedEvent, _ context: ProjectionContext) throws {
        let text = context.table("message_text")
        switch event.type {
        case MessageReceived.type:
            let received = try event.payload(MessageReceived.self)
            guard ConversationRules.isTranscriptLine(received.type.value),
                let content = try context.openJSON(received.content, record: "message/\(received.id)"),
                let words = Self.indexedText(type: received.type.value, content: content)
            else { return }
            // The rowid is the event's position, as the message's row in `messages` has it: the same
            // whether applied inline or rebuilt.
            context.atBatchEnd(sql: "INSERT INTO \(text) (rowid, text) VALUES (?, ?)", [event.position, words])
        case MessageErased.type, ErasurePerformed.type:
            let erased = context.state(ErasedTexts.init)
            for (row, words) in erased.rows {
                context.atBatchEnd(
                    sql: "INSERT INTO \(text) (\(text), rowid, text) VALUES ('delete', ?, ?)",
                    [row, words]
                )
            }
            erased.rows.removeAll()
            // A customer's erasure merges the index at once. A `delete.permanent` asks for a merge in its
            // command, which `SearchIndexMerge` does later, once for many (a merge rewrites the whole index).
            guard event.type == ErasurePerformed.type else { return }
            Self.mergeAtBatchEnd(context)
        default:
            break
        }
    }
}

extension SearchProjection {
    /// Merges the whole index at the end of the writer's batch, after the deletions held back before it:
    /// FTS5 (before SQLite 3.42's secure-delete) only marks deleted rows, and their words stay in the
    /// index's segments until those are merged. Merging them all drops them (with `secure_delete` on,
    /// the freed pages are zeroed). It rewrites the whole index: 0.17 s at 40,000 messages, about 2 s at
    /// a million.
    package static func mergeAtBatchEnd(_ context: ProjectionContext) {
        let text = context.table("message_text")
        context.atBatchEnd(sql: "INSERT INTO \(text) (\(text)) VALUES ('optimize')", [])
    }
}

/// The indexed texts of the message rows an erasure empties, by rowid: the transcripts (which empty
/// them) hand them to the search projection after them, whose index takes a text's words out only
/// when told what they were.
package final class ErasedTexts {
    var rows: [(Int64, String)] = []

    init() {}
}
