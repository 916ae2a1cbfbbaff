/// What the hub does with one message, decided from the conversation's state and the account's
/// routing alone (spec §4.2, §5.2): the channel's restrictions, the permission matrix, who the message
/// goes to, the conversation's next state and what changed in it, and the messages the hub sends itself.
/// Pure; the command that receives a message appends what it says.
public struct IntakeDecision: Sendable, Equatable {
    /// A change of the conversation's state, each one an event.
    public enum StateChange: Sendable, Equatable {
        case escalated
        case assigned(agent: String?, queue: String?)
        case ended
    }

    /// Who the message is delivered to; none for a message recorded only (a typing event toward a
    /// side whose channel features leave typing events out).
    public var recipients: [Recipient]
    public var state: ConversationState
    public var changes: [StateChange]
    public var systemMessages: [SystemMessage]

    /// Decides a message of a conversation standing at `state`.
    ///
    /// - Parameters:
    ///   - customerIdentifiable: the customer gave a contact (a bot session's transcript is forwarded).
    ///   - botTookPart: whether a bot sent anything in the conversation; asked only for an end of an
    ///     escalated conversation of a bot orchestration (one that started escalated skipped the bot).
    /// - Throws: ``Rejection`` from the channel's restrictions, the permission matrix, or an ended conversation.
    public static func decide(
        _ message: IncomingMessage,
        path: String,
        state: ConversationState,
        routing: AccountRouting,
        customerIdentifiable: Bool,
        botTookPart: () throws -> Bool,
        now: Int64
    ) throws -> IntakeDecision {
        try routing.channel.check(message, path: path)
        var botBypassed = false
        if message.type == "conversation.end", state.status == .escalated, routing.plan.bot != nil {
            botBypassed = try !botTookPart()
        }
        let routed = try ConversationRules.route(
            message.type,
            from: message.senderType,
            content: message.body["content"] ?? .null,
            state: state,
            plan: routing.plan,
            now: now,
            customerIdentifiable: customerIdentifiable,
            botBypassed: botBypassed
        )
        return IntakeDecision(
            recipients: routing.channel.delivers(message.type, from: message.senderType) ? routed.recipients : [],
            state: routed.state,
            changes: changes(from: state, to: routed.state),
            systemMessages: routed.systemMessages
        )
    }

    /// The state changes between two states, in the order their events are appended.
    public static func changes(from previous: ConversationState, to next: ConversationState) -> [StateChange] {
        var changes: [StateChange] = []
        if next.status == .escalated, previous.status != .escalated { changes.append(.escalated) }
        if next.assignedAgent != previous.assignedAgent || next.queue != previous.queue {
            changes.append(.assigned(agent: next.assignedAgent, queue: next.queue))
        }
        if next.status == .ended, previous.status != .ended { changes.append(.ended) }
        return changes
    }
}
