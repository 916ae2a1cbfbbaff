import Crypto
import Foundation
import HTTPTypes
import HubDomain
@_spi(Storage) import HubEventLog
import HubSQLite
import HubTestSupport
import HummingbirdTesting
import NIOCore
import Testing

@testable import HubHTTP

/// Issue 17 items 4–5: CONVERSATION and SEND against the account whose address is the LivePerson
/// account, with the bot and agent answering through the Conversation Manager API.
struct ConnectorConversationTests {
    /// A connector for one consumer of `ConversationSetup.address`.
    struct Consumer {
        let hub: ConversationHub
        let appJWT: String
        let jws: String
        /// The app's client secret (webhooks are signed with it).
        var secret = ""
        var account: String { ConversationSetup.address }

        /// A consumer of a new app whose webhooks are `webhooks` (none by default).
        static func make(
            _ hub: ConversationHub,
            externalId: String = "sms:+15550100",
            webhooks: String = "{}"
        ) async throws -> Consumer {
            let connector = ConnectorAuthTests.Connector(client: hub.admin.client, tokens: nil, admin: hub.admin.token)
            let app = try await connector.install(ConversationSetup.address, webhooks: webhooks)
            var consumer = try await make(hub, app: app, externalId: externalId)
            consumer.secret = app.secret
            return consumer
        }

        static func make(
            _ hub: ConversationHub,
            app: (id: String, secret: String),
            externalId: String
        ) async throws
            -> Consumer
        {
            let connector = ConnectorAuthTests.Connector(client: hub.admin.client, tokens: nil, admin: hub.admin.token)
            let appJWT = try await connector.appJWT(ConversationSetup.address, app)
            let (status, json) = try await connector.consumer(
                ConversationSetup.address,
                appJWT: appJWT,
                body: #"{"ext_consumer_id":"\#(externalId)"}"#
            )
            #expect(status == 201)
            return Consumer(hub: hub, appJWT: appJWT, jws: json?["token"]?.stringValue ?? "", secret: app.secret)
        }

        func post(_ path: String, _ body: String, jws: String? = nil) async throws -> (status: Int, json: JSONValue?) {
            var headers: HTTPFields = [.authorization: appJWT, .contentType: "application/json"]
            headers[ConnectorAuth.onBehalf] = jws ?? self.jws
            return try await hub.admin.client.execute(
                uri: "/api/account/\(account)/messaging/consumer/\(path)",
                method: .post,
                headers: headers,
                body: ByteBuffer(string: body)
            ) { (Int($0.status.code), try? JSONValue.parse(String(buffer: $0.body))) }
        }

        func conversation(_ body: String, jws: String? = nil) async throws -> (status: Int, json: JSONValue?) {
            try await post("conversation?v=3", body, jws: jws)
        }

        func send(_ body: String, jws: String? = nil) async throws -> (status: Int, json: JSONValue?) {
            try await post("conversation/send?v=3", body, jws: jws)
        }

        /// CONVERSATION as LivePerson's demo connector sends it; the new conversation's id (from element 1).
        func open() async throws -> String {
            let (status, json) = try await conversation(
                #"[{"kind":"req","id":"1,","type":"userprofile.SetUserProfile","body":{"firstName":"Ada","lastName":"L"}},"#
                    + #"{"kind":"req","id":"2,","type":"cm.ConsumerRequestConversation","body":{"brandId":"\#(account)","#
                    + #""channelType":"MESSAGING","skillId":"-1","ttrDefName":null}}]"#
            )
            #expect(status == 200, "\(json?.text ?? "")")
            return try #require(json?.arrayValue?[1]["body"]?["conversationId"]?.stringValue)
        }

        func text(
            _ conversation: String,
            _ text: String,
            id: String = "3"
        ) async throws -> (status: Int, json: JSONValue?) {
            try await send(
                #"{"kind":"req","id":"\#(id)","type":"ms.PublishEvent","body":{"dialogId":"\#(conversation)","#
                    + #""event":{"type":"ContentEvent","contentType":"text/plain","message":"\#(text)"}}}"#
            )
        }
    }

    static func sequences(_ store: EventStore, _ conversation: String) async throws -> [(Int64?, String)] {
        try await store.pool.read { connection in
            let statement = try connection.prepare(
                sql: "SELECT sequence, role FROM connector_events WHERE conversation = ? ORDER BY position"
            )
            try statement.bind([conversation])
            var rows: [(Int64?, String)] = []
            while try statement.step() { rows.append((statement.optionalInt64(at: 0), statement.text(at: 1))) }
            return rows
        }
    }

    @Test func theDemoConnectorsCallsReachTheBotAndTheBotsReplyTakesTheNextSequence() async throws {
        try await withConversationHub { hub in
            let consumer = try await Consumer.make(hub)
            let (status, answers) = try await consumer.conversation(
                #"[{"kind":"req","id":"1,","type":"userprofile.SetUserProfile","body":{"firstName":"Ada"}},"#
                    + #"{"kind":"req","id":2,"type":"cm.ConsumerRequestConversation","body":{"brandId":"\#(consumer.account)"}}]"#
            )
            #expect(status == 200, "\(answers?.text ?? "")")
            let list = try #require(answers?.arrayValue)
            #expect(list.count == 2)
            #expect(list[0]["reqId"] == "1," && list[0]["code"] == "OK")
            #expect(list[0]["body"]?["msg"] == "OK User Profile set successfully")
            #expect(list[0]["body"]?["conversationId"] == nil)
            #expect(list[1]["reqId"] == "2", "a number's id comes back as a string")
            let conversation = try #require(list[1]["body"]?["conversationId"]?.stringValue)
            #expect(Schema.isUUID(conversation))

            let (sent, first) = try await consumer.text(conversation, "Where is my parcel?")
            #expect(
                sent == 200 && first?["reqId"] == "3" && first?["body"]?["sequence"] == .integer(0),
                "\(first?.text ?? "")"
            )
            // The bot hears it as a customer message of the conversation.
            try await hub.callbacks.waitFor("the bot's callback") { requests in
                requests.contains { $0.path == "/custom_bot" && $0.body.contains("Where is my parcel?") }
            }
            let botCall = try #require(hub.callbacks.requests(to: "/custom_bot").last)
            #expect(botCall.body.contains(conversation))

            // The bot answers through the Conversation Manager API: the connector's next sequence.
            _ = try await hub.sendAccepted(
                messageBody(from: "custom_bot", text: "It left the depot this morning.", conversation: conversation)
            )
            let (_, read) = try await consumer.send(
                #"{"kind":"req","id":"4","type":"ms.PublishEvent","body":{"dialogId":"\#(conversation)","#
                    + #""conversationId":"\#(conversation)","event":{"type":"AcceptStatusEvent","status":"READ","sequenceList":[1]}}}"#
            )
            #expect(read?["body"]?["sequence"] == .integer(2))
            let (_, typing) = try await consumer.send(
                #"{"kind":"req","id":"5","type":"ms.PublishEvent","body":{"dialogId":"\#(conversation)","#
                    + #""event":{"type":"ChatStateEvent","chatState":"COMPOSING"}}}"#
            )
            #expect(typing?["body"]?["sequence"] == .integer(0), "a chat state takes no sequence")
            let sequences = try await Self.sequences(hub.store, conversation)
            #expect(sequences.map(\.0) == [0, 1, 2, nil])
            #expect(sequences.map(\.1) == ["CONSUMER", "ASSIGNED_AGENT", "CONSUMER", "CONSUMER"])

            // One conversation in the transcripts, with the consumer's and the bot's words.
            let (_, transcript) = try await hub.queryText("/v1/conversations/\(conversation)/transcript")
            #expect(transcript.contains("Where is my parcel?") && transcript.contains("It left the depot"))

            // Close, again (idempotent), CSAT after close; then nothing more is published.
            let close =
                #"{"kind":"req","id":"6","type":"cm.UpdateConversationField","body":{"conversationId":"\#(conversation)","#
                + #""conversationField":{"field":"ConversationStateField","conversationState":"CLOSE"}}}"#
            let (closed, closing) = try await consumer.send(close)
            #expect(
                closed == 200 && closing?["body"] == "OK Conversation resolved successfully",
                "\(closing?.text ?? "")"
            )
            #expect(try await consumer.send(close).status == 200)
            let (rated, _) = try await consumer.send(
                #"{"kind":"req","id":"7","type":"cm.UpdateConversationField","body":{"conversationId":"\#(conversation)","#
                    + #""conversationField":[{"field":"CSATRate","csatRate":5,"csatResolutionConfirmation":true,"status":"FILLED"}]}}"#
            )
            #expect(rated == 200)
            let (late, refusal) = try await consumer.text(conversation, "one more thing")
            #expect(late == 400 && refusal?["body"]?["errorCode"] == .integer(40003) && refusal?["reqId"] == "3")
            // The HubStore conversation ended too, and the bot was told.
            try await hub.callbacks.waitFor("the end, at the bot") { requests in
                requests.contains { $0.path == "/custom_bot" && $0.body.contains("conversation.end") }
            }
            let state = try await hub.store.pool.read { connection in
                try connection.singleText(
                    sql:
                        "SELECT state || ' ' || stage || ' ' || close_reason || ' ' || json_extract(csat, '$.csatRate') "
                        + "FROM connector_conversations WHERE conversation = ?",
                    [conversation]
                )
            }
            #expect(state == "CLOSE CLOSE CONSUMER 5")
            // Closed, the consumer may open a new one.
            #expect(try await consumer.open() != conversation)
        }
    }

    @Test func oneConsumerCannotTouchAnothersConversationAndBadBatchesKeepNothing() async throws {
        try await withConversationHub { hub in
            let consumer = try await Consumer.make(hub)
            let conversation = try await consumer.open()
            let other = try await Consumer.make(hub, externalId: "sms:+15550199")
            let (status, json) = try await other.text(conversation, "hello")
            #expect(status == 401 && json?["body"]?["errorCode"] == .integer(40103), "\(json?.text ?? "")")
            #expect(try await other.text("0190f000-0000-7000-8000-000000000000", "x").status == 401)
            #expect(try await consumer.text(conversation, "mine").status == 200)
            // Header problems, in the documented order.
            let (missing, noJWS) = try await consumer.send("{}", jws: "")
            #expect(missing == 401 && noJWS?["body"]?["errorCode"] == .integer(40104))
            let (bad, badJWS) = try await consumer.send("{}", jws: "x.y.z")
            #expect(bad == 401 && badJWS?["body"]?["errorCode"] == .integer(40103))

            // A second open conversation: refused, and nothing of the batch is kept.
            // Deliveries to the bot go on meanwhile: what is counted is everything else.
            func written() async throws -> Int {
                try await hub.events().filter { !$0.type.hasPrefix("delivery.") }.count
            }
            let before = try await written()
            let (again, answers) = try await consumer.conversation(
                #"[{"kind":"req","id":"1","type":"userprofile.SetUserProfile","body":{}},"#
                    + #"{"kind":"req","id":"2","type":"cm.ConsumerRequestConversation","body":{"brandId":"\#(consumer.account)"}}]"#
            )
            let list = answers?.arrayValue ?? []
            #expect(again == 400 && list.count == 2, "\(answers?.text ?? "")")
            #expect(list.first?["code"] == "OK" && list.last?["body"]?["errorCode"] == .integer(40002))
            #expect(list.last?["reqId"] == "2")
            #expect(try await written() == before)

            // Malformed batches: one ErrorResp, nothing kept.
            func refused(_ body: String) async throws -> Int64? {
                let (status, json) = try await other.conversation(body)
                #expect(status == 400, "\(body): \(json?.text ?? "")")
                if case .integer(let code)? = json?["body"]?["errorCode"] { return code }
                return nil
            }
            #expect(try await refused(#"{"kind":"req"}"#) == 40000)
            #expect(
                try await refused(
                    #"[{"id":"1","type":"cm.ConsumerRequestConversation","body":{"brandId":"\#(consumer.account)"}},"#
                        + #"{"id":"2","type":"userprofile.SetUserProfile","body":{}}]"#
                ) == 40000
            )
            #expect(
                try await refused(
                    #"[{"id":"1","type":"userprofile.SetUserProfile","body":{}},"#
                        + #"{"id":"2","type":"cm.ConsumerRequestConversation","body":{"brandId":"999"}}]"#
                ) == 40001
            )
            #expect(try await refused(#"[{"id":"1","type":"userprofile.SetUserProfile","body":{}}]"#) == 40000)
            #expect(try await refused("[1, 2]") == 40000)
            #expect(try await written() == before)
            let (version, _) = try await consumer.post("conversation/send?v=2", "{}")
            #expect(version == 400)
        }
    }

    @Test func concurrentSendsToOneDialogTakeDistinctGaplessSequences() async throws {
        try await withConversationHub { hub in
            let consumer = try await Consumer.make(hub)
            let conversation = try await consumer.open()
            let sequences = try await withThrowingTaskGroup(of: Int64?.self) { group in
                for index in 0..<24 {
                    group.addTask {
                        let (_, json) = try await consumer.send(
                            #"{"kind":"req","id":"\#(index)","type":"ms.PublishEvent","body":{"dialogId":"\#(conversation)","#
                                + #""event":{"type":"AcceptStatusEvent","status":"ACCEPT","sequenceList":[0]}}}"#
                        )
                        if case .integer(let sequence)? = json?["body"]?["sequence"] { return sequence }
                        return nil
                    }
                }
                return try await group.reduce(into: [Int64?]()) { $0.append($1) }
            }
            #expect(sequences.compactMap { $0 }.sorted() == Array(0..<24))
        }
    }
    /// Issue 17 item 6: one signed POST per change to the endpoint of its event key, in order, also
    /// after the endpoint was down for a while.
    @Test func theBotsReplyReachesTheConnectorAsASignedWebhookInOrderAfterTheEndpointWasDown() async throws {
        // The content endpoint answers 503 to its first three calls.
        let responder: CallbackServer.Responder = { request, count in
            if request.path == "/lp/content", count < 3 { return (503, "") }
            return defaultResponder(request, count)
        }
        try await withConversationHub(responder: responder) { hub in try await Self.webhookScenario(hub) }
    }

    static func webhookScenario(_ hub: ConversationHub) async throws {
        do {
            let base = hub.callbacks.baseURL
            let consumer = try await Consumer.make(
                hub,
                webhooks: #"{"ms.MessagingEventNotification.ContentEvent":{"endpoint":"\#(base)/lp/content","#
                    + #""max_retries":5,"headers":[{"header_name":"X-Gateway","header_value":"sms-1"}]},"#
                    + #""ms.MessagingEventNotification.ChatStateEvent":{"endpoint":"\#(base)/lp/chat"},"#
                    + #""cqm.ExConversationChangeNotification":{"endpoint":"\#(base)/lp/cqm","max_retries":1}}"#
            )
            let conversation = try await consumer.open()
            #expect(try await consumer.text(conversation, "Where is my parcel?").status == 200)
            try await hub.callbacks.waitFor("the bot's callback") { requests in
                requests.contains { $0.path == "/custom_bot" && $0.body.contains("Where is my parcel?") }
            }
            _ = try await hub.sendAccepted(
                messageBody(from: "custom_bot", text: "It left the depot this morning.", conversation: conversation)
            )
            _ = try await hub.sendAccepted(
                messageBody("typing.start", from: "custom_bot", text: nil, conversation: conversation)
            )

            // Delivered: the 4th and 5th calls to the content endpoint, in sequence order.
            try await hub.callbacks.waitFor("two content notifications") {
                $0.filter { $0.path == "/lp/content" }.count >= 5
            }
            let calls = hub.callbacks.requests(to: "/lp/content")
            let delivered = calls.dropFirst(3).compactMap { try? JSONValue.parse($0.body) }
            let changes = delivered.compactMap { $0["body"]?["changes"]?.arrayValue?.first }
            #expect(changes.map { $0["sequence"] } == [.integer(0), .integer(1)])
            #expect(changes.map { $0["originatorMetadata"]?["role"] } == ["CONSUMER", "ASSIGNED_AGENT"])
            #expect(
                changes.map { $0["event"]?["message"] } == ["Where is my parcel?", "It left the depot this morning."]
            )
            #expect(
                changes.allSatisfy {
                    $0["conversationId"]?.stringValue == conversation && $0["dialogId"]?.stringValue == conversation
                }
            )
            #expect(
                delivered.first?["type"] == "ms.MessagingEventNotification"
                    && delivered.first?["kind"] == "notification"
            )
            // Each POST is signed with the app's secret over its raw body, and carries the app's headers.
            for call in calls {
                let mac = HMAC<Insecure.SHA1>.authenticationCode(
                    for: Array(call.body.utf8),
                    using: SymmetricKey(data: Array(consumer.secret.utf8))
                )
                #expect(call.header("x-liveperson-signature") == "sha1=" + Data(mac).base64EncodedString())
                #expect(call.header("x-liveperson-account-id") == consumer.account)
                #expect(call.header("x-liveperson-client-id")?.isEmpty == false)
                #expect(call.header("x-gateway") == "sms-1")
            }
            // The bot's typing is a chat state: no sequence, no serverTimestamp.
            try await hub.callbacks.waitFor("the chat state") { !$0.filter { $0.path == "/lp/chat" }.isEmpty }
            let chat = try JSONValue.parse(try #require(hub.callbacks.requests(to: "/lp/chat").first).body)
            let state = try #require(chat["body"]?["changes"]?.arrayValue?.first)
            #expect(
                state["event"]?["chatState"] == "COMPOSING" && state["sequence"] == nil
                    && state["serverTimestamp"] == nil
            )

            // The conversation's changes: opened, then closed by the consumer.
            _ = try await consumer.send(
                #"{"kind":"req","id":"9","type":"cm.UpdateConversationField","body":{"conversationId":"\#(conversation)","#
                    + #""conversationField":{"field":"ConversationStateField","conversationState":"CLOSE"}}}"#
            )
            try await hub.callbacks.waitFor("open and close") { $0.filter { $0.path == "/lp/cqm" }.count >= 2 }
            let upserts = hub.callbacks.requests(to: "/lp/cqm").compactMap { try? JSONValue.parse($0.body) }
                .compactMap { $0["body"]?["changes"]?.arrayValue?.first }
            #expect(upserts.map { $0["type"] } == ["UPSERT", "UPSERT"])
            let details = upserts.compactMap { $0["result"]?["conversationDetails"] }
            #expect(details.map { $0["state"] } == ["OPEN", "CLOSE"], "\(upserts.map(\.text))")
            #expect(details.last?["stage"] == "CLOSE" && details.last?["closeReason"] == "CONSUMER")
            #expect(upserts.first?["result"]?["convId"]?.stringValue == conversation)
            #expect(details.first?["brandId"]?.stringValue == consumer.account)
        }
    }
    /// Erasing the consumer (by the connector's id for them, their contact) takes their profile's key too.
    @Test func erasingTheConsumerDestroysTheirProfilesKey() async throws {
        try await withConversationHub { hub in
            let consumer = try await Consumer.make(hub)
            let conversation = try await consumer.open()
            #expect(try await consumer.text(conversation, "my secret words").status == 200)
            let (status, json) = try await hub.admin.client.execute(
                uri: "/v1/erasures",
                method: .post,
                headers: [.authorization: "Bearer \(hub.admin.token)", .contentType: "application/json"],
                body: ByteBuffer(string: #"{"contact":"sms:+15550100"}"#)
            ) { (Int($0.status.code), try? JSONValue.parse(String(buffer: $0.body))) }
            #expect(status == 201, "\(json?.text ?? "")")
            #expect(json?["conversations"] == .array([.string(conversation)]))
            let (keys, profiles) = try await hub.store.pool.read { connection in
                (
                    try connection.singleInt64(sql: "SELECT count(*) FROM vault_keys WHERE id LIKE 'consumer/%'"),
                    try connection.singleInt64(sql: "SELECT count(*) FROM connector_consumers")
                )
            }
            #expect(keys == 0 && profiles == 0)
        }
    }
    /// The hub's side ends the conversation: the connector's conversation closes (`AGENT`), and the
    /// consumer can publish no more to it.
    @Test func theBotEndingTheConversationClosesItForTheConnector() async throws {
        try await withConversationHub { hub in
            let consumer = try await Consumer.make(hub)
            let conversation = try await consumer.open()
            #expect(try await consumer.text(conversation, "bye?").status == 200)
            _ = try await hub.sendAccepted(
                messageBody("conversation.end", from: "custom_bot", text: nil, conversation: conversation)
            )
            let state = try await hub.store.pool.read { connection in
                try connection.singleText(
                    sql: "SELECT state || ' ' || close_reason FROM connector_conversations WHERE conversation = ?",
                    [conversation]
                )
            }
            #expect(state == "CLOSE AGENT")
            let (status, json) = try await consumer.text(conversation, "still there?")
            #expect(status == 400 && json?["body"]?["errorCode"] == .integer(40003))
        }
    }
    /// The old swagger's form: the first message in the CONVERSATION itself, its empty `dialogId` the
    /// new conversation's.
    @Test func aConversationMayCarryItsFirstMessage() async throws {
        try await withConversationHub { hub in
            let consumer = try await Consumer.make(hub)
            let (status, json) = try await consumer.conversation(
                #"[{"kind":"req","id":"1","type":"userprofile.SetUserProfile","body":{}},"#
                    + #"{"kind":"req","id":"2","type":"cm.ConsumerRequestConversation","body":{"brandId":"\#(consumer.account)"}},"#
                    + #"{"kind":"req","id":"3","type":"ms.PublishEvent","body":{"dialogId":"","#
                    + #""event":{"type":"ContentEvent","contentType":"text/plain","message":"first words"}}}]"#
            )
            let list = json?.arrayValue ?? []
            #expect(status == 200 && list.count == 3, "\(json?.text ?? "")")
            #expect(list.last?["body"]?["sequence"] == .integer(0) && list.last?["reqId"] == "3")
            try await hub.callbacks.waitFor("the bot's callback") { requests in
                requests.contains { $0.path == "/custom_bot" && $0.body.contains("first words") }
            }
        }
    }
    /// A request that closes the conversation twice (the state field and the MAIN dialog) closes it once.
    @Test func closingTwiceInOneRequestClosesOnce() async throws {
        try await withConversationHub { hub in
            let consumer = try await Consumer.make(hub)
            let conversation = try await consumer.open()
            let (status, json) = try await consumer.send(
                #"{"kind":"req","id":"1","type":"cm.UpdateConversationField","body":{"conversationId":"\#(conversation)","#
                    + #""conversationField":[{"field":"ConversationStateField","conversationState":"CLOSE"},"#
                    + #"{"field":"DialogChange","type":"UPDATE","dialog":{"dialogId":"\#(conversation)","state":"CLOSE"}}]}}"#
            )
            #expect(status == 200 && json?["body"] == "OK Conversation resolved successfully", "\(json?.text ?? "")")
            let events = try await hub.events().filter { $0.stream == "conversation/\(conversation)" }.map(\.type)
            #expect(events.filter { $0 == "connector.conversationChanged" }.count == 1)
            #expect(events.filter { $0 == "conversation.ended" }.count == 1)
        }
    }
}
