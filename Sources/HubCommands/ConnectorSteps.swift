import HubDomain
import HubEventLog
import HubReadModels
import HubVault

/// The requests of one CONVERSATION or SEND, run in order inside the writer's transaction.
struct ConnectorSteps {
    let transaction: LogTransaction
    let caller: ConnectorCaller
    let intake: MessageIntake
    /// The profile this batch set (a new conversation's customer takes its name from it).
    private var profile: JSONValue?
    /// The conversation this batch opened (a PublishEvent's empty `dialogId` is it).
    private var opened: String?

    init(transaction: LogTransaction, caller: ConnectorCaller, intake: MessageIntake) {
        self.transaction = transaction
        self.caller = caller
        self.intake = intake
    }

    typealias Invalid = ConnectorRequest.Invalid

    /// Runs one request and returns its response body.
    mutating func run(_ request: ConnectorRequest) throws -> JSONValue {
        switch request.action {
        case .setUserProfile(let profile):
            try setProfile(profile)
            return .object(["msg": "OK User Profile set successfully"])
        case .requestConversation(let conversation):
            let id = try open(conversation)
            opened = id
            return .object(["conversationId": .string(id)])
        case .publish(let dialog, let conversation, let event):
            let sequence = try publish(
                dialog: dialog.isEmpty ? opened ?? "" : dialog,
                conversation: conversation,
                event,
                metadata: request.metadata
            )
            return .object(["sequence": .integer(sequence ?? 0)])
        case .updateConversation(let conversation, let fields):
            return try update(conversation, fields) ? "OK Conversation resolved successfully" : "OK"
        }
    }

    // MARK: - Requests

    private mutating func setProfile(_ profile: JSONValue) throws {
        let stream = "consumer/\(caller.account)/\(caller.consumer)"
        let sealed = try intake.vault.seal(profile.text, record: stream, in: transaction)
        let set = ConsumerProfileSet(
            account: caller.account,
            consumer: caller.consumer,
            externalId: caller.externalId,
            app: caller.app,
            profile: sealed
        )
        try transaction.append([try draft(set, account: try hubAccount()?.id)], to: stream)
        self.profile = profile
    }

    private func open(_ request: ConnectorRequest.ConversationRequest) throws -> String {
        if try ConnectorConversations.open(account: caller.account, consumer: caller.consumer, in: transaction) != nil {
            throw Invalid("Consumer already has an open conversation", errorCode: 40002)
        }
        guard let account = try hubAccount() else {
            throw Invalid("no active HubStore account has the address \(caller.account)")
        }
        let keys = intake.contactKeys.map { [$0.key(caller.externalId)] } ?? []
        let customer = try ConversationProjection.customer(account: account.id, contactKeys: keys, in: transaction)
        var customerState: [String: JSONValue] = [
            "type": "individual",
            "contacts": .object([
                "contact": .array([.object(["type": "liveperson", "address": .string(caller.externalId)])])
            ]),
        ]
        if let name = Self.name(in: profile) { customerState["name"] = .string(name) }
        let row = try intake.start(
            customerState: .object(customerState),
            entryPoint: nil,
            origin: "liveperson",
            account: account,
            customer: customer.id,
            returning: !customer.isNew,
            contactKeys: keys
        )
        let ttrType = request.ttrDefName ?? "PRIORITIZED"
        let opened = ConnectorConversationOpened(
            conversation: row.id,
            account: caller.account,
            consumer: caller.consumer,
            app: caller.app,
            skillId: request.skillId,
            ttrType: ttrType,
            ttrValue: ConnectorMessaging.ttrSeconds[ttrType] ?? 600,
            campaignInfo: request.campaignInfo,
            conversationContext: request.conversationContext,
            deliveries: try webhooks(AppInstallation.conversationChangeKey)
        )
        try transaction.append([try draft(opened, account: account.id)], to: "conversation/\(row.id)")
        return row.id
    }

    /// The sequence the event took (`nil` for a chat state).
    private func publish(
        dialog: String,
        conversation: String?,
        _ event: ConnectorRequest.PublishedEvent,
        metadata: JSONValue?
    ) throws -> Int64? {
        if let conversation, conversation != dialog { throw Self.notConsumers }
        let row = try owned(dialog)
        guard row.isOpen else { throw Invalid("Dialog is closed", errorCode: 40003) }
        let sequence = event.isSequenced ? row.nextSequence : nil
        var message: String?
        if let (type, content) = Self.bridged(event) {
            message = try receive(type: type, content: content, in: row)
        }
        let published = ConnectorEventPublished(
            conversation: row.conversation,
            dialog: dialog,
            sequence: sequence,
            originator: ConnectorOriginator(id: caller.consumer, role: "CONSUMER"),
            event: Self.logged(event),
            message: message,
            metadata: metadata,
            deliveries: try webhooks(AppInstallation.messagingKey(event.typeName), app: row.app)
        )
        try transaction.append([try draft(published, account: nil)], to: "conversation/\(row.conversation)")
        return sequence
    }

    /// Whether the fields closed the conversation.
    private func update(_ conversation: String, _ fields: [ConnectorRequest.ConversationField]) throws -> Bool {
        let row = try owned(conversation)
        var closes = false
        // Open until a field of this request closes it (a request may close it twice: once is kept).
        var isOpen = row.isOpen
        for field in fields {
            var change: ConnectorConversationChanged
            switch field {
            case .close:
                closes = true
                guard isOpen else { continue }
                isOpen = false
                try end(row)
                change = .init(conversation: row.conversation, change: .close, closeReason: "CONSUMER")
            case .closeDialog(let dialog):
                guard dialog == row.conversation else { throw Self.notConsumers }
                closes = true
                guard isOpen else { continue }
                isOpen = false
                try end(row)
                change = .init(
                    conversation: row.conversation,
                    change: .closeDialog,
                    closeReason: "CONSUMER",
                    dialog: dialog
                )
            case .csat(let rate, let confirmation, let status):
                change = .init(
                    conversation: row.conversation,
                    change: .csat,
                    csat: .object([
                        "csatRate": .integer(rate), "csatResolutionConfirmation": .bool(confirmation),
                        "status": .string(status),
                    ])
                )
            case .ttr(let type, let value):
                change = .init(conversation: row.conversation, change: .ttr, ttrType: type, ttrValue: value)
            }
            change.deliveries = try webhooks(AppInstallation.conversationChangeKey, app: row.app)
            try transaction.append([try draft(change, account: nil)], to: "conversation/\(row.conversation)")
        }
        return closes
    }

    // MARK: - Steps

    /// The consumer's conversation (or MAIN dialog) `id`: 401 `40103` for one that is unknown, another
    /// consumer's, or another account's — existence is not told apart (spec §2.5 item 7).
    private func owned(_ id: String) throws -> ConnectorConversationRow {
        guard let row = try ConnectorConversations.conversation(id, in: transaction), row.account == caller.account,
            row.consumer == caller.consumer
        else { throw Self.notConsumers }
        return row
    }

    static let notConsumers = Invalid("Consumer is not authorized for this conversation", errorCode: 40103)

    /// Ends the HubStore conversation as its customer would (`conversation.end`: the bot or agent is told).
    private func end(_ row: ConnectorConversationRow) throws {
        guard let conversation = try ConversationProjection.conversation(row.conversation, in: transaction),
            conversation.state.status != .ended
        else { return }
        _ = try receive(type: "conversation.end", content: .object([:]), in: row)
    }

    /// The consumer's event as a customer message of the conversation, through the intake; its hub id.
    private func receive(type: String, content: JSONValue, in row: ConnectorConversationRow) throws -> String {
        let body: JSONValue = .object([
            "messages": .object([
                "message": .array([
                    .object([
                        "messageId": .string("lp-" + EventID.makeV7()), "type": .object(["value": .string(type)]),
                        "sender": .object(["type": "customer"]), "content": content,
                        "conversation": .object(["id": .string(row.conversation)]),
                    ])
                ])
            ])
        ])
        do {
            guard let message = try RequestMessages.validate(body).messages.first else {
                throw Invalid("the event could not be taken as a message")
            }
            let prepared = try PreparedContent(
                message,
                path: "body.event",
                vault: intake.vault,
                contactKeys: intake.contactKeys
            )
            return try intake.receive(message, path: "body.event", prepared: prepared).id
        } catch let rejection as Rejection {
            throw Invalid(rejection.message)
        }
    }

    /// The deliveries to the app's webhook for `key` (the caller's app for a new conversation).
    private func webhooks(_ key: String, app: String? = nil) throws -> [MessageRouted.Delivery]? {
        try ConnectorApps.webhookDeliveries(app: app ?? caller.app, account: caller.account, key: key, in: transaction)
    }

    private func hubAccount() throws -> ResolvedAccount? {
        try intake.accounts.account(address: caller.account, in: transaction)
    }

    private func draft(_ event: some DomainEvent, account: String?) throws -> EventDraft {
        try EventDraft(event, account: account, actor: "liveperson:\(caller.app)", correlationId: caller.correlationId)
    }

    // MARK: - Mapping

    /// `firstName lastName` of a profile, when it has either.
    static func name(in profile: JSONValue?) -> String? {
        let parts = [profile?["firstName"]?.stringValue, profile?["lastName"]?.stringValue].compactMap { $0 }
            .filter { !$0.isEmpty }
        return parts.isEmpty ? nil : String(parts.joined(separator: " ").prefix(255))
    }

    /// The eGain message a consumer's event is for the hub's side: content as text (a file or rich
    /// content with a line of text saying so, and the content as `value`), chat states as typing and
    /// presence; receipts and a consumer's GONE are the connector's alone.
    static func bridged(_ event: ConnectorRequest.PublishedEvent) -> (type: String, content: JSONValue)? {
        switch event {
        case .text(let text, _):
            return text.isEmpty ? nil : ("text", .object(["text": .string(text)]))
        case .file(let file):
            let caption = file["caption"]?.stringValue ?? ""
            let text = caption.isEmpty ? "[file] " + (file["relativePath"]?.stringValue ?? "") : caption
            return ("text", .object(["text": .string(text), "value": file]))
        case .richContent(let content):
            return ("text", .object(["text": "[rich content]", "value": content]))
        case .chatState(let state):
            let types = [
                "COMPOSING": "typing.start", "PAUSE": "typing.end", "ACTIVE": "customer.active",
                "INACTIVE": "customer.inactive",
            ]
            return types[state].map { ($0, .object([:])) }
        case .acceptStatus:
            return nil
        }
    }

    /// The event as `connector.eventPublished` keeps it: what is sealed in the message stays out.
    static func logged(_ event: ConnectorRequest.PublishedEvent) -> JSONValue {
        switch event {
        case .text(_, let contentType):
            .object(["type": "ContentEvent", "contentType": .string(contentType)])
        case .file:
            .object(["type": "ContentEvent", "contentType": "hosted/file"])
        case .richContent:
            .object(["type": "RichContentEvent"])
        case .acceptStatus(let status, let sequences):
            .object([
                "type": "AcceptStatusEvent", "status": .string(status),
                "sequenceList": .array(sequences.map { .integer($0) }),
            ])
        case .chatState(let state):
            .object(["type": "ChatStateEvent", "chatState": .string(state)])
        }
    }
}
