import Foundation
public import HubDomain
@_spi(Storage) public import HubEventLog
import HubSQLite
public import HubVault

/// Reads of the conversation projections: the eGain conversation document (spec §4.4) and the
/// query API's lists and transcripts (DESIGN.md §4–§5). Reader connections only.
public struct ConversationQueries: Sendable {
    public let store: EventStore
    package let contactKeys: ContactKeys

    public init(store: EventStore, contactKeys: ContactKeys) {
        self.store = store
        self.contactKeys = contactKeys
    }

    /// A conversation summary, as the query API lists it.
    public struct Summary: Sendable, Equatable {
        public var id: String
        public var json: JSONValue
        public var state: String
        public var startedAt: Int64
    }

    /// The spec §4.4 document of a conversation with its state; `nil` when there is none.
    public func document(_ id: String) async throws -> (state: String, json: JSONValue)? {
        try await store.pool.read { connection in
            guard let row = try ConversationProjection.conversation(id, connection) else { return nil }
            let messages = try ConversationProjection.messages(of: row.id, visibleOnly: true, connection)
            var fields = row.callbackJSON.objectValue ?? [:]
            if let contact = row.contact { fields["conversationContact"] = .string(contact) }
            fields["messages"] = .object(["message": .array(messages.map(\.documentJSON))])
            return (row.state.status.rawValue, .object(fields))
        }
    }

    /// Filters of `GET /v1/conversations`.
    public struct Filter: Sendable {
        public var account: String?
        public var channelType: String?
        public var state: String?
        /// A customer contact address; matched through its keyed hash.
        public var contact: String?
        public var startedFrom: Int64?
        public var startedTo: Int64?

        public init(
            account: String? = nil,
            channelType: String? = nil,
            state: String? = nil,
            contact: String? = nil,
            startedFrom: Int64? = nil,
            startedTo: Int64? = nil
        ) {
            self.account = account
            self.channelType = channelType
            self.state = state
            self.contact = contact
            self.startedFrom = startedFrom
            self.startedTo = startedTo
        }
    }

    /// Conversations in start order after the cursor (`started_at`, `id` of the last one seen);
    /// returns one page and the cursor of its last row when more may follow.
    public func list(
        _ filter: Filter,
        after cursor: (Int64, String)?,
        limit: Int
    ) async throws -> (
        items: [JSONValue], next: (Int64, String)?
    ) {
        let contactKey = filter.contact.map(contactKeys.key)
        return try await store.pool.read { connection in
            var conditions: [String] = []
            var arguments: [any SQLiteBindable] = []
            if let account = filter.account {
                conditions.append("c.account = ?")
                arguments.append(account.lowercased())
            }
            if let channel = filter.channelType {
                conditions.append("c.channel_type = ?")
                arguments.append(channel)
            }
            if let state = filter.state {
                conditions.append("c.state = ?")
                arguments.append(state)
            }
            if let contactKey {
                conditions.append(
                    "c.customer IN (SELECT customer FROM customer_contacts WHERE contact_key = ? AND account = c.account)"
                )
                arguments.append(contactKey)
            }
            if let from = filter.startedFrom {
                conditions.append("c.started_at >= ?")
                arguments.append(from)
            }
            if let to = filter.startedTo {
                conditions.append("c.started_at < ?")
                arguments.append(to)
            }
            if let (startedAt, id) = cursor {
                conditions.append("(c.started_at > ? OR (c.started_at = ? AND c.id > ?))")
                arguments.append(contentsOf: [startedAt, startedAt, id] as [any SQLiteBindable])
            }
            let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            let statement = try connection.prepare(
                sql: """
                    SELECT \(ConversationProjection.conversationColumns)
                    FROM conversations c \(whereClause) ORDER BY c.started_at, c.id LIMIT ?
                    """
            )
            try statement.bind(arguments + [limit + 1])
            var rows: [ConversationRow] = []
            while try statement.step() { rows.append(try ConversationProjection.decodeConversation(statement)) }
            let more = rows.count > limit
            if more { rows.removeLast() }
            return (rows.map(\.summaryJSON), more ? rows.last.map { ($0.startedAt, $0.id) } : nil)
        }
    }

    /// How a transcript is written: a JSON document, one JSON line a message, or one text line a message.
    public enum TranscriptFormat: Sendable {
        case json, ndjson, text
    }

    /// The transcript of a conversation, written in `format`: its visible lines in order (typing
    /// events, hidden and erased messages left out); `nil` when there is no such conversation.
    ///
    /// The JSON forms are written from the stored JSON columns as they are (the projection stores them
    /// canonical: compact, keys sorted, as ``JSONValue`` writes them), without parsing them again.
    public func transcript(_ id: String, format: TranscriptFormat) async throws -> [UInt8]? {
        try await store.pool.read { connection in
            guard let row = try ConversationProjection.conversation(id, connection) else { return nil }
            var body: [UInt8] = []
            switch format {
            case .text:
                for message in try ConversationProjection.messages(of: row.id, visibleOnly: true, connection) {
                    body.append(contentsOf: message.plainTranscriptLine.utf8)
                    body.append(0x0A)
                }
            case .json:
                body.append(contentsOf: #"{"conversation":"#.utf8)
                row.summaryJSON.write(to: &body)
                body.append(contentsOf: #","messages":["#.utf8)
                try Self.writeLines(of: row.id, connection, to: &body, separator: UInt8(ascii: ","))
                body.append(contentsOf: "]}".utf8)
            case .ndjson:
                try Self.writeLines(of: row.id, connection, to: &body, separator: nil)
            }
            return body
        }
    }

    /// Each visible message as `{"content","created","id","messageId"?,"recipients":{"recipient"},
    /// "sender","sent"?,"seq","status","type":{"value"}}`, keys sorted; between them `separator`, or a
    /// newline after each without one.
    private static func writeLines(
        of conversation: String,
        _ connection: Connection,
        to body: inout [UInt8],
        separator: UInt8?
    ) throws {
        let statement = try connection.cachedStatement(
            sql: """
                SELECT content, created_at, id, message_id, \(ConversationProjection.recipients()), sender, sent_at, seq,
                    status, type
                FROM messages WHERE \(ConversationProjection.ofConversation()) AND transcript = 1 AND hidden = 0
                    AND erased = 0
                ORDER BY seq
                """
        )
        defer { statement.reset() }
        try statement.bind([conversation])
        var first = true
        func raw(_ column: Int) { statement.withBlob(at: column) { body.append(contentsOf: $0) } }
        func string(_ column: Int) { JSONValue.writeString(statement.text(at: column), to: &body) }
        while try statement.step() {
            if let separator, !first { body.append(separator) }
            first = false
            body.append(contentsOf: #"{"content":"#.utf8)
            raw(0)
            body.append(contentsOf: #","created":""#.utf8)
            body.append(contentsOf: Timestamp.format(statement.int64(at: 1)).utf8)
            body.append(contentsOf: #"","id":"#.utf8)
            string(2)
            if !statement.isNull(at: 3) {
                body.append(contentsOf: #","messageId":"#.utf8)
                string(3)
            }
            body.append(contentsOf: #","recipients":{"recipient":"#.utf8)
            raw(4)
            body.append(contentsOf: #"},"sender":"#.utf8)
            raw(5)
            if let sent = statement.optionalInt64(at: 6) {
                body.append(contentsOf: #","sent":""#.utf8)
                body.append(contentsOf: Timestamp.format(sent).utf8)
                body.append(UInt8(ascii: "\""))
            }
            body.append(contentsOf: #","seq":"#.utf8)
            body.append(contentsOf: String(statement.int64(at: 7)).utf8)
            body.append(contentsOf: #","status":"#.utf8)
            string(8)
            body.append(contentsOf: #","type":{"value":"#.utf8)
            string(9)
            body.append(contentsOf: "}}".utf8)
            if separator == nil { body.append(0x0A) }
        }
    }
}

extension ConversationRow {
    /// The query API's view of a conversation.
    package var summaryJSON: JSONValue {
        var fields: [String: JSONValue] = [
            "id": .string(id), "account": .object(["id": .string(account), "address": .string(address)]),
            "channel": .object(["type": .string(channelType)]), "state": .string(state.status.rawValue),
            "escalated": .bool(escalated), "origin": .string(origin),
            "started": .string(Timestamp.format(startedAt)),
            "lastActivity": .string(Timestamp.format(state.lastActivity)), "messageCount": .integer(messageCount),
            "customer": .object(["id": .string(customer)]),
        ]
        if let endedAt { fields["ended"] = .string(Timestamp.format(endedAt)) }
        if erased { fields["erased"] = true }
        if let agent = state.assignedAgent { fields["assignedAgent"] = .string(agent) }
        if let queue = state.queue { fields["queue"] = .string(queue) }
        if let entryPoint { fields["entryPoint"] = .object(["id": .string(entryPoint)]) }
        return .object(fields)
    }
}

extension MessageRow {
    /// A message as `GET /conversations/{id}` shows it (spec §4.4).
    package var documentJSON: JSONValue {
        var fields: [String: JSONValue] = [
            "id": .string(id), "type": .object(["value": .string(type)]), "content": content, "sender": sender,
            "recipients": .object(["recipient": recipients]), "status": .string(status),
            "created": .string(Timestamp.format(createdAt)),
        ]
        if let messageId { fields["messageId"] = .string(messageId) }
        if let sentAt { fields["sent"] = .string(Timestamp.format(sentAt)) }
        return .object(fields)
    }

    /// `customer (John smith)`, `custom_bot (bot name)`, `system`.
    package var senderLabel: String {
        guard let name = sender.value(at: "participant.name")?.stringValue, name != senderType else {
            return senderType
        }
        return "\(senderType) (\(name))"
    }

    /// The message as one line of a plain-text transcript: time, sender and text (line breaks in the
    /// text as spaces). The query API's `text/plain` transcript and a forwarded transcript use it.
    package var plainTranscriptLine: String {
        "\(Timestamp.format(createdAt)) \(senderLabel): "
            + (text ?? summaryText).replacingOccurrences(of: "\n", with: " ")
    }

    /// A one-line rendering of a message without text: its type and the value's gist.
    package var summaryText: String {
        if let status = content.value(at: "value.status")?.stringValue { return "[\(type): \(status)]" }
        if let agent = content.value(at: "value.agent.name")?.stringValue
            ?? content.value(at: "value.agent.id")?.stringValue
        {
            return "[\(type): \(agent)]"
        }
        return "[\(type)]"
    }
}
