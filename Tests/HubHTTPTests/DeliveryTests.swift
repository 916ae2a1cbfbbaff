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

/// Delivery against real callback servers: retries, OAuth2 refresh, failure reports, order.
struct DeliveryTests {
    let bot = JSONValue.object(["name": "custom_bot_participant"])

    /// The token endpoint hands out a token; the bot's callback answers `status` to its first `failures`
    /// calls (all of them by default), then 200.
    static func botFailing(first failures: Int = .max, status: Int = 503) -> CallbackServer.Responder {
        { request, count in
            switch request.path {
            case "/token": (200, #"{"data": {"accessToken": "t"}}"#)
            case "/custom_bot": count < failures ? (status, "{}") : (200, "{}")
            default: (200, "{}")
            }
        }
    }

    func deliveryEvents(_ hub: ConversationHub) async throws -> [JSONValue] {
        try await hub.events().filter { $0.type.hasPrefix("delivery.") }.map { event in
            var fields = try JSONValue.parse(event.data).objectValue ?? [:]
            fields["type"] = .string(event.type)
            return .object(fields)
        }
    }

    @Test func aCallback401FetchesOneNewTokenAndRetriesOnce() async throws {
        let responder: CallbackServer.Responder = { request, count in
            switch request.path {
            case "/token": (200, #"{"data": {"accessToken": "token-\#(count + 1)"}}"#)
            case "/custom_bot": count == 0 ? (401, "{}") : (200, "{}")
            default: (200, "{}")
            }
        }
        try await withConversationHub(responder: responder) { hub in
            _ = try await hub.sendAccepted(messageBody())
            try await hub.callbacks.waitFor { $0.filter { $0.path == "/custom_bot" }.count == 2 }
            let calls = hub.callbacks.requests(to: "/custom_bot")
            #expect(calls.map { $0.header("authorization") } == ["Bearer token-1", "Bearer token-2"])
            #expect(calls[0].header("x-egain-request-id") == calls[1].header("x-egain-request-id"))
            #expect(hub.callbacks.requests(to: "/token").count == 2)
            try await hub.waitForEvents { $0.contains { $0.type == "delivery.succeeded" } }
            let events = try await deliveryEvents(hub)
            #expect(events.map { $0["type"]?.stringValue ?? "" } == ["delivery.attempted", "delivery.succeeded"])
            #expect(events.first?["status"] == 401)
            #expect(hub.callbacks.requests(to: "/custom_bot").count == 2)
        }
    }

    @Test func aCallbackThatFailsTwiceIsDeliveredAfterBackoffWithTheSameRequestId() async throws {
        let responder = Self.botFailing(first: 2)
        try await withConversationHub(responder: responder) { hub in
            let started = ContinuousClock.now
            _ = try await hub.sendAccepted(messageBody())
            try await hub.callbacks.waitFor { $0.filter { $0.path == "/custom_bot" }.count == 3 }
            let elapsed = started.duration(to: .now)
            let ids = Set(hub.callbacks.requests(to: "/custom_bot").compactMap { $0.header("x-egain-request-id") })
            #expect(ids.count == 1)
            // The schedule is 100 ms then 200 ms.
            #expect(elapsed >= .milliseconds(300))
            try await hub.waitForEvents { $0.contains { $0.type == "delivery.succeeded" } }
            let events = try await deliveryEvents(hub)
            #expect(
                events.map { $0["type"]?.stringValue ?? "" } == [
                    "delivery.attempted", "delivery.attempted", "delivery.succeeded",
                ]
            )
            #expect(events.map { $0["attempt"] } == [1, 2, 3])
            #expect(events.allSatisfy { $0["latencyMs"] != nil })
            #expect(hub.callbacks.requests(to: "/custom_bot").count == 3)
        }
    }

    @Test func aFinishedDeliveryLeavesTheOutboxAndItsHistoryKeepsEveryAttempt() async throws {
        try await withConversationHub(responder: Self.botFailing(first: 2)) { hub in
            let accepted = try await hub.sendAccepted(messageBody())
            let id = try #require(accepted.first?["id"]?.stringValue)
            let conversation = try #require(accepted.first?.value(at: "conversation.id")?.stringValue)
            try await hub.waitForEvents { $0.contains { $0.type == "delivery.succeeded" } }
            let request = try #require(hub.callbacks.requests(to: "/custom_bot").first?.header("x-egain-request-id"))
            // The outbox holds pending deliveries only; the message's row keeps the position of the
            // event that finished its delivery.
            let (left, outcomes) = try await hub.store.pool.read { connection in
                (
                    try connection.singleInt64(sql: "SELECT count(*) FROM deliveries WHERE message = ?", [id]),
                    try connection.singleText(sql: "SELECT outcomes FROM messages WHERE id = ?", [id])
                )
            }
            #expect(left == 0)
            let succeeded = try await hub.events().first { $0.type == "delivery.succeeded" }
            #expect(outcomes == succeeded.map { String($0.position) })
            #expect(succeeded?.stream == "delivery/\(request)")
            // The history still finds the call's three attempts through it.
            let (status, body) = try await hub.queryText("/v1/conversations/\(conversation)/history")
            #expect(status == 200, "\(body)")
            let message = try JSONValue.parse(body)["messages"]?.arrayValue?.first { $0["id"]?.stringValue == id }
            let attempts = message?["deliveries"]?.arrayValue ?? []
            #expect(attempts.map { $0["outcome"]?.stringValue ?? "" } == ["attempted", "attempted", "succeeded"])
            #expect(attempts.allSatisfy { $0["request"]?.stringValue == request })
            // The message's one delivery has the message's id, which the log says once: not in the
            // routing, nor in the items of the calls that carried it.
            #expect(attempts.allSatisfy { $0["delivery"]?.stringValue == id })
            let received = try #require(try await hub.events().first { $0.type == "message.received" })
            let routed = try JSONValue.parse(received.data).value(at: "routing.deliveries")?.arrayValue ?? []
            // Nor does it say its conversation again: the stream does.
            #expect(try JSONValue.parse(received.data)["conversation"] == nil)
            #expect(received.stream == "conversation/\(conversation)")
            // And the bot, its generation's only recipient of its type, is named by the type alone.
            #expect(routed == [.object(["type": "custom_bot"])])
            let items = try await hub.events().filter { $0.type.hasPrefix("delivery.") }.flatMap(\.deliveries)
            #expect(items.count == 3 && items.allSatisfy { $0 == .object(["delivery": .string(id)]) })
        }
    }

    @Test func aCallbackThatNeverSucceedsFailsAndTheSenderGetsAnErrorMessage() async throws {
        let responder = Self.botFailing(status: 500)
        try await withConversationHub(responder: responder) { hub in
            let accepted = try await hub.sendAccepted(messageBody(id: "customer-message-1"))
            let conversation = try #require(accepted.first?.value(at: "conversation.id")?.stringValue)
            try await hub.callbacks.waitFor { $0.contains { $0.path == "/customer" } }
            #expect(hub.callbacks.requests(to: "/custom_bot").count == 3)
            let error = try JSONValue.parse(hub.callbacks.requests(to: "/customer")[0].body)
            let message = error.value(at: "messages")?["message"]?.arrayValue?.first
            #expect(message?.value(at: "type.value") == "error")
            #expect(message?.value(at: "sender.type") == "system")
            #expect(message?.value(at: "content.value.messageId") == "customer-message-1")
            let events = try await deliveryEvents(hub)
            let carrying = events.filter { event in
                event["deliveries"]?.arrayValue?.contains { $0.deliveredMessage == accepted.first?["id"]?.stringValue }
                    == true
            }
            #expect(
                carrying.map { $0["type"]?.stringValue ?? "" } == [
                    "delivery.attempted", "delivery.attempted", "delivery.failed",
                ]
            )
            let (_, transcript) = try await hub.queryText("/v1/conversations/\(conversation)/transcript")
            let lines = try JSONValue.parse(transcript)["messages"]?.arrayValue ?? []
            #expect(lines.first?["status"] == "failed")
            #expect(lines.last?.value(at: "type.value") == "error")
        }
    }

    @Test func oneConversationsMessagesReachACallbackInOrderThroughARetry() async throws {
        let responder = Self.botFailing(first: 1)
        try await withConversationHub(responder: responder) { hub in
            let first = try await hub.sendAccepted(messageBody(text: "m1"))
            let conversation = try #require(first.first?.value(at: "conversation.id")?.stringValue)
            for index in 2...5 {
                _ = try await hub.sendAccepted(messageBody(text: "m\(index)", conversation: conversation))
            }
            try await hub.callbacks.waitFor { $0.filter { $0.path == "/custom_bot" }.count == 6 }
            let texts = try hub.callbacks.requests(to: "/custom_bot").map {
                try JSONValue.parse($0.body).value(at: "messages")?["message"]?.arrayValue?.last?
                    .value(at: "content.text")?.stringValue ?? ""
            }
            #expect(texts == ["m1", "m1", "m2", "m3", "m4", "m5"])
        }
    }

    /// Endpoints are cached between configuration changes: a callback moved by a PUT is where the next
    /// message goes.
    @Test func aMovedCallbackGetsTheNextMessage() async throws {
        try await withConversationHub { hub in
            let first = try await hub.sendAccepted(messageBody(text: "before the move"))
            let conversation = try #require(first.first?.value(at: "conversation.id")?.stringValue)
            try await hub.callbacks.waitFor { $0.contains { $0.path == "/custom_bot" } }

            let path = "/clientapplications/" + hub.setup.botApp
            let (_, current) = try await hub.api.call(.get, path)
            guard case .object(var fields) = try #require(current),
                case .array(var roles) = try #require(fields["roles"]),
                case .object(var role) = try #require(roles.first)
            else { return }
            role["callback"] = .string(hub.callbacks.baseURL + "/moved_bot")
            roles[0] = .object(role)
            fields["roles"] = .array(roles)
            let (status, json) = try await hub.api.call(.put, path, JSONValue.object(fields).text)
            #expect(status == 204, "\(json?.text ?? "")")

            _ = try await hub.sendAccepted(messageBody(text: "after the move", conversation: conversation))
            try await hub.callbacks.waitFor { $0.contains { $0.path == "/moved_bot" } }
            #expect(hub.callbacks.requests(to: "/custom_bot").count == 1)
            #expect(hub.callbacks.requests(to: "/moved_bot").first?.body.contains("after the move") == true)
        }
    }

    @Test func aDeadEndpointDoesNotDelayAnotherEndpoint() async throws {
        let responder = Self.botFailing(status: 503)
        try await withConversationHub(
            retrySchedule: [.seconds(30)],
            responder: responder
        ) { hub in
            let first = try await hub.sendAccepted(messageBody(text: "to the dead bot"))
            let conversation = try #require(first.first?.value(at: "conversation.id")?.stringValue)
            try await hub.callbacks.waitFor { $0.contains { $0.path == "/custom_bot" } }
            _ = try await hub.sendAccepted(
                messageBody(from: "custom_bot", text: "to the customer", conversation: conversation, participant: bot)
            )
            // The customer's callback gets its message while the bot's waits 30 s for its retry.
            try await hub.callbacks.waitFor(timeout: .seconds(20)) { $0.contains { $0.path == "/customer" } }
            #expect(hub.callbacks.requests(to: "/custom_bot").count == 1)
        }
    }

    /// The outbox read leaves out the lanes the workers have in flight (their heads are the deliveries
    /// being sent), and only those: a lane of another conversation, or another role, is still due.
    @Test func theOutboxReadLeavesOutOnlyTheLanesInFlight() async throws {
        let responder = Self.botFailing(status: 503)
        try await withConversationHub(retrySchedule: [.seconds(30)], responder: responder) { hub in
            for index in 1...2 {
                _ = try await hub.sendAccepted(
                    messageBody(text: "customer \(index)", contact: "c\(index)@example.com", phone: "55500\(index)")
                )
            }
            // Both first attempts failed: the deliveries wait 30 s for their retry.
            try await hub.waitForEvents { $0.filter { $0.type == "delivery.attempted" }.count == 2 }
            let queue = DeliveryQueue(
                store: hub.store,
                vault: SecretVault(masterKey: try MasterKey.load(directory: hub.store.directory, environment: [:]))
            )
            let later = Int64.max / 2
            let all = try await queue.due(now: later, limit: 10, excludingLanes: []).deliveries
            #expect(all.count == 2)
            #expect(Set(all.map(\.lane)).count == 2)
            let busy = try #require(all.first)
            let rest = try await queue.due(now: later, limit: 10, excludingLanes: [busy.lane]).deliveries
            #expect(rest.map(\.id) == all.dropFirst().map(\.id))
            // A key that names no lane (another role of the same conversation and application) leaves
            // out nothing.
            let other = "\(busy.conversation)|\(busy.application)|agent"
            #expect(try await queue.due(now: later, limit: 10, excludingLanes: [other]).deliveries.count == 2)
            #expect(try await queue.due(now: later, limit: 10, excludingLanes: Set(all.map(\.lane))).deliveries.isEmpty)
        }
    }

    @Test func messagesDueTogetherShareACallAndAFailedCallIsRetriedWhole() async throws {
        let responder = Self.botFailing(first: 1)
        try await withConversationHub(responder: responder) { hub in
            // One request, three customers: three conversations whose first messages commit together.
            let messages = (1...3).flatMap { index in
                messageBody(text: "from customer \(index)", contact: "c\(index)@example.com", phone: "55500\(index)")
                    .value(at: "messages")?["message"]?.arrayValue ?? []
            }
            let accepted = try await hub.sendAccepted(.object(["messages": .object(["message": .array(messages)])]))
            #expect(Set(accepted.compactMap { $0.value(at: "conversation.id")?.stringValue }).count == 3)
            try await hub.callbacks.waitFor { $0.filter { $0.path == "/custom_bot" }.count == 2 }
            let calls = hub.callbacks.requests(to: "/custom_bot")
            let texts = try calls.map { call in
                try JSONValue.parse(call.body).value(at: "messages")?["message"]?.arrayValue?
                    .compactMap { $0.value(at: "content.text")?.stringValue } ?? []
            }
            #expect(texts == Array(repeating: ["from customer 1", "from customer 2", "from customer 3"], count: 2))
            #expect(calls[0].header("x-egain-request-id") == calls[1].header("x-egain-request-id"))
            try await hub.waitForEvents { $0.deliveries("delivery.succeeded") == 3 }
            // One event per POST, on the call's stream, listing the three deliveries it carried.
            let recorded = try await hub.events().filter { $0.type.hasPrefix("delivery.") }
            let request = calls[0].header("x-egain-request-id") ?? ""
            #expect(recorded.map(\.type) == ["delivery.attempted", "delivery.succeeded"])
            #expect(recorded.map(\.stream) == ["delivery/\(request)", "delivery/\(request)"])
            #expect(recorded.map(\.version) == [1, 2])
            let events = try await deliveryEvents(hub)
            #expect(events.map { $0["request"]?.stringValue } == [request, request])
            #expect(events.map { $0["attempt"] } == [1, 2])
            // Each attempt carried one message of each of the three conversations.
            let log = try await hub.events()
            let conversationOf = Dictionary(
                uniqueKeysWithValues: log.filter { $0.type == "conversation.started" }.flatMap { started in
                    let conversation = String(started.stream.dropFirst("conversation/".count))
                    return log.messageIds(of: conversation).map { ($0, conversation) }
                }
            )
            let conversations = events.map { event in
                Set(
                    event["deliveries"]?.arrayValue?.compactMap { conversationOf[$0.deliveredMessage ?? ""] }
                        ?? []
                )
            }
            #expect(conversations.map(\.count) == [3, 3])
        }
    }
}
