import Foundation
import HTTPTypes
import HubCommands
import HubDelivery
import HubDomain
@_spi(Storage) import HubEventLog
import HubHTTP
import HubReadModels
import HubTestSupport
import HubVault
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

/// A hub with its writer and delivery workers running, a client token for the eGain API (and one
/// for the query API), and a callback server standing in for the three client applications.
struct ConversationHub {
    let api: API
    let query: API
    /// An operator's token with every scope (`hubstore.admin`, `hubstore.audit.content`, …).
    let admin: API
    let store: EventStore
    let callbacks: CallbackServer
    let setup: ConversationSetup

    /// POSTs a RequestMessages body; returns status and JSON.
    func send(_ body: JSONValue) async throws -> (status: Int, json: JSONValue?) {
        try await api.call(.post, "/conversations/messages", body.text)
    }

    /// The 202 body's message ids.
    func sendAccepted(_ body: JSONValue) async throws -> [JSONValue] {
        let (status, json) = try await send(body)
        #expect(status == 202, "\(json?.text ?? "")")
        return json?.value(at: "messages")?["message"]?.arrayValue ?? []
    }

    /// Events of the whole log.
    func events() async throws -> [RecordedEvent] { try await store.readAll(limit: 100_000) }

    /// Waits (polling) until the log satisfies `condition`, or fails after `timeout`.
    func waitForEvents(
        timeout: Duration = .seconds(30),
        _ condition: @Sendable ([RecordedEvent]) -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition(try await events()) {
            guard ContinuousClock.now < deadline else { throw CallbackWaitTimeout(what: "events", seen: 0) }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// A GET on the query API; returns status and the raw body.
    func queryText(_ path: String, accept: String = "application/json") async throws -> (Int, String) {
        try await query.client.execute(
            uri: path,
            method: .get,
            headers: [.authorization: "Bearer \(query.token)", .accept: accept]
        ) { (Int($0.status.code), String(buffer: $0.body)) }
    }
}

/// Configuration for conversations whose callbacks go to `callbacks`: the customer app (role
/// `customer`, Basic auth), the bot app (role `custom_bot`, OAuth2 with the token from `/token`)
/// and the agent app (role `custom_agent`, no auth), orchestrated bot first with escalation to the agent.
struct ConversationSetup {
    var customerApp = "", botApp = "", agentApp = "", participant = "", channel = "", orchestration = "",
        account = ""
    static let address = "123456789"

    /// `botOptions`: more fields of `botConfiguration`, as JSON members followed by a comma.
    static func make(
        _ api: API,
        callbacks: CallbackServer,
        botless: Bool = false,
        botOptions: String = ""
    ) async throws -> ConversationSetup {
        var setup = ConversationSetup()
        let base = callbacks.baseURL
        let basic = try await api.create(
            "authentications",
            #"{"name": "customer_basic", "type": "basic", "basicAuth": {"username": "hub", "password": "s3cret-pw"}}"#
        )
        let oauth = try await api.create(
            "authentications",
            #"""
            {"name": "bot_oauth", "type": "oauth2", "oauth2": {"tokenRequestUrl": "\#(base)/token", "method": "POST",
              "headers": [{"name": "Content-Type", "value": "application/json"}, {"name": "X-Api-Key", "value": "key-123"}],
              "payload": "{\"clientId\": \"bot\", \"clientSecret\": \"shh\"}", "accessTokenPath": "$.data.accessToken"}}
            """#
        )
        func app(_ name: String, role: String, auth: String?) -> String {
            #"""
            {"name": "\#(name)", "roles": [{"name": "\#(role)", "version": "v3", "callback": "\#(base)/\#(role)",
              "notificationEmail": "ops@example.com", "headers": [{"name": "X-Custom", "value": "\#(role)-header"}]
              \#(auth.map { #", "authentication": {"id": "\#($0)"}"# } ?? "")}]}
            """#
        }
        setup.customerApp = try await api.create(
            "clientapplications",
            app("customer_app", role: "customer", auth: basic)
        )
        setup.botApp = try await api.create("clientapplications", app("bot_app", role: "custom_bot", auth: oauth))
        setup.agentApp = try await api.create("clientapplications", app("agent_app", role: "custom_agent", auth: nil))
        setup.participant = try await api.create(
            "participants",
            #"""
            {"name": "custom_bot_participant", "type": "custom_bot", "application": {"id": "\#(setup.botApp)"},
             "options": [{"name": "k", "value": "v"}]}
            """#
        )
        setup.channel = try await api.create(
            "channels",
            #"""
            {"type": "custom_channel", "displayName": "Custom", "icon": "iVBORw0KGgo=",
             "restrictions": {"inbound": {"maxTextLength": 140, "features": ["typing_events"]},
                              "outbound": {"maxTextLength": 1000, "richMessageTypes": ["quickreply"]}}}
            """#
        )
        let applications =
            botless
            ? #"{"agentConfiguration": {"agents": [{"id": "\#(setup.agentApp)"}]},"#
            : #"{"botConfiguration": {\#(botOptions)"bots": [{"id": "\#(setup.botApp)", "participant": {"id": "\#(setup.participant)"}, "onEscalation": {"agent": {"id": "\#(setup.agentApp)"}}}]},"#
        setup.orchestration = try await api.create(
            "orchestrations",
            #"""
            {"name": "orchestration", "applications": \#(applications)
              "customerConfiguration": {"customer": {"id": "\#(setup.customerApp)"}}}}
            """#
        )
        setup.account = try await api.create(
            "accounts",
            #"""
            {"name": "order_account", "address": "\#(address)", "channel": {"id": "\#(setup.channel)"},
             "chatConfigurations": {"timeout": 30, "orchestration": {"id": "\#(setup.orchestration)"},
                                    "entryPoint": {"id": "1001"}}}
            """#
        )
        return setup
    }
}

/// The token endpoint answers `{"data": {"accessToken": "token-<n>"}}`; callbacks answer 200.
let defaultResponder: CallbackServer.Responder = { request, count in
    request.path == "/token" ? (200, #"{"data": {"accessToken": "token-\#(count + 1)"}}"#) : (200, "{}")
}

func withConversationHub(
    retrySchedule: [Duration] = [.milliseconds(100), .milliseconds(200)],
    botless: Bool = false,
    botOptions: String = "",
    maxUploadBytes: Int64 = 25 << 20,
    responder: @escaping CallbackServer.Responder = defaultResponder,
    clock: @escaping @Sendable () -> Int64 = EventStoreConfiguration.systemClock,
    mergesSearchIndex: Bool = true,
    _ body: @Sendable (ConversationHub) async throws -> Void
) async throws {
    try await withCallbackServer(responder: responder) { callbacks in
        try await withTemporaryDirectory { directory in
            let (store, tokens, app) = try await makeHub(directory, maxUploadBytes: maxUploadBytes, clock: clock)
            let masterKey = try MasterKey.load(directory: store.directory, environment: [:])
            let delivery = DeliveryService(
                store: store,
                vault: SecretVault(masterKey: masterKey),
                // A loaded machine (the whole suite in parallel on two cores) can hold a local callback's
                // answer for seconds: a short timeout would add attempts the tests do not expect.
                configuration: .init(
                    retrySchedule: retrySchedule,
                    timeout: .seconds(10),
                    webhookRetryInterval: .milliseconds(150)
                ),
                logger: Logger(label: "delivery", factory: { _ in SwiftLogNoOpLogHandler() })
            )
            do {
                try await store.withWriter { store in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask { try await delivery.run() }
                        if mergesSearchIndex {
                            group.addTask {
                                let logger = Logger(label: "merge", factory: { _ in SwiftLogNoOpLogHandler() })
                                try await SearchIndexMerge(store: store, interval: .milliseconds(100), logger: logger)
                                    .run()
                            }
                        }
                        defer { group.cancelAll() }
                        let registry = ClientRegistry(store: store)
                        let (client, _) = try await registry.create(
                            name: "integrator",
                            scopes: [.manage, .interactionManage],
                            actor: "test"
                        )
                        let (analyst, _) = try await registry.create(name: "analyst", scopes: [.query], actor: "test")
                        try await app.test(.router) { client2 in
                            let api = API(
                                client: client2,
                                token: tokens.issue(subject: client.id, scopes: [.manage, .interactionManage])
                            )
                            let query = API(client: client2, token: tokens.issue(subject: analyst.id, scopes: [.query]))
                            let setup = try await ConversationSetup.make(
                                api,
                                callbacks: callbacks,
                                botless: botless,
                                botOptions: botOptions
                            )
                            try await body(
                                ConversationHub(
                                    api: api,
                                    query: query,
                                    admin: API(
                                        client: client2,
                                        token: tokens.issue(
                                            subject: TokenService.operatorSubject,
                                            scopes: Set(Scope.allCases)
                                        )
                                    ),
                                    store: store,
                                    callbacks: callbacks,
                                    setup: setup
                                )
                            )
                        }
                        // Whatever the test did, the read models are what a rebuild of its log gives.
                        #expect(try await projectionMismatches(store) == [])
                    }
                }
                await store.close()
            } catch {
                await store.close()
                throw error
            }
        }
    }
}

/// A RequestMessages body with one message.
func messageBody(
    _ type: String = "text",
    from sender: String = "customer",
    id messageId: String = UUID().uuidString,
    text: String? = "I need help with my order.",
    value: JSONValue? = nil,
    conversation: String? = nil,
    participant: JSONValue? = nil,
    contact: String = "johnsmith@example.com",
    phone: String = "123456788"
) -> JSONValue {
    var content: [String: JSONValue] = [:]
    if let text { content["text"] = .string(text) }
    if let value { content["value"] = value }
    var conversationFields: [String: JSONValue] = [:]
    if let conversation {
        conversationFields["id"] = .string(conversation)
    } else {
        conversationFields["account"] = .object([
            "address": .string(ConversationSetup.address), "channel": .object(["type": "custom_channel"]),
        ])
        conversationFields["customer"] = .object([
            "name": "John smith", "type": "individual",
            "contacts": .object([
                "contact": .array([
                    .object(["type": "phone", "subType": "mobile", "address": .string(phone)]),
                    .object(["type": "email", "address": .string(contact)]),
                ])
            ]),
        ])
    }
    var senderFields: [String: JSONValue] = ["type": .string(sender)]
    if let participant { senderFields["participant"] = participant }
    return .object([
        "messages": .object([
            "message": .array([
                .object([
                    "messageId": .string(messageId), "type": .object(["value": .string(type)]),
                    "content": .object(content), "conversation": .object(conversationFields),
                    "sender": .object(senderFields),
                ])
            ])
        ])
    ])
}

extension RecordedEvent {
    /// The deliveries a `delivery.*` event lists: one per message the attempted call carried.
    var deliveries: [JSONValue] { ((try? JSONValue.parse(data))?["deliveries"]?.arrayValue) ?? [] }
}

extension JSONValue {
    /// The message of an item of a `delivery.*` event: `message`, or, when the delivery has its
    /// message's own id (a message's first delivery), `delivery`.
    var deliveredMessage: String? { (self["message"] ?? self["delivery"])?.stringValue }
}

extension [RecordedEvent] {
    /// Deliveries listed by events of `type`, optionally only those of one conversation's messages.
    func deliveries(_ type: String, conversation: String? = nil) -> Int {
        let messages = conversation.map(messageIds(of:))
        return filter { $0.type == type }.flatMap(\.deliveries)
            .filter { item in messages?.contains(item.deliveredMessage ?? "") ?? true }.count
    }

    /// The ids of the messages on a conversation's stream (an item of a `delivery.*` event names its
    /// message, not its conversation).
    func messageIds(of conversation: String) -> Set<String> {
        Set(
            filter { $0.stream == "conversation/\(conversation)" && $0.type.hasPrefix("message.") }
                .compactMap { try? JSONValue.parse($0.data)["id"]?.stringValue }
        )
    }
}
