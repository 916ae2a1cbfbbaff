import Foundation
import HTTPTypes
import HubCommands
import HubDomain
@_spi(Storage) import HubEventLog
import HubReadModels
import HubSQLite
import HubTestSupport
import HubVault
import Testing

struct ConversationFlowTests {
    /// Customer → bot → escalation → agent → end, with every callback received by a real HTTP server.
    @Test func aWholeConversationReachesEachPartyInOrderWithHeadersAndAuth() async throws {
        try await withConversationHub { hub in
            let first = try await hub.sendAccepted(messageBody(text: "I need help with my order."))
            let conversation = try #require(first.first?.value(at: "conversation.id")?.stringValue)
            #expect(first.first?["status"] == "accepted")
            // Active conversation: not yet available through GET (404-102).
            let (activeStatus, activeBody) = try await hub.api.call(.get, "/conversations/\(conversation)")
            #expect(activeStatus == 404)
            #expect(activeBody?["code"] == "404-102")

            let bot = JSONValue.object(["id": .string(hub.setup.participant), "name": "custom_bot_participant"])
            _ = try await hub.sendAccepted(
                messageBody(
                    from: "custom_bot",
                    text: "Please enter your order number",
                    conversation: conversation,
                    participant: bot
                )
            )
            // Without conversation.id the customer's next message continues the open conversation.
            let second = try await hub.sendAccepted(messageBody(text: "It is 42."))
            #expect(second.first?.value(at: "conversation.id")?.stringValue == conversation)
            _ = try await hub.sendAccepted(
                messageBody(
                    "escalation.transfer",
                    from: "custom_bot",
                    text: "needs a human",
                    conversation: conversation,
                    participant: bot
                )
            )
            _ = try await hub.sendAccepted(messageBody(text: "Hello? Anyone?"))
            _ = try await hub.sendAccepted(
                messageBody(
                    "agent.join",
                    from: "custom_agent",
                    text: nil,
                    value: .object(["agent": .object(["id": "agent-7", "name": "Alice"])]),
                    conversation: conversation
                )
            )
            _ = try await hub.sendAccepted(
                messageBody(
                    from: "custom_agent",
                    text: "Alice here. Your order ships today.",
                    conversation: conversation
                )
            )
            _ = try await hub.sendAccepted(
                messageBody("conversation.end", from: "custom_agent", text: nil, conversation: conversation)
            )

            let callbacks = hub.callbacks
            try await callbacks.waitFor("all deliveries") { requests in
                requests.filter { $0.path == "/customer" }.count == 5 && requests.filter { $0.path == "/bot" }.isEmpty
                    && requests.filter { $0.path == "/custom_bot" }.count == 3
                    && requests.filter { $0.path == "/custom_agent" }.count == 2
            }
            try await hub.waitForEvents { $0.deliveries("delivery.succeeded") == 10 }
            func texts(_ path: String) throws -> [String] {
                try callbacks.requests(to: path).map { request in
                    let body = try JSONValue.parse(request.body)
                    let last = body.value(at: "messages")?["message"]?.arrayValue?.last
                    return last?.value(at: "content.text")?.stringValue ?? last?.value(at: "type.value")?.stringValue
                        ?? ""
                }
            }
            // The agent's end reaches the bot's session too (spec §4.3 [P]: every other party).
            #expect(try texts("/custom_bot") == ["I need help with my order.", "It is 42.", "conversation.end"])
            #expect(try texts("/custom_agent") == ["needs a human", "Hello? Anyone?"])
            #expect(
                try texts("/customer") == [
                    "Please enter your order number", "conversation.state", "agent.join",
                    "Alice here. Your order ships today.", "conversation.end",
                ]
            )
            // The escalation carries the transcript so far.
            let escalation = try JSONValue.parse(callbacks.requests(to: "/custom_agent")[0].body)
            #expect(
                escalation.value(at: "messages")?["message"]?.arrayValue?.compactMap {
                    $0.value(at: "content.text")?.stringValue
                }
                    == ["I need help with my order.", "Please enter your order number", "It is 42.", "needs a human"]
            )
            // Headers: JSON, the role's custom header, a request id, and each role's Authorization.
            for request in callbacks.requests where request.path != "/token" {
                #expect(request.header("content-type") == "application/json")
                #expect(request.header("x-egain-request-id")?.count == 36)
                #expect(request.header("x-custom") == String(request.path.dropFirst()) + "-header")
            }
            let basic = "Basic " + Data("hub:s3cret-pw".utf8).base64EncodedString()
            #expect(callbacks.requests(to: "/customer").allSatisfy { $0.header("authorization") == basic })
            #expect(callbacks.requests(to: "/custom_bot").allSatisfy { $0.header("authorization") == "Bearer token-1" })
            #expect(callbacks.requests(to: "/custom_agent").allSatisfy { $0.header("authorization") == nil })
            // One token request, with the configured method, headers and payload.
            let tokenRequests = callbacks.requests(to: "/token")
            #expect(tokenRequests.count == 1)
            #expect(tokenRequests.first?.method == "POST")
            #expect(tokenRequests.first?.header("x-api-key") == "key-123")
            #expect(tokenRequests.first?.body == #"{"clientId": "bot", "clientSecret": "shh"}"#)

            // Ended: GET returns the spec §4.4 document.
            let (status, document) = try await hub.api.call(.get, "/conversations/\(conversation)")
            #expect(status == 200)
            #expect(document?.value(at: "account.address") == "123456789")
            #expect(document?["conversationContact"] == "phone.mobile")
            let messages = document?.value(at: "messages")?["message"]?.arrayValue ?? []
            #expect(messages.first?.value(at: "content.text") == "I need help with my order.")
            #expect(messages.first?["status"] == "sent")
            #expect(messages.first?.value(at: "recipients")?["recipient"]?.arrayValue?.first?["type"] == "custom_bot")

            // The transcript, as text, and the log agree.
            let (textStatus, text) = try await hub.queryText(
                "/v1/conversations/\(conversation)/transcript",
                accept: "text/plain"
            )
            #expect(textStatus == 200)
            #expect(text.contains("customer (John smith): I need help with my order."))
            #expect(text.contains("custom_agent: Alice here. Your order ships today."))
            let log = try await hub.events()
            let events = log.filter { $0.stream == "conversation/\(conversation)" }
            let types = events.map(\.type)
            #expect(types.first == "conversation.started")
            #expect(types.filter { $0 == "message.received" }.count == 8)
            #expect(types.filter { $0 == "message.originated" }.count == 1)
            // Each attempt is one event on its call's stream, listing the deliveries it carried.
            #expect(log.deliveries("delivery.succeeded", conversation: conversation) == 10)
            #expect(!types.contains { $0.hasPrefix("delivery.") })
            #expect(types.contains("conversation.escalated") && types.contains("conversation.assigned"))
            #expect(types.contains("conversation.ended"))
            // Content and identity are sealed in the log.
            #expect(!events.contains { $0.data.contains("I need help") || $0.data.contains("johnsmith@example.com") })
            // Each routing names its configuration's generation; the configuration itself is recorded once
            // for the account, before the first message routed under it.
            // A message routed as it is received carries its routing in its `message.received`: one
            // event for the message; the hub's own message has a `message.routed` of its own.
            #expect(types.filter { $0 == "message.routed" }.count == 1)
            let routings: [JSONValue] = try events.compactMap { event in
                let data = try JSONValue.parse(event.data)
                return event.type == "message.routed" ? data : event.type == "message.received" ? data["routing"] : nil
            }
            #expect(routings.count == 9, "\(routings)")
            let generation = try #require(routings.first?["configurationGeneration"]?.doubleValue)
            #expect(routings.allSatisfy { $0["configurationGeneration"]?.doubleValue == generation })
            #expect(!routings.contains { $0["configuration"] != nil })
            let recorded = log.filter { $0.type == "routing.configured" }
            #expect(recorded.count == 1)
            let sources = try JSONValue.parse(try #require(recorded.first).data)
            #expect(recorded.first?.stream == "routing/\(hub.setup.account)")
            #expect(sources["generation"]?.doubleValue == generation)
            #expect(sources.value(at: "configuration.account.id")?.stringValue == hub.setup.account)
            #expect(sources.value(at: "configuration.orchestration.position")?.doubleValue ?? 0 > 0)
            // The content opens with the message's own key (sealed before the writer's transaction).
            let received = try JSONValue.parse(try #require(events.first { $0.type == "message.received" }).data)
            let vault = SecretVault(masterKey: try MasterKey.load(directory: hub.store.directory, environment: [:]))
            let opened = try await hub.store.pool.read { connection in
                try vault.open(
                    received["content"]?.stringValue ?? "",
                    record: "message/\(received["id"]?.stringValue ?? "")",
                    connection
                )
            }
            #expect(try JSONValue.parse(opened)["text"] == "I need help with my order.")
        }
    }
}
