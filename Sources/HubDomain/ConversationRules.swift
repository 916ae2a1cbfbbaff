/// Where a conversation stands, as far as routing is concerned (spec §5.2).
public struct ConversationState: Sendable, Equatable {
    public enum Status: String, Sendable {
        /// With the bot, or with the agents when the orchestration has no bot.
        case active
        /// Handed from the bot to the escalation agent application.
        case escalated
        case ended
    }

    public var status: Status
    /// Milliseconds since 1970 UTC of the last message.
    public var lastActivity: Int64
    /// The agent named by the last `agent.join` / `agent.transfer`.
    public var assignedAgent: String?
    /// The queue named by the last `queue.transfer`.
    public var queue: String?

    public init(status: Status = .active, lastActivity: Int64, assignedAgent: String? = nil, queue: String? = nil) {
        self.status = status
        self.lastActivity = lastActivity
        self.assignedAgent = assignedAgent
        self.queue = queue
    }
}

/// A client application role that receives a message.
public struct Recipient: Sendable, Equatable, Hashable {
    /// The client application id.
    public var application: String
    /// The role name (`customer`, `custom_bot`, `custom_agent`, ...).
    public var type: String
    /// The bot participant, for bots.
    public var participant: String?
    /// The participant's name, shown in `recipients.recipient[].participant.name`.
    public var participantName: String?

    public init(application: String, type: String, participant: String? = nil, participantName: String? = nil) {
        self.application = application
        self.type = type
        self.participant = participant
        self.participantName = participantName
    }

    /// `{type, participant: {id, name}}` as callbacks and transcripts show it.
    public var json: JSONValue {
        var fields: [String: JSONValue] = ["type": .string(type)]
        var participantFields: [String: JSONValue] = [:]
        if let participant { participantFields["id"] = .string(participant) }
        if let participantName { participantFields["name"] = .string(participantName) }
        if !participantFields.isEmpty { fields["participant"] = .object(participantFields) }
        return .object(fields)
    }
}

/// The parties an orchestration routes between, resolved to recipients.
public struct RoutingPlan: Sendable, Equatable {
    /// `bots[0]` (only the first bot routes, spec §3.5 [P]) and its escalation agent.
    public var bot: Recipient?
    public var escalationAgent: Recipient?
    /// `agentConfiguration.agents[0]` when there is no bot.
    public var agent: Recipient?
    public var customer: Recipient?
    /// `botConfiguration.forwardTranscript`: a bot session that ends without escalation, with a
    /// customer who has a contact, is forwarded to the escalation agent application as a transcript.
    public var forwardTranscript: Bool
    /// `botConfiguration.bypassVaDuration` (minutes): a customer back within it of their previous
    /// conversation goes straight to the escalation agent application.
    public var bypassBotMinutes: Double?

    public init(
        bot: Recipient? = nil,
        escalationAgent: Recipient? = nil,
        agent: Recipient? = nil,
        customer: Recipient? = nil,
        forwardTranscript: Bool = false,
        bypassBotMinutes: Double? = nil
    ) {
        self.bot = bot
        self.escalationAgent = escalationAgent
        self.agent = agent
        self.customer = customer
        self.forwardTranscript = forwardTranscript
        self.bypassBotMinutes = bypassBotMinutes
    }

    /// Each recipient the plan routes to, once: its bot, escalation agent, agent and customer, in
    /// that order.
    public var recipients: [Recipient] {
        var recipients: [Recipient] = []
        for recipient in [bot, escalationAgent, agent, customer].compactMap(\.self)
        where !recipients.contains(recipient) {
            recipients.append(recipient)
        }
        return recipients
    }
}

/// What the hub does with one accepted message.
public struct RoutingDecision: Sendable, Equatable {
    public var recipients: [Recipient]
    public var state: ConversationState
    /// Messages the hub itself sends (`sender.type: system`), e.g. `conversation.state` escalated to the customer.
    public var systemMessages: [SystemMessage]
}

/// A message the hub originates (spec §5.4).
public struct SystemMessage: Sendable, Equatable {
    public var type: String
    public var content: JSONValue
    public var recipient: Recipient
    /// The conversation's transcript as the `text` (filled in by the intake, which reads it): the
    /// forwarded transcript of a bot session (spec §5.2 item 6).
    public var carriesTranscript: Bool
    /// The callback's `metadata.attributes` for this message.
    public var attributes: JSONValue?

    public init(
        type: String,
        content: JSONValue,
        recipient: Recipient,
        carriesTranscript: Bool = false,
        attributes: JSONValue? = nil
    ) {
        self.type = type
        self.content = content
        self.recipient = recipient
        self.carriesTranscript = carriesTranscript
        self.attributes = attributes
    }
}

/// The conversation state machine and routing by orchestration (spec §5.2), as pure functions.
public enum ConversationRules {
    /// Whether a customer message without `conversation.id` continues the open conversation: it is
    /// not ended and the account's `chatConfigurations.timeout` (minutes) has not elapsed since its
    /// last message. No timeout configured: it continues while open.
    public static func continues(_ state: ConversationState, timeoutMinutes: Double?, now: Int64) -> Bool {
        guard state.status != .ended else { return false }
        guard let timeoutMinutes, timeoutMinutes > 0 else { return true }
        return Double(now - state.lastActivity) < timeoutMinutes * 60_000
    }

    /// Whether a new conversation of a returning customer skips the bot (`bypassVaDuration`): the
    /// orchestration has a bot and an escalation agent, and the customer's previous conversation with
    /// the account had its last message less than the duration ago.
    public static func bypassesBot(plan: RoutingPlan, previousActivity: Int64?, now: Int64) -> Bool {
        guard plan.bot != nil, plan.escalationAgent != nil, let minutes = plan.bypassBotMinutes, minutes > 0,
            let previousActivity
        else { return false }
        return Double(now - previousActivity) < minutes * 60_000
    }

    /// The `metadata.attributes` that flag a forwarded transcript (spec §5.2 item 6).
    public static let transcriptAttributes: JSONValue = .array([.object(["name": "transcript", "value": "true"])])

    /// Routes one message of `type` from `sender` in a conversation standing at `state`.
    /// `customerIdentifiable`: the conversation's customer has at least one contact. `botBypassed`: the
    /// conversation started escalated (`bypassVaDuration`), so the bot never had a session in it.
    ///
    /// - Throws: ``Rejection`` `conversationEnded` when the conversation has ended; `notPermitted` or
    ///   `invalidValue` from the permission matrix.
    public static func route(
        _ type: String,
        from sender: SenderType,
        content: JSONValue = .null,
        state: ConversationState,
        plan: RoutingPlan,
        now: Int64,
        customerIdentifiable: Bool = false,
        botBypassed: Bool = false
    ) throws(Rejection) -> RoutingDecision {
        try MessagePermissions.check(sender, toSend: type)
        guard state.status != .ended else {
            throw Rejection(.conversationEnded, "Conversation already ended.")
        }
        var next = state
        next.lastActivity = now
        var system: [SystemMessage] = []
        // The party on the hub's side of the customer: the bot, or after escalation (or without a bot) the agent.
        let handler = state.status == .escalated ? plan.escalationAgent : (plan.bot ?? plan.agent)
        var recipients: [Recipient]
        switch (sender, type) {
        case (_, "conversation.end"):
            // Ended by any party; every other party is told (spec §4.3 [P]): the customer, the bot while
            // or after its session, and the agent application once escalated (or without a bot).
            next.status = .ended
            recipients = parties(state: state, plan: plan, botBypassed: botBypassed)
                .filter { $0.side != side(of: sender) }.map { $0.recipient }
            // A bot session that ends without escalation: its transcript goes to the escalation agent.
            if state.status == .active, plan.bot != nil, plan.forwardTranscript, customerIdentifiable,
                let agent = plan.escalationAgent
            {
                system.append(
                    SystemMessage(
                        type: "text",
                        content: .object([:]),
                        recipient: agent,
                        carriesTranscript: true,
                        attributes: transcriptAttributes
                    )
                )
            }
        case (.customer, _):
            recipients = [handler].compactMap { $0 }
        case (_, "escalation.transfer") where sender.isBot && state.status == .active:
            // The bot hands over: the customer learns it is escalated; the agent gets the escalation
            // (delivery attaches the transcript so far).
            next.status = .escalated
            recipients = [plan.escalationAgent].compactMap { $0 }
            if let customer = plan.customer {
                system.append(
                    SystemMessage(
                        type: "conversation.state",
                        content: .object(["value": .object(["status": "escalated", "content": ""])]),
                        recipient: customer
                    )
                )
            }
        case (_, "agent.join"), (_, "agent.transfer"):
            next.assignedAgent =
                content.value(at: "value.agent.id")?.stringValue ?? content.value(at: "value.agent.name")?.stringValue
            recipients = [plan.customer].compactMap { $0 }
        case (_, "queue.transfer"):
            next.queue =
                content.value(at: "value.queue.id")?.stringValue ?? content.value(at: "value.queue.name")?.stringValue
            recipients = [plan.customer].compactMap { $0 }
        default:
            // Bots and agents talk to the customer.
            recipients = [plan.customer].compactMap { $0 }
        }
        return RoutingDecision(recipients: recipients, state: next, systemMessages: system)
    }

    private enum Side { case customer, bot, agent }

    private static func side(of sender: SenderType) -> Side {
        sender == .customer ? .customer : sender.isBot ? .bot : .agent
    }

    /// The parties a conversation standing at `state` has had, in the order they are told of its end.
    private static func parties(
        state: ConversationState,
        plan: RoutingPlan,
        botBypassed: Bool
    ) -> [(side: Side, recipient: Recipient)] {
        var parties: [(side: Side, recipient: Recipient)] = []
        if let customer = plan.customer { parties.append((.customer, customer)) }
        if let bot = plan.bot, state.status == .active || !botBypassed { parties.append((.bot, bot)) }
        let agent = plan.bot == nil ? plan.agent : state.status == .escalated ? plan.escalationAgent : nil
        if let agent { parties.append((.agent, agent)) }
        return parties
    }

    /// Typing events are delivered and recorded but are not transcript lines.
    public static func isTranscriptLine(_ type: String) -> Bool {
        !["typing.start", "typing.end", "customer.active", "customer.inactive"].contains(type)
    }
}
