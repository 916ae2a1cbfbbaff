package import HubDomain
package import HubEventLog
package import HubReadModels
package import HubVault

/// Decides and writes one request's messages inside the writer's transaction (spec §4.1, §5.2).
///
/// Per message: a retry (same sender type + `messageId`) returns the first answer; otherwise the
/// conversation is found or started, the channel's rules and the routing rules decide, and the
/// message is appended (`message.received`, content sealed under a key of its own, with its routing in
/// the same event; a control's `message.routed` follows its effect), state changes (`conversation.*`), hub-originated messages and one outbox row
/// per recipient.
package struct MessageIntake {
    package let transaction: LogTransaction
    package let accounts: AccountDirectory
    package let vault: SecretVault
    /// Needed only to start conversations.
    package let contactKeys: ContactKeys?
    package let caller: ConfigurationStore.Caller
    package let attributes: JSONValue?

    var now: Int64 { transaction.recordedAt }

    package func receive(_ message: IncomingMessage, path: String, prepared: PreparedContent) throws -> AcceptedMessage
    {
        if let original = try replay(message, key: prepared.idempotencyKey) { return original }
        var (conversation, account) = try locate(message, path: path, contactKeys: prepared.contactKeys)
        let decision = try IntakeDecision.decide(
            message,
            path: path,
            state: conversation.state,
            routing: account.routing,
            customerIdentifiable: conversation.customerHasContact,
            botTookPart: { [id = conversation.id] in try botTookPart(in: id) },
            now: now
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
        let sealedContent = try sealContent(
            content,
            message: hubId,
            stream: stream,
            conversationNumber: conversation.number,
            prepared: message.attachments.isEmpty ? prepared.seal : nil
        )
        transaction.know(content, sealedAs: sealedContent)
        var received = MessageReceived(
            id: hubId,
            conversation: conversation.id,
            messageId: message.messageId,
            type: .init(value: message.type),
            sender: loggedSender,
            content: sealedContent,
            created: message.body["created"]?.stringValue,
            attributes: attributes
        )
        let outgoing = Outgoing(
            id: hubId,
            messageId: message.messageId,
            type: message.type,
            sender: sender,
            senderType: message.senderType.rawValue,
            content: content,
            attributes: attributes,
            redact: message.redact
        )
        if Self.isControl(message.type) {
            // The control finds its target with the received message in place, then the routing follows.
            try transaction.append(
                [try draft(received, account: conversation.account)],
                to: stream,
                idempotencyKey: prepared.idempotencyKey,
                knownNew: true
            )
            try applyControl(message, conversation: conversation, by: hubId, path: path, stream: stream)
            let routed = try routing(outgoing, recipients: decision.recipients, in: &conversation, account: account)
            try transaction.append([try draft(routed, account: conversation.account)], to: stream)
        } else {
            // One event, the message with its routing: the transcripts write the message's row once,
            // complete, and the log says the message's id, conversation and account once.
            let routed = try routing(outgoing, recipients: decision.recipients, in: &conversation, account: account)
            received.routing = MessageReceived.Routing(routed)
            try transaction.append(
                [try draft(received, account: conversation.account)],
                to: stream,
                idempotencyKey: prepared.idempotencyKey,
                // `replay(_:)` above already looked the key up in this transaction.
                knownNew: true
            )
        }
        try applyState(decision, to: &conversation, by: hubId, stream: stream)
        for system in decision.systemMessages {
            try originate(system, in: &conversation, account: account, causedBy: hubId)
        }
        try tellConnector(message, hubId: hubId, in: conversation)
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
        let routed = try routing(
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
            account: account
        )
        try transaction.append(
            [try draft(originated, account: conversation.account), try draft(routed, account: conversation.account)],
            to: stream
        )
    }

    // MARK: - Steps

    /// The first answer to this sender's `messageId`, when it was accepted before.
    private func replay(_ message: IncomingMessage, key: IdempotencyKey) throws -> AcceptedMessage? {
        guard let (stream, data) = try transaction.event(id: key.firstEventId) else {
            return nil
        }
        let original = try JSONValue.parse(data)
        return AcceptedMessage(
            id: original["id"]?.stringValue ?? "",
            messageId: message.messageId,
            // The stream's since December 2026; before that the data said it too.
            conversationId: MessageReceived.conversation(ofStream: stream) ?? "",
            isReplay: true
        )
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

    /// The message's routing (the transcripts and the outbox make its rows), counted in `conversation`.
    private func routing(
        _ message: Outgoing,
        recipients: [Recipient],
        in conversation: inout ConversationRow,
        account: ResolvedAccount
    ) throws -> MessageRouted {
        conversation.messageCount += 1
        let seq = conversation.messageCount
        // A LivePerson connector's consumer has no customer application: the connector hears of the
        // hub side's messages through its own events (`tellConnector`).
        let recipients = conversation.origin == "liveperson" ? recipients.filter { $0.type != "customer" } : recipients
        let (generation, recorded) = try recordedGeneration(of: account)
        // Time-ordered ids keep the outbox's primary key append-only. The first delivery has the
        // message's own (a v7 too, never another delivery's): the log need not say it again. A
        // delivery to one of the generation's recorded recipients names it by its type only.
        let deliveries = recipients.enumerated().map { index, recipient in
            MessageRouted.Delivery(id: index == 0 ? message.id : EventID.makeV7(), to: recipient)
                .referencing(recorded)
        }
        return MessageRouted(
            message: message.id,
            conversation: conversation.id,
            seq: seq,
            state: conversation.state.status.rawValue,
            deliveries: deliveries,
            configurationGeneration: generation
        )
    }

    /// The generation of the configuration `account` resolved to, recorded once for the account by a
    /// `routing.configured` event (appended now when this is its first message under it), and the
    /// recipients recorded with it; none when an older event recorded it without them and differently.
    private func recordedGeneration(of account: ResolvedAccount) throws -> (Int64, [MessageRouted.Delivery]) {
        let generation = account.configuration.generation
        switch try RoutingProjection.recorded(account: account.id, generation: generation, in: transaction) {
        case .recipients(let text):
            // The same generation resolves to the same recipients; deliveries name them only if so.
            return (generation, text == account.recipientsText ? account.recipients : [])
        case .unrecorded, .withoutRecipients:
            // A generation recorded before December 2026 is recorded again, with its recipients.
            let configured = RoutingConfigured(
                account: account.id,
                configuration: account.configuration,
                recipients: account.recipients
            )
            try transaction.append(
                [try draft(configured, account: account.id)],
                to: RoutingConfigured.stream(account: account.id)
            )
            return (generation, account.recipients)
        }
    }

    func draft(_ event: some DomainEvent, account: String) throws -> EventDraft {
        try EventDraft(event, account: account, actor: caller.actor, correlationId: caller.correlationId)
    }
}

/// What a message's intake can do before the writer's transaction: its hub id, its idempotency key's
/// event id, its content's size checked, the keys of the contacts a message without a conversation
/// gives, and, for a message to a conversation whose messages the writer sealed lately, its content
/// sealed under a key derived from the conversation's content key (DESIGN.md §6).
package struct PreparedContent: Sendable {
    package var hubId: String
    package var idempotencyKey: IdempotencyKey
    /// The HMACs of the customer's contact addresses (``ContactKeys``), for a message that names no
    /// conversation: they find the customer's open conversation, or start one.
    package var contactKeys: [String] = []
    /// `nil` for a new conversation, one the writer has not sealed for lately, and attachments (whose
    /// content changes in the transaction).
    package var seal: PreparedContentSeal?

    /// - Throws: `invalidValue` naming `path.content` when the content is over `RequestMessages.maxContentBytes`.
    package init(_ message: IncomingMessage, path: String, vault: SecretVault, contactKeys: ContactKeys?) throws {
        hubId = EventID.makeV7()
        idempotencyKey = IdempotencyKey(message.idempotencyKey)
        let content = (message.body["content"] ?? .object([:])).text
        let size = content.utf8.count
        guard size <= RequestMessages.maxContentBytes else {
            throw Rejection.invalidValue(
                path + ".content",
                "the content is \(size) bytes as JSON; a message's content may have at most "
                    + "\(RequestMessages.maxContentBytes)"
            )
        }
        if let conversation = message.conversationId {
            if message.attachments.isEmpty {
                seal = try vault.prepareContent(
                    content,
                    record: "message/\(hubId)",
                    stream: "conversation/\(conversation)"
                )
            }
        } else if let contactKeys {
            let contacts = message.customer?.value(at: "contacts")?["contact"]?.arrayValue ?? []
            self.contactKeys = contacts.compactMap { $0["address"]?.stringValue }.map(contactKeys.key)
        }
    }
}

extension Rejection {
    /// A reference to something that does not exist.
    package static func unknownReference(_ attribute: String, _ message: String, _ value: String) -> Rejection {
        Rejection(
            .unknownReference,
            message,
            details: [.init(key: attribute, value: value)]
        )
    }
}
