import Foundation
import HubCommands
import HubDomain
@_spi(Storage) import HubEventLog
import HubReadModels
import HubTestSupport
import HubVault
import Testing

/// The orchestration's bot options (spec §5.2 item 6): `forwardTranscript` and `bypassVaDuration`.
struct BotSessionTests {
    let bot = JSONValue.object(["name": "custom_bot_participant"])

    @Test func aBotSessionEndedWithoutEscalationForwardsItsTranscriptToTheAgent() async throws {
        try await withConversationHub(botOptions: #""forwardTranscript": true,"#) { hub in
            let first = try await hub.sendAccepted(messageBody(text: "Where is my parcel?"))
            let conversation = try #require(first.first?.value(at: "conversation.id")?.stringValue)
            _ = try await hub.sendAccepted(
                messageBody(
                    from: "custom_bot",
                    text: "It left today.\nTracking: 42",
                    conversation: conversation,
                    participant: bot
                )
            )
            _ = try await hub.sendAccepted(
                messageBody("conversation.end", from: "custom_bot", text: nil, conversation: conversation)
            )
            try await hub.callbacks.waitFor { $0.contains { $0.path == "/custom_agent" } }
            let calls = hub.callbacks.requests(to: "/custom_agent")
            #expect(calls.count == 1)
            let body = try JSONValue.parse(calls[0].body)
            #expect(body.value(at: "metadata")?["attributes"] == ConversationRules.transcriptAttributes)
            let message = try #require(body.value(at: "messages")?["message"]?.arrayValue?.first)
            #expect(message.value(at: "type.value") == "text")
            #expect(message.value(at: "sender.type") == "system")
            let text = message.value(at: "content.text")?.stringValue ?? ""
            #expect(text.contains("customer (John smith): Where is my parcel?"))
            // One line per message, as the plain-text transcript writes it: a line break in a message
            // does not start a line of its own.
            #expect(text.split(separator: "\n").count == 3)
            #expect(text.contains("It left today. Tracking: 42"))
            // The transcript holds the customer's words: sealed in the log.
            try await hub.waitForEvents { $0.contains { $0.type == "message.originated" } }
            let originated = try await hub.events().filter { $0.type == "message.originated" }
            #expect(originated.count == 1)
            #expect(!originated[0].data.contains("Where is my parcel"))
            // Not a line of the conversation's own transcript.
            let (_, transcript) = try await hub.queryText(
                "/v1/conversations/\(conversation)/transcript",
                accept: "text/plain"
            )
            #expect(transcript.components(separatedBy: "Where is my parcel?").count == 2)
            let plainLines: [Substring] = transcript.split(separator: "\n")
            let forwardedLines: [Substring] = text.split(separator: "\n")
            #expect(plainLines == forwardedLines)
        }
    }

    @Test func noTranscriptIsForwardedWithoutTheOptionOrAfterAnEscalation() async throws {
        try await withConversationHub { hub in
            let first = try await hub.sendAccepted(messageBody(text: "Hello"))
            let conversation = try #require(first.first?.value(at: "conversation.id")?.stringValue)
            _ = try await hub.sendAccepted(
                messageBody("conversation.end", from: "custom_bot", text: nil, conversation: conversation)
            )
            try await hub.callbacks.waitFor { $0.contains { $0.path == "/customer" } }
            try await Task.sleep(for: .milliseconds(300))
            #expect(hub.callbacks.requests(to: "/custom_agent").isEmpty)
        }
        try await withConversationHub(botOptions: #""forwardTranscript": true,"#) { hub in
            let first = try await hub.sendAccepted(messageBody(text: "Hello"))
            let conversation = try #require(first.first?.value(at: "conversation.id")?.stringValue)
            _ = try await hub.sendAccepted(
                messageBody("escalation.transfer", from: "custom_bot", text: "human", conversation: conversation)
            )
            _ = try await hub.sendAccepted(
                messageBody("conversation.end", from: "custom_agent", text: nil, conversation: conversation)
            )
            try await hub.callbacks.waitFor { $0.filter { $0.path == "/customer" }.count == 2 }
            try await Task.sleep(for: .milliseconds(300))
            // Only the escalation itself reached the agent.
            let calls = hub.callbacks.requests(to: "/custom_agent")
            #expect(calls.count == 1)
            #expect(calls.allSatisfy { !$0.body.contains(#""transcript""#) })
        }
    }

    /// Spec §4.3 [P]: `conversation.end` is delivered to all other parties, the bot's session included.
    static func types(_ hub: ConversationHub, _ path: String) throws -> [String] {
        try hub.callbacks.requests(to: path).flatMap {
            try JSONValue.parse($0.body).value(at: "messages")?["message"]?.arrayValue ?? []
        }.compactMap { $0.value(at: "type.value")?.stringValue }
    }

    @Test func theAgentsEndAfterAnEscalationReachesTheBotAsWellAsTheCustomer() async throws {
        let types = Self.types
        try await withConversationHub { hub in
            let first = try await hub.sendAccepted(messageBody(text: "Hello"))
            let conversation = try #require(first.first?.value(at: "conversation.id")?.stringValue)
            _ = try await hub.sendAccepted(
                messageBody("escalation.transfer", from: "custom_bot", text: "human", conversation: conversation)
            )
            _ = try await hub.sendAccepted(
                messageBody("conversation.end", from: "custom_agent", text: "Bye", conversation: conversation)
            )
            try await hub.callbacks.waitFor {
                $0.contains { $0.path == "/custom_bot" && $0.body.contains("conversation.end") }
                    && $0.contains { $0.path == "/customer" && $0.body.contains("conversation.end") }
            }
            #expect(try types(hub, "/custom_bot") == ["text", "conversation.end"])
            #expect(try types(hub, "/customer").last == "conversation.end")
            #expect(try types(hub, "/custom_agent") == ["text", "escalation.transfer"])
        }
        // A conversation that skipped the bot (bypassVaDuration) ends without telling it.
        try await withConversationHub(botOptions: #""bypassVaDuration": 10,"#) { hub in
            let first = try await hub.sendAccepted(messageBody(text: "First visit"))
            let previous = try #require(first.first?.value(at: "conversation.id")?.stringValue)
            _ = try await hub.sendAccepted(messageBody("conversation.end", text: nil, conversation: previous))
            // The first visit's end reaches the bot, which took part in it.
            try await hub.callbacks.waitFor {
                $0.contains { $0.path == "/custom_bot" && $0.body.contains("conversation.end") }
            }
            let second = try await hub.sendAccepted(messageBody(text: "Back again"))
            let conversation = try #require(second.first?.value(at: "conversation.id")?.stringValue)
            _ = try await hub.sendAccepted(
                messageBody("conversation.end", from: "custom_agent", text: nil, conversation: conversation)
            )
            try await hub.waitForEvents { $0.deliveries("delivery.succeeded", conversation: conversation) == 2 }
            #expect(try types(hub, "/custom_bot") == ["text", "conversation.end"])
            #expect(try types(hub, "/customer") == ["conversation.end"])
        }
    }

    @Test func aCustomerBackWithinTheBypassDurationGoesStraightToTheAgent() async throws {
        try await withConversationHub(botOptions: #""bypassVaDuration": 10,"#) { hub in
            let first = try await hub.sendAccepted(messageBody(text: "First visit"))
            let previous = try #require(first.first?.value(at: "conversation.id")?.stringValue)
            _ = try await hub.sendAccepted(messageBody("conversation.end", text: nil, conversation: previous))
            let second = try await hub.sendAccepted(messageBody(text: "Back again"))
            let conversation = try #require(second.first?.value(at: "conversation.id")?.stringValue)
            #expect(conversation != previous)
            try await hub.callbacks.waitFor {
                $0.contains { $0.path == "/custom_agent" } && $0.filter { $0.path == "/custom_bot" }.count == 2
            }
            let texts = try hub.callbacks.requests(to: "/custom_agent").map {
                try JSONValue.parse($0.body).value(at: "messages")?["message"]?.arrayValue?.first?
                    .value(at: "content.text")?.stringValue
            }
            #expect(texts == ["Back again"])
            // The bot got the first visit only (its message and its end).
            let botTexts = try hub.callbacks.requests(to: "/custom_bot").compactMap {
                try JSONValue.parse($0.body).value(at: "messages")?["message"]?.arrayValue?.first?
                    .value(at: "content.text")?.stringValue
            }
            #expect(botTexts == ["First visit"])
            let events = try await hub.events().filter { $0.stream == "conversation/\(conversation)" }
            let escalated = try #require(events.first { $0.type == "conversation.escalated" })
            #expect(try JSONValue.parse(escalated.data)["previousConversation"]?.stringValue == previous)
            let (_, summary) = try await hub.queryText("/v1/conversations/\(conversation)/transcript")
            #expect(try JSONValue.parse(summary).value(at: "conversation.escalated") == true)
        }
    }

    @Test func aNewCustomerOrOneBackAfterTheDurationTalksToTheBot() async throws {
        try await withConversationHub(botOptions: #""bypassVaDuration": 10,"#) { hub in
            _ = try await hub.sendAccepted(messageBody(text: "Hi", contact: "new@example.com", phone: "555000"))
            try await hub.callbacks.waitFor { $0.contains { $0.path == "/custom_bot" } }
            #expect(hub.callbacks.requests(to: "/custom_agent").isEmpty)
        }
        try await withConversationHub(botOptions: #""bypassVaDuration": 0.0001,"#) { hub in
            let first = try await hub.sendAccepted(messageBody(text: "First visit"))
            let previous = try #require(first.first?.value(at: "conversation.id")?.stringValue)
            _ = try await hub.sendAccepted(messageBody("conversation.end", text: nil, conversation: previous))
            // 0.0001 minutes = 6 ms.
            try await Task.sleep(for: .milliseconds(50))
            _ = try await hub.sendAccepted(messageBody(text: "Back later"))
            // Three messages reach the bot: the first visit, its end and the new visit (messages due
            // together for one role share a POST, so count messages, not requests).
            try await hub.callbacks.waitFor { requests in
                requests.filter { $0.path == "/custom_bot" }.reduce(0) { count, request in
                    count
                        + ((try? JSONValue.parse(request.body).value(at: "messages")?["message"]?.arrayValue?.count)
                            ?? 0)
                } == 3
            }
            #expect(hub.callbacks.requests(to: "/custom_agent").isEmpty)
        }
    }
}
