import AsyncHTTPClient
import Foundation
import HubCommands
import HubDelivery
import HubDomain
@_spi(Storage) import HubEventLog
import HubHTTP
import HubReadModels
import HubSQLite
import HubVault
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// `hubstore demo`: a whole conversation through a hub in this process (DESIGN.md §9).
///
/// Starts the hub on a data directory with three callback receivers standing in for a customer app,
/// a bot and an agent app; configures the hub through its public API in the documented order; then
/// customer → bot → escalation → agent → end, each party answering what its callback received; and
/// reports the transcript, the delivery log and the verify result.
public struct Demo: Sendable {
    public let dataDirectory: String
    let say: @Sendable (String) -> Void

    public init(dataDirectory: String, say: @escaping @Sendable (String) -> Void) {
        self.dataDirectory = dataDirectory
        self.say = say
    }

    /// What the demo produced.
    public struct Report: Sendable {
        public var conversation: String
        public var transcript: String
        public var deliveries: [String]
        public var verify: ChainVerifier.Report
    }

    /// A message a receiver got: the role it stands for and the last message of the callback body.
    struct Received: Sendable {
        var role: String
        var type: String
        var text: String?
        var requestId: String
    }

    public func run() async throws -> Report {
        var configuration = ServerConfiguration(port: 0, store: EventStoreConfiguration(dataDirectory: dataDirectory))
        configuration.delivery.retrySchedule = [.milliseconds(200), .seconds(1)]
        let server = configuration
        let logger = Logger(label: "hubstore", factory: { _ in SwiftLogNoOpLogHandler() })
        let mailbox = Mailbox()
        @Sendable func receiver(_ role: String) -> CallbackReceiver.Handler {
            { _, _, headers, body in
                let json = (try? JSONValue.parse(bytes: body.readableBytesView)) ?? .null
                let last = json.value(at: "messages")?["message"]?.arrayValue?.last
                mailbox.deliver(
                    Received(
                        role: role,
                        type: last?.value(at: "type.value")?.stringValue ?? "?",
                        text: last?.value(at: "content.text")?.stringValue,
                        requestId: headers["x-egain-request-id"] ?? ""
                    )
                )
                return (200, "{}")
            }
        }
        let customerHandler = receiver("customer")
        let botHandler = receiver("bot")
        let agentHandler = receiver("agent")
        return try await CallbackReceiver.run(customerHandler) { customerApp in
            try await CallbackReceiver.run(botHandler) { botApp in
                try await CallbackReceiver.run(agentHandler) { agentApp in
                    try await InProcessHub.run(server, logger: logger) { hub in
                        say("hub listening on \(hub.baseURL), data in \(dataDirectory)")
                        let setup = try await configure(
                            hub,
                            customer: customerApp.baseURL,
                            bot: botApp.baseURL,
                            agent: agentApp.baseURL
                        )
                        let conversation = try await converse(hub, setup: setup, mailbox: mailbox)
                        return try await report(hub, conversation: conversation)
                    }
                }
            }
        }
    }

    struct Setup: Sendable {
        var participant: String
    }

    /// The configuration, in the documented order (README "Configure a hub").
    func configure(_ hub: InProcessHub, customer: String, bot: String, agent: String) async throws -> Setup {
        say("configuring: authentication, client applications, participant, channel, orchestration, account")
        let authentication = try await hub.create(
            "authentications",
            #"{"name": "demo_basic", "type": "basic", "basicAuth": {"username": "hub", "password": "demo-secret"}}"#
        )
        func app(_ name: String, _ role: String, _ url: String) -> String {
            #"""
            {"name": "\#(name)", "roles": [{"name": "\#(role)", "version": "v3", "callback": "\#(url)/callback",
              "notificationEmail": "ops@example.com", "headers": [{"name": "X-Demo", "value": "\#(role)"}],
              "authentication": {"id": "\#(authentication)"}}]}
            """#
        }
        let customerApp = try await hub.create("clientapplications", app("demo_customer_app", "customer", customer))
        let botApp = try await hub.create("clientapplications", app("demo_bot_app", "custom_bot", bot))
        let agentApp = try await hub.create("clientapplications", app("demo_agent_app", "custom_agent", agent))
        let participant = try await hub.create(
            "participants",
            #"""
            {"name": "order_bot", "type": "custom_bot", "application": {"id": "\#(botApp)"},
             "options": [{"name": "greeting", "value": "hello"}]}
            """#
        )
        let channel = try await hub.create(
            "channels",
            #"""
            {"type": "web_chat", "displayName": "Web chat", "icon": "iVBORw0KGgo=",
             "restrictions": {"inbound": {"maxTextLength": 1000, "features": ["typing_events"]},
                              "outbound": {"maxTextLength": 2000}}}
            """#
        )
        let orchestration = try await hub.create(
            "orchestrations",
            #"""
            {"name": "bot_then_agent", "applications": {
               "botConfiguration": {"bots": [{"id": "\#(botApp)", "participant": {"id": "\#(participant)"},
                                              "onEscalation": {"agent": {"id": "\#(agentApp)"}}}]},
               "customerConfiguration": {"customer": {"id": "\#(customerApp)"}}}}
            """#
        )
        _ = try await hub.create(
            "accounts",
            #"""
            {"name": "demo_account", "address": "1000", "channel": {"id": "\#(channel)"},
             "chatConfigurations": {"timeout": 30, "orchestration": {"id": "\#(orchestration)"},
                                    "entryPoint": {"id": "1000"}}}
            """#
        )
        return Setup(participant: participant)
    }

    /// The conversation: each party answers what its callback received.
    func converse(_ hub: InProcessHub, setup: Setup, mailbox: Mailbox) async throws -> String {
        let bot = #"{"type": "custom_bot", "participant": {"id": "\#(setup.participant)", "name": "order_bot"}}"#
        let agent = #"{"type": "custom_agent", "participant": {"name": "Alice"}}"#
        say("customer: Hi, I need help with my order.")
        let conversation = try await send(
            hub,
            #"""
            "messageId": "customer-1", "type": {"value": "text"}, "content": {"text": "Hi, I need help with my order."},
            "sender": {"type": "customer", "participant": {"name": "John Smith"}},
            "conversation": {"account": {"address": "1000", "channel": {"type": "web_chat"}},
              "customer": {"name": "John Smith", "type": "individual",
                "contacts": {"contact": [{"type": "email", "address": "john.smith@example.com"}]}}}
            """#
        )
        try await mailbox.expect("bot", "text", say)
        try await send(hub, message("bot-1", "text", "Sure. What is your order number?", conversation, bot))
        try await mailbox.expect("customer", "text", say)
        try await send(
            hub,
            message(
                "customer-2",
                "text",
                "It is 12345, and I would like to talk to a person.",
                conversation,
                #"{"type": "customer"}"#
            )
        )
        try await mailbox.expect("bot", "text", say)
        try await send(hub, message("bot-2", "escalation.transfer", "Customer asks for an agent.", conversation, bot))
        try await mailbox.expect("customer", "conversation.state", say)
        try await mailbox.expect("agent", "escalation.transfer", say)
        try await send(
            hub,
            #"""
            "messageId": "agent-1", "type": {"value": "agent.join"},
            "content": {"value": {"agent": {"id": "alice", "name": "Alice"}}},
            "conversation": {"id": "\#(conversation)"}, "sender": \#(agent)
            """#
        )
        try await mailbox.expect("customer", "agent.join", say)
        try await send(
            hub,
            message("agent-2", "text", "Hi John, this is Alice. Order 12345 ships today.", conversation, agent)
        )
        try await mailbox.expect("customer", "text", say)
        try await send(hub, message("agent-3", "conversation.end", "Thanks for contacting us.", conversation, agent))
        try await mailbox.expect("customer", "conversation.end", say)
        // Every other party is told of the end, the bot's session too (spec §4.3 [P]).
        try await mailbox.expect("bot", "conversation.end", say)
        return conversation
    }

    func message(_ id: String, _ type: String, _ text: String, _ conversation: String, _ sender: String) -> String {
        #"""
        "messageId": "\#(id)", "type": {"value": "\#(type)"}, "content": {"text": "\#(text)"},
        "conversation": {"id": "\#(conversation)"}, "sender": \#(sender)
        """#
    }

    /// Sends one message (the fields of one `messages.message[]` item); returns its conversation id.
    @discardableResult
    func send(_ hub: InProcessHub, _ fields: String) async throws -> String {
        let (status, text) = try await hub.call(
            .POST,
            "/conversation/conversationmgr/v3/conversations/messages",
            body: #"{"messages": {"message": [{\#(fields)}]}}"#
        )
        guard status == 202,
            let conversation = (try? JSONValue.parse(text))?.value(at: "messages")?["message"]?.arrayValue?.first?
                .value(at: "conversation.id")?.stringValue
        else { throw InProcessHubError("sending failed: \(status) \(text)") }
        return conversation
    }

    func report(_ hub: InProcessHub, conversation: String) async throws -> Report {
        // The last delivery events commit just after the callbacks answered: nine messages (the end
        // reaches the customer and the bot).
        var deliveries: [String] = []
        for _ in 0..<100 {
            deliveries = try await deliveryLog(conversation)
            if deliveries.count >= 9 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let (_, transcript) = try await hub.call(
            .GET,
            "/v1/conversations/\(conversation)/transcript",
            accept: "text/plain"
        )
        let directory = DataDirectory(path: dataDirectory)
        // The hub's key checks the signed checkpoints of the head it may have recorded by now.
        let key = LogHeadKey(masterKey: try MasterKey.load(directory: directory))
        let verify = try await ChainVerifier(databasePath: directory.databasePath, checkpointKey: key).verify { _, _ in
        }
        return Report(conversation: conversation, transcript: transcript, deliveries: deliveries, verify: verify)
    }

    /// The attempts of the conversation's deliveries, one line per message and `delivery.*` event (read
    /// on a connection's own queue, not on the cooperative thread pool).
    func deliveryLog(_ conversation: String) async throws -> [String] {
        let reader = try await SerializedConnection(
            path: DataDirectory(path: dataDirectory).databasePath,
            configuration: .init(mode: .readOnly),
            label: "hubstore.demo.reader"
        )
        let lines: Result<[String], any Error> = await Result {
            try await reader.perform { connection in try Self.deliveryLines(conversation, connection) }
        }
        await reader.close()
        return try lines.get()
    }

    private static func deliveryLines(_ conversation: String, _ connection: Connection) throws -> [String] {
        let statement = try connection.prepare(
            sql: """
                SELECT e.position, e.recorded_at, e.type, e.data, m.type, m.sender_type
                FROM events e, json_each(e.data, '$.deliveries') d
                JOIN messages m ON m.id = coalesce(json_extract(d.value, '$.message'), json_extract(d.value, '$.delivery'))
                WHERE e.stream >= 'delivery/' AND e.stream < 'delivery0'
                    AND m.\(ConversationProjection.ofConversation())
                ORDER BY e.position, m.seq
                """
        )
        try statement.bind([conversation])
        var lines: [String] = []
        while try statement.step() {
            let data = (try? JSONValue.parse(statement.text(at: 3))) ?? .null
            let status = data["status"].map { $0.text } ?? "-"
            let latency = data["latencyMs"].map { $0.text } ?? "-"
            lines.append(
                "#\(statement.int64(at: 0)) \(Timestamp.format(statement.int64(at: 1))) \(statement.text(at: 2)): "
                    + "\(statement.optionalText(at: 4) ?? "?") from \(statement.optionalText(at: 5) ?? "?") "
                    + "to \(data["role"]?.stringValue ?? "?"), attempt \(data["attempt"]?.text ?? "?"), "
                    + "HTTP \(status), \(latency) ms"
            )
        }
        return lines
    }
}

/// The receivers' messages, taken in order by the demo's script.
final class Mailbox: Sendable {
    private let received = Mutex<[Demo.Received]>([])

    func deliver(_ message: Demo.Received) { received.withLock { $0.append(message) } }

    /// Waits (at most 10 s) for `role` to receive a message of `type`; takes it and what that role got before it.
    func expect(_ role: String, _ type: String, _ say: @Sendable (String) -> Void) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            // Parties receive concurrently: take this role's messages up to the match, leave the others'.
            let found = received.withLock { list -> Demo.Received? in
                guard let index = list.firstIndex(where: { $0.role == role && $0.type == type }) else { return nil }
                let match = list[index]
                list = list.enumerated().filter { $0.offset > index || $0.element.role != role }.map(\.element)
                return match
            }
            if let found {
                say("  -> \(role) app received \(type)" + (found.text.map { ": \($0)" } ?? ""))
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw InProcessHubError("the \(role) app did not receive \(type)")
    }
}
