/// A client application type that may send messages (the matrix's columns, spec §4.2).
///
/// `business_notification` is a valid role but has no column: it only receives (spec §4.2 [P]).
public enum SenderType: String, CaseIterable, Sendable, Hashable {
    case customer
    case egainAgent = "egain_agent"
    case customAgent = "custom_agent"
    case egainBot = "egain_bot"
    case customBot = "custom_bot"

    public var isAgent: Bool { self == .egainAgent || self == .customAgent }
    public var isBot: Bool { self == .egainBot || self == .customBot }
}

/// Who may send which message type: eGain's documented permission matrix (spec §4.2).
public enum MessagePermissions {
    /// Types every sender may send.
    static let everyone: Set<String> = [
        "text", "typing.start", "typing.end", "customer.info", "error", "conversation.end",
    ]
    /// Types only agents and bots send.
    static let agentsAndBots: Set<String> = [
        "escalation.transfer", "pagePush", "richMessage.listpicker", "richMessage.quickreply", "richMessage.template",
        "richMessage.timepicker", "richMessage.richlink", "richMessage.form", "richMessage.payment", "richMessage.app",
        "richMessage.authentication",
    ]
    /// Types only agents send.
    static let agentsOnly: Set<String> = [
        "conversation.state", "agent.join", "agent.available", "agent.unavailable", "agent.transfer", "queue.transfer",
    ]
    /// Types only the customer sends.
    static let customerOnly: Set<String> = [
        "authentication.success", "authentication.failure", "customer.active", "customer.inactive", "delete.soft",
        "delete.permanent", "undo",
    ]

    /// Every message type of the matrix.
    public static let messageTypes: Set<String> = everyone.union(agentsAndBots).union(agentsOnly).union(customerOnly)

    /// Whether `sender` may send `type`; `nil` when `type` is not a message type at all (an `invalidValue`
    /// where a known type from the wrong sender is `notPermitted`).
    public static func allows(_ sender: SenderType, toSend type: String) -> Bool? {
        guard messageTypes.contains(type) else { return nil }
        if everyone.contains(type) { return true }
        if agentsAndBots.contains(type) { return sender != .customer }
        if agentsOnly.contains(type) { return sender.isAgent }
        return sender == .customer
    }

    /// The refusal for a sender that may not send a type, in the API's format.
    public static func check(_ sender: SenderType, toSend type: String) throws(Rejection) {
        switch allows(sender, toSend: type) {
        case nil:
            throw Rejection.invalidValue("type.value", "'\(type)' is not a message type")
        case false?:
            throw Rejection(
                .notPermitted,
                "A \(sender.rawValue) client application may not send messages of type \(type).",
                details: [.init(key: "type.value", value: type), .init(key: "sender.type", value: sender.rawValue)]
            )
        case true?:
            return
        }
    }
}
