import HubDomain
import HubEventLog
import HubReadModels
import HubVault

extension MessageIntake {
    /// `delete.soft` hides a message, `undo` restores it, `delete.permanent` takes it out of every
    /// transcript and query (the log keeps all three events).
    /// Whether a message of `type` acts on an earlier message (``applyControl(_:conversation:by:path:stream:)``).
    static func isControl(_ type: String) -> Bool {
        type == "delete.soft" || type == "undo" || type == "delete.permanent"
    }

    func applyControl(
        _ message: IncomingMessage,
        conversation: ConversationRow,
        by hubId: String,
        path: String,
        stream: String
    ) throws {
        let type: String
        switch message.type {
        case "delete.soft": type = "message.softDeleted"
        case "undo": type = "message.restored"
        case "delete.permanent": type = "message.erased"
        default: return
        }
        let reference = message.value?["messageId"]?.stringValue ?? ""
        guard let target = try ConversationProjection.target(reference, in: conversation.id, transaction) else {
            throw Rejection.invalidValue(
                path + ".content.value.messageId",
                "no message \(reference) in conversation \(conversation.id)"
            )
        }
        let event: any DomainEvent
        switch type {
        case "message.softDeleted":
            event = MessageSoftDeleted(message: target.id, conversation: conversation.id, by: hubId)
        case "message.restored": event = MessageRestored(message: target.id, conversation: conversation.id, by: hubId)
        default:
            // The content sealed in the log under the message's own key can never be opened again, and
            // neither the key nor the row's old text stays behind in the data directory.
            transaction.eraseSecurely()
            // Its text's words leave the search index's segments at the next merge.
            try SearchIndexMerge.request(in: transaction, at: now)
            event = MessageErased(
                message: target.id,
                conversation: conversation.id,
                by: hubId,
                shredded: try shredContentKey(of: target.id, stream: stream)
            )
        }
        try transaction.append([try draft(event, account: conversation.account)], to: stream)
    }

    /// `conversation.escalated|assigned|ended` for what the decision changed.
    func applyState(
        _ decision: IntakeDecision,
        to conversation: inout ConversationRow,
        by hubId: String,
        stream: String
    ) throws {
        let events: [EventDraft] = try decision.changes.map { change in
            switch change {
            case .escalated:
                conversation.escalated = true
                return try draft(ConversationEscalated(cause: .message(hubId)), account: conversation.account)
            case .assigned(let agent, let queue):
                return try draft(
                    ConversationAssigned(by: hubId, agent: agent, queue: queue),
                    account: conversation.account
                )
            case .ended:
                conversation.endedAt = now
                return try draft(ConversationEnded(by: hubId), account: conversation.account)
            }
        }
        conversation.state = decision.state
        if !events.isEmpty { try transaction.append(events, to: stream) }
    }
}
