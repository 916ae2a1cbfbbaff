import Foundation
import HTTPTypes
import HubCommands
import HubDomain
@_spi(Storage) import HubEventLog
import HubReadModels
import HubTestSupport
import HubVault
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

/// `POST /conversations/messages`: idempotency, refusals, control messages, queries.
struct MessageIntakeTests {
    @Test func duplicateMessageIdsGiveOneMessageAndOneDeliveryAlsoWhenConcurrent() async throws {
        try await withConversationHub { hub in
            let body = messageBody(id: "retry-me")
            let first = try await hub.sendAccepted(body)
            let replies = try await withThrowingTaskGroup(of: [JSONValue].self) { group in
                for _ in 0..<10 { group.addTask { try await hub.sendAccepted(body) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(replies.allSatisfy { $0 == first })
            // A concurrent burst of a fresh id: one winner, the same answer for all.
            let fresh = messageBody(id: "burst")
            let burst = try await withThrowingTaskGroup(of: [JSONValue].self) { group in
                for _ in 0..<10 { group.addTask { try await hub.sendAccepted(fresh) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(Set(burst.map { $0.map(\.text).joined() }).count == 1)
            try await hub.waitForEvents { $0.deliveries("delivery.succeeded") >= 2 }
            try await Task.sleep(for: .milliseconds(200))
            let events = try await hub.events()
            #expect(events.filter { $0.type == "message.received" }.count == 2)
            #expect(events.deliveries("delivery.succeeded") == 2)
            #expect(hub.callbacks.requests(to: "/custom_bot").count == 2)
        }
    }

    @Test func badBodiesGetTheirCodesAndNothingIsAppended() async throws {
        try await withConversationHub { hub in
            let accepted = try await hub.sendAccepted(messageBody())
            let conversation = try #require(accepted.first?.value(at: "conversation.id")?.stringValue)
            // Deliveries append on their own; count everything else.
            func written() async throws -> Int {
                try await hub.events().filter { !$0.type.hasPrefix("delivery.") }.count
            }
            func refused(_ body: String, _ status: Int, _ code: String) async throws {
                let before = try await written()
                let (actual, json) = try await hub.api.call(.post, "/conversations/messages", body)
                #expect(actual == status, "\(body.prefix(80)): \(json?.text ?? "")")
                #expect(json?["code"]?.stringValue == code, "\(body.prefix(80)): \(json?.text ?? "")")
                #expect(try await written() == before)
            }
            func drop(_ key: String, from body: JSONValue) -> String {
                guard case .object(var fields)? = body.value(at: "messages")?["message"]?.arrayValue?.first else {
                    return ""
                }
                fields[key] = nil
                return JSONValue.object(["messages": .object(["message": .array([.object(fields)])])]).text
            }
            try await refused("{not json", 400, "400-102")
            try await refused(drop("type", from: messageBody()), 400, "400-143")
            try await refused(drop("sender", from: messageBody()), 400, "400-143")
            var unknownAccount = messageBody().text
            unknownAccount = unknownAccount.replacingOccurrences(of: ConversationSetup.address, with: "999")
            try await refused(unknownAccount, 400, "400-145")
            try await refused(
                messageBody(from: "custom_agent", conversation: UUID().uuidString.lowercased()).text,
                400,
                "400-145"
            )
            let one = messageBody().value(at: "messages")?["message"]?.arrayValue?.first ?? .null
            let tooMany = JSONValue.object(["messages": .object(["message": .array(Array(repeating: one, count: 26))])])
            try await refused(tooMany.text, 400, "400-102")
            // The channel's inbound maxTextLength is 140.
            try await refused(messageBody(text: String(repeating: "x", count: 141)).text, 400, "400-102")
            try await refused(messageBody("agent.join", from: "customer").text, 403, "403-102")
            // A request whose second message is refused writes neither.
            let first = one
            let second = messageBody("pagePush", from: "customer").value(at: "messages")?["message"]?.arrayValue?.first
            try await refused(
                JSONValue.object(["messages": .object(["message": .array([first, second ?? .null])])]).text,
                403,
                "403-102"
            )
            _ = try await hub.sendAccepted(messageBody("conversation.end", text: nil, conversation: conversation))
            try await refused(messageBody(conversation: conversation).text, 400, "400-148")
        }
    }

    /// Every row of the matrix through the API: each sender it allows gets 202 (in a conversation of
    /// its own), each it refuses 403-102 and nothing written.
    @Test(arguments: MessagePermissions.messageTypes.sorted())
    func theMatrixHoldsOverHTTP(_ type: String) async throws {
        try await withConversationHub { hub in
            for sender in SenderType.allCases {
                let first = "first-\(UUID().uuidString)"
                let start = try await hub.sendAccepted(
                    messageBody(id: first, contact: "\(UUID().uuidString)@example.com", phone: UUID().uuidString)
                )
                let conversation = try #require(start.first?.value(at: "conversation.id")?.stringValue)
                let body = messageBody(
                    type,
                    from: sender.rawValue,
                    text: "x",
                    value: .object(["messageId": .string(first), "url": "https://example.com"]),
                    conversation: conversation
                )
                let (status, json) = try await hub.send(body)
                if MessagePermissions.allows(sender, toSend: type) == true,
                    type.hasPrefix("richMessage."), type != "richMessage.quickreply"
                {
                    // Allowed by the matrix, but the test channel's richMessageTypes is ["quickreply"].
                    #expect(status == 400, "\(sender.rawValue) sending \(type): \(json?.text ?? "")")
                    #expect(json?["code"] == "400-102")
                } else if MessagePermissions.allows(sender, toSend: type) == true {
                    #expect(status == 202, "\(sender.rawValue) sending \(type): \(json?.text ?? "")")
                } else {
                    #expect(status == 403, "\(sender.rawValue) sending \(type)")
                    #expect(json?["code"] == "403-102")
                }
            }
        }
    }

    @Test func softDeleteHidesUndoRestoresAndPermanentDeleteErases() async throws {
        try await withConversationHub { hub in
            let first = try await hub.sendAccepted(messageBody(id: "c-1", text: "my card is 4111"))
            let conversation = try #require(first.first?.value(at: "conversation.id")?.stringValue)
            _ = try await hub.sendAccepted(messageBody(id: "c-2", text: "second", conversation: conversation))
            func transcriptTexts() async throws -> [String] {
                let (_, text) = try await hub.queryText("/v1/conversations/\(conversation)/transcript")
                return try JSONValue.parse(text)["messages"]?.arrayValue?.compactMap {
                    $0.value(at: "content.text")?.stringValue
                } ?? []
            }
            let target = JSONValue.object(["messageId": "c-1"])
            _ = try await hub.sendAccepted(
                messageBody("delete.soft", id: "c-3", text: nil, value: target, conversation: conversation)
            )
            #expect(try await transcriptTexts() == ["second"])
            _ = try await hub.sendAccepted(
                messageBody("undo", id: "c-4", text: nil, value: target, conversation: conversation)
            )
            #expect(try await transcriptTexts() == ["my card is 4111", "second"])
            _ = try await hub.sendAccepted(
                messageBody("delete.permanent", id: "c-5", text: nil, value: target, conversation: conversation)
            )
            #expect(try await transcriptTexts() == ["second"])
            let types = try await hub.events().map(\.type)
            #expect(
                types.filter { ["message.softDeleted", "message.restored", "message.erased"].contains($0) }.count == 3
            )
            // An unknown target is refused.
            let (status, json) = try await hub.send(
                messageBody("delete.soft", text: nil, value: .object(["messageId": "nope"]), conversation: conversation)
            )
            #expect(status == 400)
            #expect(json?["code"] == "400-102")
        }
    }

    @Test func aCustomerContinuesTheOpenConversationUntilTheAccountTimeout() async throws {
        // The hub's clock moves only when the test says: a loaded machine cannot stretch the gap between
        // two sends past the timeout.
        let now = Atomic<Int64>(EventStoreConfiguration.systemClock())
        let clock: @Sendable () -> Int64 = { now.load(ordering: .relaxed) }
        try await withConversationHub(clock: clock) { hub in
            let channel = try await hub.api.create(
                "channels",
                #"{"type": "quick_channel", "displayName": "Quick", "icon": "iVBORw0KGgo="}"#
            )
            _ = try await hub.api.create(
                "accounts",
                #"""
                {"name": "quick_account", "address": "777", "channel": {"id": "\#(channel)"},
                 "chatConfigurations": {"timeout": 0.05, "orchestration": {"id": "\#(hub.setup.orchestration)"},
                                        "entryPoint": {"id": "1"}}}
                """#
            )
            func send() async throws -> String? {
                var text = messageBody().text
                text = text.replacingOccurrences(of: ConversationSetup.address, with: "777")
                    .replacingOccurrences(of: "custom_channel", with: "quick_channel")
                let (status, json) = try await hub.api.call(.post, "/conversations/messages", text)
                #expect(status == 202, "\(json?.text ?? "")")
                return json?.value(at: "messages")?["message"]?.arrayValue?.first?.value(at: "conversation.id")?
                    .stringValue
            }
            // The timeout is 0.05 minutes (3 s): a second message within it continues, a later one starts anew.
            let first = try await send()
            now.add(2_900, ordering: .relaxed)
            let second = try await send()
            #expect(first != nil && second == first)
            now.add(3_100, ordering: .relaxed)
            let third = try await send()
            #expect(third != nil && third != first)
            // A customer of another account, or with other contacts, never joins it.
            let elsewhere = try await hub.sendAccepted(messageBody())
            #expect(elsewhere.first?.value(at: "conversation.id")?.stringValue != third)
            // A malformed conversation id is a 400, an unknown one a 404.
            #expect(try await hub.api.call(.get, "/conversations/not-a-uuid").status == 400)
            #expect(try await hub.api.call(.get, "/conversations/\(UUID().uuidString)").status == 404)
        }
    }

    @Test func typingEventsAreRecordedButNotDeliveredWhereTheChannelLeavesThemOut() async throws {
        try await withConversationHub { hub in
            let channel = try await hub.api.create(
                "channels",
                #"""
                {"type": "quiet_channel", "displayName": "Quiet", "icon": "iVBORw0KGgo=",
                 "restrictions": {"outbound": {"features": ["richText"]}}}
                """#
            )
            _ = try await hub.api.create(
                "accounts",
                #"""
                {"name": "quiet_account", "address": "888", "channel": {"id": "\#(channel)"},
                 "chatConfigurations": {"orchestration": {"id": "\#(hub.setup.orchestration)"}, "entryPoint": {"id": "1"}}}
                """#
            )
            let start = messageBody().text.replacingOccurrences(of: ConversationSetup.address, with: "888")
                .replacingOccurrences(of: "custom_channel", with: "quiet_channel")
            let (_, started) = try await hub.api.call(.post, "/conversations/messages", start)
            let conversation = try #require(
                started?.value(at: "messages")?["message"]?.arrayValue?.first?.value(at: "conversation.id")?.stringValue
            )
            _ = try await hub.sendAccepted(
                messageBody("typing.start", from: "custom_bot", text: nil, conversation: conversation)
            )
            _ = try await hub.sendAccepted(messageBody(from: "custom_bot", text: "Hello", conversation: conversation))
            try await hub.callbacks.waitFor { $0.contains { $0.path == "/customer" } }
            try await Task.sleep(for: .milliseconds(200))
            let types = try hub.callbacks.requests(to: "/customer").map {
                try JSONValue.parse($0.body).value(at: "messages")?["message"]?.arrayValue?.first?.value(
                    at: "type.value"
                )
            }
            #expect(types == ["text"])
            // Recorded in the log, not a transcript line.
            #expect(
                try await hub.events().contains { $0.type == "message.received" && $0.stream.hasSuffix(conversation) }
            )
            let (_, transcript) = try await hub.queryText("/v1/conversations/\(conversation)/transcript")
            let lines = try JSONValue.parse(transcript)["messages"]?.arrayValue ?? []
            #expect(lines.compactMap { $0.value(at: "type.value")?.stringValue } == ["text", "text"])
        }
    }

    @Test func redactedTextIsDeliveredOnceButStoredMasked() async throws {
        try await withConversationHub { hub in
            var body = messageBody(text: "my password is hunter2")
            if case .object(var root) = body, case .object(var messages)? = root["messages"],
                case .array(var items)? = messages["message"], case .object(var message) = items[0],
                case .object(var content)? = message["content"]
            {
                content["redact"] = true
                message["content"] = .object(content)
                items[0] = .object(message)
                messages["message"] = .array(items)
                root["messages"] = .object(messages)
                body = .object(root)
            }
            let accepted = try await hub.sendAccepted(body)
            let conversation = try #require(accepted.first?.value(at: "conversation.id")?.stringValue)
            try await hub.callbacks.waitFor { $0.contains { $0.path == "/custom_bot" } }
            #expect(hub.callbacks.requests(to: "/custom_bot")[0].body.contains("hunter2"))
            let (_, transcript) = try await hub.queryText("/v1/conversations/\(conversation)/transcript")
            #expect(!transcript.contains("hunter2"))
            #expect(transcript.contains("*****"))
        }
    }

    @Test func theQueryAPIListsFiltersAndPagesConversations() async throws {
        try await withConversationHub { hub in
            var ids: [String] = []
            for index in 0..<3 {
                let accepted = try await hub.sendAccepted(
                    messageBody(contact: "customer\(index)@example.com", phone: "555000\(index)")
                )
                ids.append(try #require(accepted.first?.value(at: "conversation.id")?.stringValue))
            }
            _ = try await hub.sendAccepted(messageBody("conversation.end", text: nil, conversation: ids[0]))
            func list(_ query: String) async throws -> JSONValue {
                let (status, text) = try await hub.queryText("/v1/conversations" + query)
                #expect(status == 200, "\(query): \(text)")
                return try JSONValue.parse(text)
            }
            func listedIds(_ page: JSONValue) -> [String] {
                page["conversations"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            }
            #expect(listedIds(try await list("")) == ids)
            #expect(listedIds(try await list("?state=ended")) == [ids[0]])
            #expect(listedIds(try await list("?contact=CUSTOMER1@example.com")) == [ids[1]])
            #expect(listedIds(try await list("?account=\(hub.setup.account)&channelType=custom_channel")) == ids)
            let firstPage = try await list("?limit=2")
            #expect(listedIds(firstPage) == Array(ids[0..<2]))
            let cursor = try #require(firstPage["nextCursor"]?.stringValue)
            let secondPage = try await list("?limit=2&cursor=\(cursor)")
            #expect(listedIds(secondPage) == [ids[2]])
            #expect(secondPage["nextCursor"] == nil)
            let (badStatus, badBody) = try await hub.queryText("/v1/conversations?state=sleeping")
            #expect(badStatus == 400 && badBody.contains("400-102"))
            // NDJSON: one line per transcript message.
            let (status, ndjson) = try await hub.queryText(
                "/v1/conversations/\(ids[1])/transcript",
                accept: "application/x-ndjson"
            )
            #expect(status == 200)
            #expect(ndjson.split(separator: "\n").count == 1)
            // The eGain token lacks hubstore.query.
            let (forbidden, _) = try await hub.api.client.execute(
                uri: "/v1/conversations",
                method: .get,
                headers: [.authorization: "Bearer \(hub.api.token)"]
            ) { (Int($0.status.code), 0) }
            #expect(forbidden == 403)
        }
    }

    @Test func aMessageIsCorrelatedByTheCallersRequestIdOrByItsRequestsOtherMessages() async throws {
        try await withConversationHub { hub in
            func post(_ body: JSONValue, requestId: String? = nil) async throws -> Int {
                var headers: HTTPFields = [.authorization: "Bearer \(hub.api.token)", .contentType: "application/json"]
                if let requestId { headers[HTTPField.Name("X-Request-Id")!] = requestId }
                return try await hub.api.client.execute(
                    uri: "/conversation/conversationmgr/v3/conversations/messages",
                    method: .post,
                    headers: headers,
                    body: ByteBuffer(string: body.text)
                ) { Int($0.status.code) }
            }
            func message(_ id: String) throws -> JSONValue {
                try #require(messageBody(id: id).value(at: "messages")?["message"]?.arrayValue?.first)
            }
            #expect(try await post(messageBody(id: "alone")) == 202)
            #expect(try await post(messageBody(id: "tagged"), requestId: "request-42") == 202)
            let pair = JSONValue.object([
                "messages": .object(["message": .array([try message("a"), try message("b")])])
            ])
            #expect(try await post(pair) == 202)
            let received = try await hub.events().filter { $0.type == "message.received" }
            try #require(received.count == 4)
            // One message, no X-Request-Id: its event's own id names it, and no made-up id is stored.
            #expect(received[0].correlationId == nil)
            #expect(received[1].correlationId == "request-42")
            let together = try #require(received[2].correlationId)
            #expect(received[3].correlationId == together)
        }
    }
}
