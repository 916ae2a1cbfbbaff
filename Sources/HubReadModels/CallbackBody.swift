package import HubDomain
@_spi(Storage) import HubEventLog
package import HubSQLite

/// The body of a callback POST (spec §5.3): `{"metadata"?, "messages": {"message": [...]}}`.
package enum CallbackPayload {
    package static func body(_ messages: [JSONValue], attributes: JSONValue?) -> JSONValue {
        var payload: [String: JSONValue] = ["messages": .object(["message": .array(messages)])]
        if let attributes { payload["metadata"] = .object(["attributes": attributes]) }
        return .object(payload)
    }

    /// The same body from items that are JSON text already, written as ``body(_:attributes:)`` writes
    /// it (keys sorted, compact).
    /// `attributesText` is JSON text as ``JSONValue/text`` writes it (the messages row stores it so).
    package static func text(_ items: [String], attributesText: String?) -> String {
        var text = #"{"messages":{"message":["# + items.joined(separator: ",") + "]}"
        if let attributesText { text += #","metadata":{"attributes":"# + attributesText + "}" }
        return text + "}"
    }
}

extension MessageRow {
    /// The callback body item (spec §5.3) spliced from a messages row's stored JSON text, without
    /// parsing it: the same text ``callbackJSON(conversation:)`` writes. `statement` selected
    /// ``ConversationProjection/callbackColumns``.
    package static func callbackText(_ statement: Statement, conversation: String) -> String {
        func string(_ value: String) -> String { JSONValue.string(value).text }
        var text = #"{"content":"# + statement.text(at: 3) + #","conversation":"# + conversation
        text += #","created":"# + string(Timestamp.format(statement.int64(at: 6)))
        text += #","id":"# + string(statement.text(at: 0))
        if let messageId = statement.optionalText(at: 1) { text += #","messageId":"# + string(messageId) }
        text += #","recipients":{"recipient":"# + statement.text(at: 5) + "}"
        text += #","sender":"# + statement.text(at: 4)
        if let sent = statement.optionalInt64(at: 7) { text += #","sent":"# + string(Timestamp.format(sent)) }
        return text + #","type":{"value":"# + string(statement.text(at: 2)) + "}}"
    }

    /// The message as a callback body item (spec §5.3).
    package func callbackJSON(conversation: ConversationRow) -> JSONValue {
        var fields: [String: JSONValue] = [
            "id": .string(id), "type": .object(["value": .string(type)]), "content": content,
            "conversation": conversation.callbackJSON, "sender": sender,
            "recipients": .object(["recipient": recipients]), "created": .string(Timestamp.format(createdAt)),
        ]
        if let messageId { fields["messageId"] = .string(messageId) }
        if let sentAt { fields["sent"] = .string(Timestamp.format(sentAt)) }
        return .object(fields)
    }
}
