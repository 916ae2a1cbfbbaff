import HubDomain
import HubEventLog
import HubReadModels

extension MessageIntake {
    /// What the hub's side (a bot or an agent, through the Conversation Manager API) said in a
    /// conversation a LivePerson connector holds, as the connector sees it (connector spec §8, §9):
    /// text takes the dialog's next sequence as a ContentEvent, rich messages as a RichContentEvent,
    /// typing is a chat state (no sequence), `agent.join`/`agent.transfer` assign the agent, and
    /// `conversation.end` closes the conversation (`closeReason` `AGENT`).
    func tellConnector(_ message: IncomingMessage, hubId: String, in conversation: ConversationRow) throws {
        guard conversation.origin == "liveperson", message.senderType != .customer,
            let row = try ConnectorConversations.conversation(conversation.id, in: transaction), row.isOpen
        else { return }
        let originator = ConnectorOriginator(
            id: message.participant?["id"]?.stringValue ?? message.participant?["name"]?.stringValue ?? caller.actor,
            role: "ASSIGNED_AGENT"
        )
        let stream = "conversation/\(conversation.id)"
        let event: JSONValue
        var sequenced = true
        switch message.type {
        case "conversation.end":
            let closed = ConnectorConversationChanged(
                conversation: row.conversation,
                change: .close,
                closeReason: "AGENT"
            )
            try transaction.append([try draft(closed, account: conversation.account)], to: stream)
            return
        case "agent.join", "agent.transfer":
            let agent =
                message.value?.value(at: "agent.id")?.stringValue
                ?? message.value?.value(at: "agent.name")?
                .stringValue
            let assigned = ConnectorConversationChanged(
                conversation: row.conversation,
                change: .assign,
                participant: ConnectorOriginator(id: agent ?? originator.id, role: "ASSIGNED_AGENT"),
                deliveries: try webhooks(AppInstallation.conversationChangeKey, row)
            )
            try transaction.append([try draft(assigned, account: conversation.account)], to: stream)
            return
        case "text":
            event = .object(["type": "ContentEvent", "contentType": "text/plain"])
        case "typing.start", "typing.end":
            event = .object([
                "type": "ChatStateEvent", "chatState": message.type == "typing.start" ? "COMPOSING" : "PAUSE",
            ])
            sequenced = false
        case let type where type.hasPrefix("richMessage."):
            event = .object(["type": "RichContentEvent"])
        default:
            return
        }
        let published = ConnectorEventPublished(
            conversation: row.conversation,
            dialog: row.conversation,
            sequence: sequenced ? row.nextSequence : nil,
            originator: originator,
            event: event,
            message: hubId,
            metadata: nil,
            deliveries: try webhooks(AppInstallation.messagingKey(event["type"]?.stringValue ?? ""), row)
        )
        try transaction.append([try draft(published, account: conversation.account)], to: stream)
    }

    private func webhooks(_ key: String, _ row: ConnectorConversationRow) throws -> [MessageRouted.Delivery]? {
        try ConnectorApps.webhookDeliveries(app: row.app, account: row.account, key: key, in: transaction)
    }
}
