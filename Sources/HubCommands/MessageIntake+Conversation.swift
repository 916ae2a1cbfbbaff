import HubDomain
import HubEventLog
import HubReadModels
import HubVault

extension MessageIntake {
    /// The conversation the message belongs to: named by id, or the customer's open one (found by the
    /// customer's `contactKeys`), or a new one.
    func locate(
        _ message: IncomingMessage,
        path: String,
        contactKeys keys: [String]
    ) throws -> (
        ConversationRow, ResolvedAccount
    ) {
        if let id = message.conversationId {
            guard let row = try ConversationProjection.conversation(id, in: transaction) else {
                throw Rejection.unknownReference(path + ".conversation.id", "Conversation \(id) does not exist.", id)
            }
            // Its customer's key is gone for good: a new message would seal under a new one of the same name.
            guard !row.erased else { throw Rejection(.conversationEnded, "Conversation \(id) was erased.") }
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
                customerState: message.customer,
                entryPoint: message.entryPointId,
                origin: "egain",
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
    /// `customerState` is the customer object as the first message gave it; `origin` the API the
    /// conversation came through (`egain`, `liveperson`).
    func start(
        customerState given: JSONValue?,
        entryPoint: String?,
        origin: String,
        account: ResolvedAccount,
        customer: String,
        returning: Bool,
        contactKeys: [String]
    ) throws -> ConversationRow {
        let id = EventID.makeV7()
        let firstContact = given?.value(at: "contacts")?["contact"]?.arrayValue?.first
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
        var row = ConversationRow(
            id: id,
            account: account.id,
            address: account.address,
            channelType: account.routing.channel.type,
            entryPoint: entryPoint ?? account.routing.entryPoint,
            customer: customer,
            customerState: given,
            contact: contact.isEmpty ? nil : contact,
            origin: origin,
            state: ConversationState(status: bypass ? .escalated : .active, lastActivity: now),
            escalated: bypass,
            startedAt: now,
            endedAt: nil,
            messageCount: 0
        )
        let customerState = given ?? .object([:])
        let identity = try vault.seal(customerState.text, record: "customer/\(customer)", in: transaction)
        transaction.know(customerState, sealedAs: identity)
        let started = ConversationStarted(
            id: id,
            account: .init(id: account.id, address: account.address),
            channel: .init(type: row.channelType),
            origin: origin,
            customer: .init(id: customer, identity: identity, contactKeys: contactKeys),
            entryPoint: row.entryPoint.map(IDReference.init(id:)),
            conversationContact: row.contact
        )
        var drafts = [try draft(started, account: account.id)]
        if bypass, let previous {
            let escalated = ConversationEscalated(cause: .bypassedBot(previousConversation: previous.id))
            drafts.append(try draft(escalated, account: account.id))
        }
        let appended = try transaction.append(drafts, to: "conversation/\(id)", expectedVersion: .noStream)
        // Its messages' contents are sealed under keys derived from this one.
        if let first = appended.positions.first {
            try vault.createContentKey(first, in: transaction)
            row.number = first
        }
        return row
    }
}
