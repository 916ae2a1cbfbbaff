public import HubDomain
public import HubEventLog
public import HubVault
public import HubReadModels

/// Decides and writes one request's messages inside the writer's transaction (spec §4.1, §5.2).
///
/// Per message: a retry (same sender type + `messageId`) returns the first answer; otherwise the
/// conversation is found or started, the channel's rules and the routing rules decide, and the
/// message is appended (`message.received`, content sealed under its own key), with its routing
/// (`message.routed`), state changes (`conversation.*`), hub-originated messages and one outbox row
/// per recipient.
package struct MessageIntake {
    package let transaction: LogTransaction
    package let accounts: AccountDirectory
    package let vault: SecretVault
    /// Needed only to start conversations.
    package let contactKeys: ContactKeys?
    package let caller: ConfigurationStore.Caller
    package let attributes: JSONValue?

    private var now: Int64 { transaction.recordedAt }

    package func receive(_ message: IncomingMessage, path: String, prepared: PreparedContent) throws -> AcceptedMessage {
        if let original = try replay(message) { return original }
        var (conversation, account) = try locate(message, path: path)
        try account.routing.channel.check(message, path: path)
        let botBypassed =
            try message.type == "conversation.end" && conversation.state.status == .escalated
            && account.routing.plan.bot != nil && !botTookPart(in: conversation.id)
        let decision = try ConversationRules.route(
            message.type,
            from: message.senderType,
            content: message.body["content"] ?? .null,
            state: conversation.state,
            plan: account.routing.plan,
            now: now,
            customerIdentifiable: conversation.customerHasContact,
            botBypassed: botBypassed
        )
        let stream = "conversation/\(conversation.id)"
        let hubId = prepared.hubId
        var content = message.body["content"] ?? .object([:])
        if !message.attachments.isEmpty, case .object(var fields) = content {
            // Each asset must be uploaded; the callback carries {id, name, size, contentType} (spec §6.4).
            let attached = try AssetStore.attach(
                message.attachments,
                conversation: conversation.id,
                message: hubId,
                path: path,
                caller: caller,
                transaction
            )
            fields["attachments"] = .object(["attachment": .array(attached)])
            content = .object(fields)
        }
        // Customer identity and every message's content are sealed in the log (DESIGN.md §6). A
        // participant the customer's app sent is sealed under the customer's key; one the hub adds
        // below is not logged at all, since `conversation.started` holds it sealed already.
        var sender = message.body["sender"] ?? .object(["type": .string(message.senderType.rawValue)])
        var loggedSender = sender
        if message.senderType == .customer, let participant = sender["participant"], case .object(var fields) = sender {
            let sealed = try vault.seal(participant.text, record: "customer/\(conversation.customer)", in: transaction)
            transaction.know(participant, sealedAs: sealed)
            fields["participant"] = .string(sealed)
            loggedSender = .object(fields)
        } else if message.senderType == .customer, let name = conversation.customerState?["name"],
            case .object(var fields) = sender
        {
            // The customer's name, as the spec's stored messages show it (§4.4).
            fields["participant"] = .object(["name": name])
            sender = .object(fields)
        }
        let sealedContent: String
        if let seal = prepared.seal, message.attachments.isEmpty {
            try vault.store(seal, record: "message/\(hubId)", in: transaction)
            sealedContent = seal.sealed
        } else {
            // Attachments changed the content inside the transaction: sealed here.
            sealedContent = try vault.seal(content.text, record: "message/\(hubId)", in: transaction, newRecord: true)
        }
        transaction.know(content, sealedAs: sealedContent)
        let received = MessageReceived(
            id: hubId,
            conversation: conversation.id,
            messageId: message.messageId,
            type: .init(value: message.type),
            sender: loggedSender,
            content: sealedContent,
            created: message.body["created"]?.stringValue,
            attributes: attributes
        )
        try transaction.append(
            [try draft(received, account: conversation.account)],
            to: stream,
            idempotencyKey: message.idempotencyKey,
            // `replay(_:)` above already looked the key up in this transaction.
            knownNew: true
        )
        try applyControl(message, conversation: conversation, by: hubId, path: path, stream: stream)
        try record(
            Outgoing(
                id: hubId,
                messageId: message.messageId,
                type: message.type,
                sender: sender,
                senderType: message.senderType.rawValue,
                content: content,
                attributes: attributes,
                redact: message.redact
            ),
            // Typing events toward a side whose channel features leave them out are recorded, not delivered.
            recipients: account.routing.channel.delivers(message.type, from: message.senderType)
                ? decision.recipients : [],
            in: &conversation,
            account: account,
            stream: stream
        )
        try applyState(decision.state, to: &conversation, by: hubId, stream: stream)
        for system in decision.systemMessages {
            try originate(system, in: &conversation, account: account, causedBy: hubId)
        }
        return AcceptedMessage(
            id: hubId,
            messageId: message.messageId,
            conversationId: conversation.id,
            isReplay: false
        )
    }

    /// A message the hub sends itself (`sender.type: system`, spec §5.4): `message.originated`, then
    /// routed to its one recipient like any other.
    package func originate(
        _ system: SystemMessage,
        in conversation: inout ConversationRow,
        account: ResolvedAccount,
        causedBy cause: String
    ) throws {
        let id = EventID.makeV7()
        let stream = "conversation/\(conversation.id)"
        var content = system.content
        var loggedContent = system.content
        if system.carriesTranscript {
            // The customer's words: sealed in the log like any message's content (DESIGN.md §6).
            content = .object(["text": .string(try transcriptText(of: conversation.id))])
            loggedContent = .string(
                try vault.seal(content.text, record: "message/\(id)", in: transaction, newRecord: true)
            )
        }
        let messageAttributes = system.attributes ?? attributes
        let originated = MessageOriginated(
            id: id,
            conversation: conversation.id,
            type: .init(value: system.type),
            sender: .object(["type": "system"]),
            content: loggedContent,
            causedBy: cause,
            attributes: messageAttributes
        )
        try transaction.append([try draft(originated, account: conversation.account)], to: stream)
        try record(
            Outgoing(
                id: id,
                messageId: nil,
                type: system.type,
                sender: .object(["type": "system", "participant": .object(["name": "system"])]),
                senderType: "system",
                content: content,
                attributes: messageAttributes,
                redact: false,
                transcriptLine: !system.carriesTranscript
            ),
            recipients: [system.recipient],
            in: &conversation,
            account: account,
            stream: stream
        )
    }

    // MARK: - Steps

    /// The first answer to this sender's `messageId`, when it was accepted before.
    private func replay(_ message: IncomingMessage) throws -> AcceptedMessage? {
        let eventId = EventID.makeV5(name: "\(message.idempotencyKey)#0")
        guard let data = try transaction.eventData(id: eventId) else {
            return nil
        }
        let original = try JSONValue.parse(data)
        return AcceptedMessage(
            id: original["id"]?.stringValue ?? "",
            messageId: message.messageId,
            conversationId: original["conversation"]?.stringValue ?? "",
            isReplay: true
        )
    }

    /// The conversation the message belongs to: named by id, or the customer's open one, or a new one.
    private func locate(
        _ message: IncomingMessage,
        path: String
    ) throws -> (
        ConversationRow, ResolvedAccount
    ) {
        if let id = message.conversationId {
            guard let row = try ConversationProjection.conversation(id, in: transaction) else {
                throw Rejection.unknownReference(path + ".conversation.id", "Conversation \(id) does not exist.", id)
            }
            guard let account = try accounts.account(id: row.account, in: transaction) else {
                throw Rejection.unknownReference(
                    path + ".conversation.id",
                    "The account of conversation \(id) no longer exists.",
                    id
                )
            }
            return (row, account)
        }
        let address = message.accountAddress ?? ""
        let channelType = message.channelType ?? ""
        guard let account = try accounts.account(channelType: channelType, address: address, in: transaction),
            account.active
        else {
            throw Rejection.unknownReference(
                path + ".conversation.account",
                "No active account has channel type '\(channelType)' and address '\(address)'.",
                address
            )
        }
        let contacts = message.customer?.value(at: "contacts")?["contact"]?.arrayValue ?? []
        let keys = contacts.compactMap { $0["address"]?.stringValue }.compactMap { contactKeys?.key($0) }
        let customer = try ConversationProjection.customer(account: account.id, contactKeys: keys, in: transaction)
        if !customer.isNew,
            let open = try ConversationProjection.openConversation(
                customer: customer.id,
                account: account.id,
                in: transaction
            ),
            ConversationRules.continues(open.state, timeoutMinutes: account.routing.timeoutMinutes, now: now)
        {
            if !customer.unlinkedKeys.isEmpty {
                // Contacts the known customer gives now find them later too.
                let linked = CustomerContactsLinked(
                    account: account.id,
                    customer: customer.id,
                    contactKeys: customer.unlinkedKeys
                )
                try transaction.append([try draft(linked, account: account.id)], to: "conversation/\(open.id)")
            }
            return (open, account)
        }
        return (
            try start(
                message,
                account: account,
                customer: customer.id,
                returning: !customer.isNew,
                contactKeys: keys
            ), account
        )
    }

    /// `conversation.started`: the customer's identity sealed under the customer's key. A customer back
    /// within the orchestration's `bypassVaDuration` of their previous conversation skips the bot: the
    /// conversation starts escalated (`conversation.escalated` with `bypassedBot`), so their messages go
    /// to the escalation agent application (spec §5.2 item 6).
    private func start(
        _ message: IncomingMessage,
        account: ResolvedAccount,
        customer: String,
        returning: Bool,
        contactKeys: [String]
    ) throws -> ConversationRow {
        let id = EventID.makeV7()
        let firstContact = message.customer?.value(at: "contacts")?["contact"]?.arrayValue?.first
        let contact = [firstContact?["type"]?.stringValue, firstContact?["subType"]?.stringValue]
            .compactMap { $0 }.joined(separator: ".")
        var previous: (id: String, lastActivity: Int64)?
        if returning, account.routing.plan.bypassBotMinutes != nil {
            previous = try ConversationProjection.latestConversation(
                customer: customer,
                account: account.id,
                in: transaction
            )
        }
        let bypass = ConversationRules.bypassesBot(
            plan: account.routing.plan,
            previousActivity: previous?.lastActivity,
            now: now
        )
        let row = ConversationRow(
            id: id,
            account: account.id,
            address: account.address,
            channelType: account.routing.channel.type,
            entryPoint: message.entryPointId ?? account.routing.entryPoint,
            customer: customer,
            customerState: message.customer,
            contact: contact.isEmpty ? nil : contact,
            origin: "egain",
            state: ConversationState(status: bypass ? .escalated : .active, lastActivity: now),
            escalated: bypass,
            startedAt: now,
            endedAt: nil,
            messageCount: 0
        )
        let customerState = message.customer ?? .object([:])
        let identity = try vault.seal(customerState.text, record: "customer/\(customer)", in: transaction)
        transaction.know(customerState, sealedAs: identity)
        let started = ConversationStarted(
            id: id,
            account: .init(id: account.id, address: account.address),
            channel: .init(type: row.channelType),
            origin: "egain",
            customer: .init(id: customer, identity: identity, contactKeys: contactKeys),
            entryPoint: row.entryPoint.map(IDReference.init(id:)),
            conversationContact: row.contact
        )
        var drafts = [try draft(started, account: account.id)]
        if bypass, let previous {
            let escalated = ConversationEscalated(cause: .bypassedBot(previousConversation: previous.id))
            drafts.append(try draft(escalated, account: account.id))
        }
        try transaction.append(drafts, to: "conversation/\(id)", expectedVersion: .noStream)
        return row
    }

    /// `delete.soft` hides a message, `undo` restores it, `delete.permanent` takes it out of every
    /// transcript and query (the log keeps all three events).
    private func applyControl(
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
            try transaction.eraseSecurely()
            try vault.shred(record: "message/\(target.id)", in: transaction)
            event = MessageErased(
                message: target.id,
                conversation: conversation.id,
                by: hubId,
                shredded: ["message/\(target.id)"]
            )
        }
        try transaction.append([try draft(event, account: conversation.account)], to: stream)
    }

    /// `conversation.escalated|assigned|ended` for what the routing decision changed.
    private func applyState(
        _ next: ConversationState,
        to conversation: inout ConversationRow,
        by hubId: String,
        stream: String
    ) throws {
        let previous = conversation.state
        var events: [EventDraft] = []
        if next.status == .escalated, previous.status != .escalated {
            conversation.escalated = true
            events.append(try draft(ConversationEscalated(cause: .message(hubId)), account: conversation.account))
        }
        if next.assignedAgent != previous.assignedAgent || next.queue != previous.queue {
            let assigned = ConversationAssigned(by: hubId, agent: next.assignedAgent, queue: next.queue)
            events.append(try draft(assigned, account: conversation.account))
        }
        if next.status == .ended, previous.status != .ended {
            conversation.endedAt = now
            events.append(try draft(ConversationEnded(by: hubId), account: conversation.account))
        }
        conversation.state = next
        if !events.isEmpty { try transaction.append(events, to: stream) }
    }

    /// A message as the hub keeps and forwards it.
    package struct Outgoing {
        var id: String
        var messageId: String?
        var type: String
        var sender: JSONValue
        var senderType: String
        var content: JSONValue
        /// The callback's `metadata.attributes`.
        var attributes: JSONValue?
        var redact: Bool
        /// `false` for a message that is not a line of its conversation's transcript although its type
        /// would be: a forwarded transcript.
        var transcriptLine = true
    }

    /// `message.routed`, the transcript row and one outbox row per recipient.
    private func record(
        _ message: Outgoing,
        recipients: [Recipient],
        in conversation: inout ConversationRow,
        account: ResolvedAccount,
        stream: String
    ) throws {
        conversation.messageCount += 1
        let seq = conversation.messageCount
        // Time-ordered ids keep the outbox's primary key append-only.
        let deliveries = recipients.map { recipient in
            let participant =
                recipient.participant == nil && recipient.participantName == nil
                ? nil : MessageRouted.Delivery.Participant(id: recipient.participant, name: recipient.participantName)
            return MessageRouted.Delivery(
                id: EventID.makeV7(),
                application: recipient.application,
                type: recipient.type,
                participant: participant
            )
        }
        let routed = MessageRouted(
            message: message.id,
            conversation: conversation.id,
            seq: seq,
            state: conversation.state.status.rawValue,
            deliveries: deliveries,
            configuration: account.configuration
        )
        try transaction.append([try draft(routed, account: conversation.account)], to: stream)
    }

    private func draft(_ event: some DomainEvent, account: String) throws -> EventDraft {
        try EventDraft(event, account: account, actor: caller.actor, correlationId: caller.correlationId)
    }
}

/// What a message's intake can do before the writer's transaction: its hub id, and its content
/// sealed under a new key (DESIGN.md §6).
package struct PreparedContent: Sendable {
    package var hubId: String
    /// `nil` for message types whose content is changed in the transaction (attachments).
    package var seal: PreparedSeal?

    /// - Throws: `invalidValue` naming `path.content` when the content is over `RequestMessages.maxContentBytes`.
    package init(_ message: IncomingMessage, path: String, vault: SecretVault) throws {
        hubId = EventID.makeV7()
        let content = (message.body["content"] ?? .object([:])).text
        let size = content.utf8.count
        guard size <= RequestMessages.maxContentBytes else {
            throw Rejection.invalidValue(
                path + ".content",
                "the content is \(size) bytes as JSON; a message's content may have at most "
                    + "\(RequestMessages.maxContentBytes)"
            )
        }
        seal = message.attachments.isEmpty ? try vault.sealUnderNewKey(content) : nil
    }
}

package extension Rejection {
    /// A reference to something that does not exist.
    package static func unknownReference(_ attribute: String, _ message: String, _ value: String) -> Rejection {
        Rejection(
            .unknownReference,
            message,
            details: [.init(key: attribute, value: value)]
        )
    }
}
