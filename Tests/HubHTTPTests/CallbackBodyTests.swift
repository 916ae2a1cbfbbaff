import HubDomain
import HubSQLite
import HubTestSupport
import Testing

@testable import HubCommands
@_spi(Storage) @testable import HubEventLog
@testable import HubReadModels
@testable import HubVault

/// The outbox splices callback items from the messages row's JSON text; the text must be what the
/// parsed row would write.
struct CallbackBodyTests {
    @Test func splicedCallbackItemsEqualTheParsedRowsItems() async throws {
        try await withConversationHub { hub in
            var body = messageBody(id: #"client "id" é\n"#, text: "Größe \"42\" \u{1F600}")
            if case .object(var fields) = body {
                fields["metadata"] = .object(["attributes": .array([.object(["name": "k1", "value": "v1"])])])
                body = .object(fields)
            }
            let accepted = try await hub.sendAccepted(body)
            let conversation = try #require(accepted.first?.value(at: "conversation.id")?.stringValue)
            _ = try await hub.sendAccepted(
                messageBody(
                    from: "custom_bot",
                    text: "reply",
                    conversation: conversation,
                    participant: .object(["name": "bot"])
                )
            )
            try await hub.callbacks.waitFor { $0.filter { $0.path == "/customer" }.count == 1 }
            // The first message's delivery is recorded (its row has `sent`); the reply's may not be yet.
            try await hub.waitForEvents { $0.contains { $0.type == "delivery.succeeded" } }
            let pairs = try await hub.store.pool.read { connection in
                let row = try #require(try ConversationProjection.conversation(conversation, connection))
                let parsed = try ConversationProjection.messages(of: conversation, visibleOnly: false, connection)
                return try parsed.map { message in
                    let statement = try connection.prepare(
                        sql: "SELECT \(ConversationProjection.callbackColumns) FROM messages WHERE id = ?"
                    )
                    try statement.bind([message.id])
                    _ = try statement.step()
                    return (
                        MessageRow.callbackText(statement, conversation: row.callbackJSON.text),
                        message.callbackJSON(conversation: row).text,
                        message.sentAt != nil
                    )
                }
            }
            #expect(pairs.count == 2)
            for (spliced, written, _) in pairs { #expect(spliced == written) }
            // Both the sent (delivered) and the not-yet-sent shapes were compared.
            #expect(pairs.contains { $0.2 })
            // And the body of a call of several items is the one JSONValue would write.
            let items = pairs.map(\.0)
            let attributes: JSONValue = .array([.object(["name": "k1", "value": "v1"])])
            #expect(
                CallbackPayload.text(items, attributesText: attributes.text)
                    == CallbackPayload.body(try items.map { try JSONValue.parse($0) }, attributes: attributes).text
            )
        }
    }
}
