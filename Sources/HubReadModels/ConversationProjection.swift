import Foundation
package import HubDomain
@_spi(Storage) import HubEventLog
package import HubSQLite
import HubVault

/// A conversation as the projection holds it.
package struct ConversationRow: Sendable {
    package var id: String
    package var account: String
    package var address: String
    package var channelType: String
    package var entryPoint: String?
    package var customer: String
    package var customerState: JSONValue?
    package var contact: String?
    package var origin: String
    package var state: ConversationState
    package var escalated: Bool
    package var startedAt: Int64
    package var endedAt: Int64?
    package var messageCount: Int64
    /// Its customer was erased (`erasure.performed`).
    package var erased = false
    /// The position of its `conversation.started`, which also numbers its content key; `nil` for a
    /// row made before that event was appended.
    package var number: Int64?

    package init(
        id: String,
        account: String,
        address: String,
        channelType: String,
        entryPoint: String?,
        customer: String,
        customerState: JSONValue?,
        contact: String?,
        origin: String,
        state: ConversationState,
        escalated: Bool,
        startedAt: Int64,
        endedAt: Int64?,
        messageCount: Int64
    ) {
        (self.id, self.account, self.address, self.channelType) = (id, account, address, channelType)
        (self.entryPoint, self.customer, self.customerState, self.contact) = (
            entryPoint, customer, customerState, contact
        )
        (self.origin, self.state, self.escalated) = (origin, state, escalated)
        (self.startedAt, self.endedAt, self.messageCount) = (startedAt, endedAt, messageCount)
    }

    /// Whether the customer gave at least one contact (an identifiable customer, spec §5.2 item 6).
    package var customerHasContact: Bool {
        customerState?.value(at: "contacts")?["contact"]?.arrayValue?.isEmpty == false
    }

    /// `conversation` of a callback body (spec §5.3): id, account, entry point, customer.
    package var callbackJSON: JSONValue {
        var fields: [String: JSONValue] = [
            "id": .string(id),
            "account": .object(["address": .string(address), "channel": .object(["type": .string(channelType)])]),
        ]
        if let entryPoint { fields["entryPoint"] = .object(["id": .string(entryPoint)]) }
        if let customerState { fields["customer"] = customerState }
        return .object(fields)
    }

    /// The columns ``callbackText(_:)`` reads, in order.
    package static let callbackColumns = "id, account, account_address, channel_type, entry_point, customer_state"

    /// ``callbackJSON`` as text, spliced from a conversations row without parsing its customer
    /// (the row stores it as ``JSONValue/text`` writes it); `statement` selected ``callbackColumns``.
    package static func callbackText(_ statement: Statement) -> String {
        func string(_ value: String) -> String { JSONValue.string(value).text }
        var text = #"{"account":{"address":"# + string(statement.text(at: 2))
        text += #","channel":{"type":"# + string(statement.text(at: 3)) + "}}"
        if let customer = statement.optionalText(at: 5) { text += #","customer":"# + customer }
        if let entryPoint = statement.optionalText(at: 4) {
            text += #","entryPoint":{"id":"# + string(entryPoint) + "}"
        }
        return text + #","id":"# + string(statement.text(at: 0)) + "}"
    }
}

/// A message row of the transcript projection.
package struct MessageRow: Sendable {
    package var conversation: String
    package var seq: Int64
    package var id: String
    package var messageId: String?
    package var type: String
    package var senderType: String
    package var sender: JSONValue
    package var recipients: JSONValue
    package var text: String?
    package var content: JSONValue
    package var attributes: JSONValue?
    package var transcript: Bool
    package var status: String
    package var createdAt: Int64
    package var sentAt: Int64?
    package var hidden: Bool
    package var erased: Bool
    /// Deliveries not yet finished.
    package var deliveriesPending: Int = 0
    package var position: Int64
}

/// Reading the transcript tables (``TranscriptsProjection`` writes them).
package enum ConversationProjection {
    package static let conversationColumns = """
        id, account, account_address, channel_type, entry_point, customer, customer_state, contact, origin,
        state, escalated, assigned_agent, queue, started_at, ended_at, last_activity, message_count, erased, number
        """

    /// `customers`: where parsed customers are kept (the writer's reads; see ``JSONTextCache``).
    package static func conversation(
        _ id: String,
        _ connection: Connection,
        customers: JSONTextCache? = nil
    ) throws -> ConversationRow? {
        let statement = try connection.cachedStatement(
            sql: "SELECT \(conversationColumns) FROM conversations WHERE id = ?"
        )
        defer { statement.reset() }
        try statement.bind([id.lowercased()])
        return try statement.step() ? try decodeConversation(statement, customers: customers) : nil
    }

    /// The customer's latest conversation with the account that has not ended.
    package static func openConversation(
        customer: String,
        account: String,
        _ connection: Connection,
        customers: JSONTextCache? = nil
    ) throws
        -> ConversationRow?
    {
        let statement = try connection.cachedStatement(
            sql: """
                SELECT \(conversationColumns) FROM conversations
                WHERE customer = ? AND account = ? AND state != 'ended' ORDER BY started_at DESC LIMIT 1
                """
        )
        defer { statement.reset() }
        try statement.bind([customer, account])
        return try statement.step() ? try decodeConversation(statement, customers: customers) : nil
    }

    /// `customers`: where the customer's parsed value is looked up and kept; `nil` parses it.
    package static func decodeConversation(
        _ statement: Statement,
        customers: JSONTextCache? = nil
    ) throws -> ConversationRow {
        var row = ConversationRow(
            id: statement.text(at: 0),
            account: statement.text(at: 1),
            address: statement.text(at: 2),
            channelType: statement.text(at: 3),
            entryPoint: statement.optionalText(at: 4),
            customer: statement.text(at: 5),
            customerState: try statement.optionalText(at: 6).map { try customers?.parse($0) ?? JSONValue.parse($0) },
            contact: statement.optionalText(at: 7),
            origin: statement.text(at: 8),
            state: ConversationState(
                status: ConversationState.Status(rawValue: statement.text(at: 9)) ?? .active,
                lastActivity: statement.int64(at: 15),
                assignedAgent: statement.optionalText(at: 11),
                queue: statement.optionalText(at: 12)
            ),
            escalated: statement.int64(at: 10) != 0,
            startedAt: statement.int64(at: 13),
            endedAt: statement.optionalInt64(at: 14),
            messageCount: statement.int64(at: 16)
        )
        row.erased = statement.int64(at: 17) != 0
        row.number = statement.int64(at: 18)
        return row
    }

    /// What ``decodeMessage(_:)`` reads, from a `messages` table whose recipients are in `table` and
    /// whose conversations are in `conversations` (their copies in a rebuild).
    package static func messageColumns(
        recipients table: String = "message_recipients",
        conversations: String = "conversations"
    ) -> String {
        """
        \(conversationId(conversations)), seq, id, message_id, type, sender_type, sender, \(recipients(table)), text,
        content, attributes, transcript, status, created_at, sent_at, hidden, erased, position
        """
    }

    /// A message row's conversation id, from the row's `conversation` (the conversation's `number`).
    package static func conversationId(_ table: String = "conversations") -> String {
        "(SELECT c.id FROM \(table) AS c WHERE c.number = conversation)"
    }

    /// The condition that picks the rows of `messages` of the conversation whose id is the statement's
    /// `parameter` (by default its next argument).
    package static func ofConversation(_ table: String = "conversations", parameter: String = "?") -> String {
        "conversation = (SELECT c.number FROM \(table) AS c WHERE c.id = \(parameter))"
    }

    /// What ``MessageRow/callbackText(_:conversation:)`` reads, and the attributes after it.
    package static let callbackColumns =
        "id, message_id, type, content, sender, \(recipients()), created_at, sent_at, attributes"

    /// A message's recipients as JSON text (`[]` before it is routed), from the row's reference into
    /// `table` (`message_recipients`, or its rebuild's copy).
    package static func recipients(_ table: String = "message_recipients") -> String {
        "coalesce((SELECT r.json FROM \(table) AS r WHERE r.id = recipients), '[]')"
    }

    package static func decodeMessage(_ statement: Statement) throws -> MessageRow {
        MessageRow(
            conversation: statement.text(at: 0),
            seq: statement.int64(at: 1),
            id: statement.text(at: 2),
            messageId: statement.optionalText(at: 3),
            type: statement.text(at: 4),
            senderType: statement.text(at: 5),
            sender: try JSONValue.parse(statement.text(at: 6)),
            recipients: try JSONValue.parse(statement.text(at: 7)),
            text: statement.optionalText(at: 8),
            content: try JSONValue.parse(statement.text(at: 9)),
            attributes: try statement.optionalText(at: 10).map(JSONValue.parse),
            transcript: statement.int64(at: 11) != 0,
            status: statement.text(at: 12),
            createdAt: statement.int64(at: 13),
            sentAt: statement.optionalInt64(at: 14),
            hidden: statement.int64(at: 15) != 0,
            erased: statement.int64(at: 16) != 0,
            position: statement.int64(at: 17)
        )
    }

    /// A message row by hub id.
    package static func message(_ id: String, _ connection: Connection) throws -> MessageRow? {
        let statement = try connection.cachedStatement(sql: "SELECT \(messageColumns()) FROM messages WHERE id = ?")
        defer { statement.reset() }
        try statement.bind([id])
        return try statement.step() ? try decodeMessage(statement) : nil
    }

    /// The conversation's messages in order; `visibleOnly` keeps transcript lines not hidden or erased.
    package static func messages(
        of conversation: String,
        visibleOnly: Bool,
        _ connection: Connection
    ) throws -> [MessageRow] {
        let filter = visibleOnly ? " AND transcript = 1 AND hidden = 0 AND erased = 0" : ""
        let statement = try connection.cachedStatement(
            sql: "SELECT \(messageColumns()) FROM messages WHERE \(ofConversation())\(filter) ORDER BY seq"
        )
        defer { statement.reset() }
        try statement.bind([conversation])
        var rows: [MessageRow] = []
        while try statement.step() { rows.append(try decodeMessage(statement)) }
        return rows
    }

    /// A message of the conversation by hub id, or by the customer's own `messageId`.
    package static func target(
        _ reference: String,
        in conversation: String,
        _ connection: Connection
    ) throws
        -> (id: String, seq: Int64)?
    {
        let statement = try connection.cachedStatement(
            sql: """
                SELECT id, seq FROM messages
                    WHERE \(ofConversation(parameter: "?1"))
                    AND (id = ?2 OR (message_id = ?2 AND sender_type = 'customer')) ORDER BY seq DESC LIMIT 1
                """
        )
        defer { statement.reset() }
        try statement.bind([conversation, reference])
        return try statement.step() ? (statement.text(at: 0), statement.int64(at: 1)) : nil
    }

    /// The customer with any of these contact keys at the account (the first key known wins), or a new
    /// id; and the keys not yet linked to anyone at the account (``TranscriptsProjection`` links them
    /// from `conversation.started` or `customer.contactsLinked`).
    package static func customer(
        account: String,
        contactKeys: [String],
        _ connection: Connection
    ) throws -> (id: String, isNew: Bool, unlinkedKeys: [String]) {
        var found: String?
        var unlinked: [String] = []
        for key in contactKeys {
            let owner = try connection.singleText(
                sql: "SELECT customer FROM customer_contacts WHERE account = ? AND contact_key = ?",
                [account, key]
            )
            if let owner {
                if found == nil { found = owner }
            } else if !unlinked.contains(key) {
                unlinked.append(key)
            }
        }
        return (found ?? EventID.makeV7(), found == nil, unlinked)
    }
}
