// A conversation's life (`MessageIntake`, stream `conversation/<id>`).

/// `conversation.started`: the conversation, its account and channel, and its customer, whose identity
/// (the request's `customer` object) is sealed under the customer's key (DESIGN.md §6).
package struct ConversationStarted: NamedDomainEvent {
    package static var type: String { "conversation.started" }
    package static var schemaVersion: Int { 1 }

    /// `{"id", "address"}` of the account the first message addressed.
    package struct Account: Codable, Sendable, Equatable, Hashable {
        package var id: String
        package var address: String

        package init(id: String, address: String) {
            self.id = id
            self.address = address
        }
    }

    package struct Customer: Codable, Sendable, Equatable {
        package var id: String
        /// The request's `customer` object as JSON text, sealed (`$sealed:v1:…`).
        package var identity: String
        /// Keyed hashes of the customer's contact addresses, by which a returning customer is found.
        package var contactKeys: [String]

        package init(id: String, identity: String, contactKeys: [String]) {
            self.id = id
            self.identity = identity
            self.contactKeys = contactKeys
        }
    }

    package var id: String
    package var account: Account
    package var channel: TypeReference
    /// Where the conversation came from; `egain` for every conversation today.
    package var origin: String
    package var customer: Customer
    /// The entry point: the message's, else the account's; absent when neither has one.
    package var entryPoint: IDReference?
    /// The first contact's `type.subType` (e.g. `email`, `phone`); absent without contacts.
    package var conversationContact: String?

    package init(
        id: String,
        account: Account,
        channel: TypeReference,
        origin: String,
        customer: Customer,
        entryPoint: IDReference? = nil,
        conversationContact: String? = nil
    ) {
        self.id = id
        self.account = account
        self.channel = channel
        self.origin = origin
        self.customer = customer
        self.entryPoint = entryPoint
        self.conversationContact = conversationContact
    }
}

/// `conversation.escalated`, for one of two causes: a message's routing decision escalated it
/// (`{"by": <hub message id>}`), or a customer back within the orchestration's `bypassVaDuration`
/// started it escalated, skipping the bot (`{"bypassedBot": true, "previousConversation": <id>}`).
package struct ConversationEscalated: NamedDomainEvent {
    package static var type: String { "conversation.escalated" }
    package static var schemaVersion: Int { 1 }

    package enum Cause: Sendable, Equatable {
        /// The hub id of the message whose routing escalated the conversation.
        case message(String)
        /// Started escalated; the customer's previous conversation.
        case bypassedBot(previousConversation: String)
    }

    package var cause: Cause

    package init(cause: Cause) {
        self.cause = cause
    }

    private enum CodingKeys: String, CodingKey {
        case by
        case bypassedBot
        case previousConversation
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let message = try container.decodeIfPresent(String.self, forKey: .by) {
            cause = .message(message)
        } else if try container.decodeIfPresent(Bool.self, forKey: .bypassedBot) == true {
            cause = .bypassedBot(
                previousConversation: try container.decode(String.self, forKey: .previousConversation)
            )
        } else {
            throw DecodingError.dataCorruptedError(
                forKey: .by,
                in: container,
                debugDescription: "neither `by` nor `bypassedBot: true`"
            )
        }
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch cause {
        case .message(let message): try container.encode(message, forKey: .by)
        case .bypassedBot(let previous):
            try container.encode(true, forKey: .bypassedBot)
            try container.encode(previous, forKey: .previousConversation)
        }
    }
}

/// `conversation.assigned`: the agent or the queue changed (either may be absent: unassigned).
package struct ConversationAssigned: NamedDomainEvent {
    package static var type: String { "conversation.assigned" }
    package static var schemaVersion: Int { 1 }

    /// The hub id of the message whose routing changed the assignment.
    package var by: String
    package var agent: String?
    package var queue: String?

    package init(by: String, agent: String? = nil, queue: String? = nil) {
        self.by = by
        self.agent = agent
        self.queue = queue
    }
}

/// `conversation.ended`.
package struct ConversationEnded: NamedDomainEvent {
    package static var type: String { "conversation.ended" }
    package static var schemaVersion: Int { 1 }

    /// The hub id of the message whose routing ended the conversation.
    package var by: String

    package init(by: String) {
        self.by = by
    }
}

/// `customer.contactsLinked`: a known customer, continuing a conversation, gave contact addresses not
/// yet linked to anyone at the account; from now on they find this customer too.
package struct CustomerContactsLinked: NamedDomainEvent {
    package static var type: String { "customer.contactsLinked" }
    package static var schemaVersion: Int { 1 }

    package var account: String
    package var customer: String
    /// Keyed hashes of the new contact addresses.
    package var contactKeys: [String]

    package init(account: String, customer: String, contactKeys: [String]) {
        self.account = account
        self.customer = customer
        self.contactKeys = contactKeys
    }
}
