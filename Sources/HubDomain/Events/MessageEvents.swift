// Messages (`MessageIntake`, stream `conversation/<id>`): what came in, how it was routed, what the hub
// sent itself, and what was hidden, restored or erased.

/// `message.received`: a message from a client application, its content sealed under the message's
/// own key (DESIGN.md §6), and, when it was routed at once, its routing (``routing``).
///
/// A message that is routed as it is received (all but the controls, which act on the conversation
/// first) carries its routing in this one event instead of a `message.routed` of its own: the
/// message's id, conversation, account and correlation are then said once, in one row of the log
/// with one entry per index. Its readers apply it as the two events it stands for (``impliedEvents``).
/// Events without `routing` are followed by their `message.routed`, as every event was before.
package struct MessageReceived: NamedDomainEvent, ImpliesEvents, StreamScopedEvent {
    package static var type: String { "message.received" }
    package static var schemaVersion: Int { 1 }

    /// ``MessageRouted`` without what the received message says already (its id and conversation).
    package struct Routing: Codable, Sendable, Equatable {
        package var seq: Int64
        package var state: String
        package var deliveries: [MessageRouted.Delivery]
        package var configurationGeneration: Int64

        package init(seq: Int64, state: String, deliveries: [MessageRouted.Delivery], configurationGeneration: Int64) {
            self.seq = seq
            self.state = state
            self.deliveries = deliveries
            self.configurationGeneration = configurationGeneration
        }

        package init(_ routed: MessageRouted) {
            seq = routed.seq
            state = routed.state
            deliveries = routed.deliveries
            configurationGeneration = routed.configurationGeneration ?? 0
        }
    }

    /// The hub's id for the message.
    package var id: String
    /// The message's conversation: its stream's (``scope(to:)``). Events before December 2026 also
    /// wrote it in their data (``conversationWritten``).
    package var conversation: String
    /// Whether the data says the conversation (only events written before December 2026): written
    /// again as read, so that such an event encodes to its stored bytes.
    package var conversationWritten = false
    /// The sender's own id (`messageId`), the idempotency key with the sender type.
    package var messageId: String
    package var type: MessageTypeValue
    /// The request's `sender` (`{"type", "participant"?}`); a customer's `participant` is sealed
    /// under the customer's key, so it is a string there and an object for the other sides.
    package var sender: JSONValue
    /// The message's `content` as JSON text, sealed (`$sealed:v1:…`).
    package var content: String
    /// The request's `created`, when it had one.
    package var created: String?
    /// The request's `metadata.attributes`, when it had them.
    package var attributes: JSONValue?
    /// The message's routing, when it was routed in the same append (see above).
    package var routing: Routing?

    package init(
        id: String,
        conversation: String,
        messageId: String,
        type: MessageTypeValue,
        sender: JSONValue,
        content: String,
        created: String? = nil,
        attributes: JSONValue? = nil,
        routing: Routing? = nil
    ) {
        self.id = id
        self.conversation = conversation
        self.messageId = messageId
        self.type = type
        self.sender = sender
        self.content = content
        self.created = created
        self.attributes = attributes
        self.routing = routing
    }

    /// The `message.routed` the routing stands for.
    package var routed: MessageRouted? {
        routing.map { routing in
            MessageRouted(
                message: id,
                conversation: conversation,
                seq: routing.seq,
                state: routing.state,
                deliveries: routing.deliveries,
                configurationGeneration: routing.configurationGeneration
            )
        }
    }

    package var impliedEvents: [any NamedDomainEvent] { routed.map { [$0] } ?? [] }
}

/// `message.routed`: the hub's routing decision for a message (received or originated): one delivery
/// per recipient, the conversation's state after it, and the configuration it was decided on.
///
/// Version 2 names that configuration by its generation (``Configuration/generation``), recorded once
/// per account and generation by a ``RoutingConfigured`` event, instead of repeating it in every
/// message's routing; version 1 events carry it whole, and read as they are.
package struct MessageRouted: NamedDomainEvent {
    package static var type: String { "message.routed" }
    package static var schemaVersion: Int { 2 }

    /// `{"id", "position"}`: a configuration resource and the log position of the state used.
    package struct Source: Codable, Sendable, Equatable, Hashable {
        package var id: String
        package var position: Int64

        package init(id: String, position: Int64) {
            self.id = id
            self.position = position
        }
    }

    /// The configuration resources the account was resolved from.
    package struct Configuration: Codable, Sendable, Equatable {
        package var account: Source
        package var channel: Source
        /// Absent when the account names no orchestration that exists.
        package var orchestration: Source?
        /// The active client applications the orchestration names (possibly none).
        package var clientApplications: [Source]
        /// The bots' participants; absent when there are none.
        package var participants: [Source]?

        package init(
            account: Source,
            channel: Source,
            orchestration: Source? = nil,
            clientApplications: [Source],
            participants: [Source]? = nil
        ) {
            self.account = account
            self.channel = channel
            self.orchestration = orchestration
            self.clientApplications = clientApplications
            self.participants = participants
        }

        /// The latest log position among the resources: any change to what an account resolves to
        /// changes a resource of it (or what refers to it), whose new position is past every earlier
        /// one, so per account this names the configuration exactly and changes only when it does.
        package var generation: Int64 {
            ([account.position, channel.position, orchestration?.position ?? 0]
                + clientApplications.map(\.position) + (participants ?? []).map(\.position)).max() ?? 0
        }
    }

    /// One outbox row: the recipient (`{"type", "participant"?}` as callbacks show it), its
    /// application and the delivery's id. A message's first delivery has the message's own id, which
    /// its event does not write again (nor its `delivery.*` items, ``DeliveryItem``); the others have
    /// ids of their own.
    ///
    /// A delivery to its configuration generation's only recipient of its type is written by reference
    /// (``byReference``): its `type` alone, the generation's ``RoutingConfigured/recipients`` saying
    /// the application and participant once. Read back, such a delivery has an empty ``application``
    /// until ``resolved(by:)`` fills it in.
    package struct Delivery: Codable, Sendable, Equatable {
        package struct Participant: Codable, Sendable, Equatable, Hashable {
            package var id: String?
            package var name: String?

            package init(id: String? = nil, name: String? = nil) {
                self.id = id
                self.name = name
            }
        }

        package var id: String
        package var application: String
        /// The recipient's role (`customer`, `custom_bot`, `custom_agent`, …).
        package var type: String
        package var participant: Participant?
        /// Written as its generation's recipient of ``type``, without ``application`` and
        /// ``participant`` (see above).
        package var byReference = false

        package init(
            id: String,
            application: String,
            type: String,
            participant: Participant? = nil,
            byReference: Bool = false
        ) {
            self.id = id
            self.application = application
            self.type = type
            self.participant = participant
            self.byReference = byReference
        }
    }

    /// The hub id of the routed message.
    package var message: String
    package var conversation: String
    /// The message's place in the conversation's transcript, from 1.
    package var seq: Int64
    /// The conversation's status after the message (`active`, `escalated`, `ended`).
    package var state: String
    /// Empty when the message goes to nobody (e.g. typing events a channel leaves out).
    package var deliveries: [Delivery]
    /// The configuration itself: version 1 events only.
    package var configuration: Configuration?
    /// The configuration's generation, recorded for the conversation's account by a
    /// ``RoutingConfigured`` event: version 2.
    package var configurationGeneration: Int64?

    /// Version 2: the configuration named by its generation.
    package init(
        message: String,
        conversation: String,
        seq: Int64,
        state: String,
        deliveries: [Delivery],
        configurationGeneration: Int64
    ) {
        self.message = message
        self.conversation = conversation
        self.seq = seq
        self.state = state
        self.deliveries = deliveries
        self.configurationGeneration = configurationGeneration
    }

    /// Version 1: the configuration in full.
    package init(
        message: String,
        conversation: String,
        seq: Int64,
        state: String,
        deliveries: [Delivery],
        configuration: Configuration
    ) {
        self.init(
            message: message,
            conversation: conversation,
            seq: seq,
            state: state,
            deliveries: deliveries,
            configurationGeneration: 0
        )
        self.configuration = configuration
        self.configurationGeneration = nil
    }
}

/// `routing.configured` (stream `routing/<account>`): the configuration resources an account resolved
/// to at one generation, recorded once, before the first message routed under it (whose
/// `message.routed` names the generation only).
package struct RoutingConfigured: NamedDomainEvent {
    package static var type: String { "routing.configured" }
    package static var schemaVersion: Int { 1 }

    package var account: String
    package var generation: Int64
    package var configuration: MessageRouted.Configuration
    /// The recipients the configuration routes to (its bot, agents and customer application), each
    /// once and without an id: what a delivery written by reference is (``MessageRouted/Delivery``).
    /// Absent in events recorded before December 2026, whose generations' deliveries are written whole.
    package var recipients: [MessageRouted.Delivery]?

    package init(account: String, configuration: MessageRouted.Configuration, recipients: [MessageRouted.Delivery]?) {
        self.account = account
        self.generation = configuration.generation
        self.configuration = configuration
        self.recipients = recipients
    }

    /// The stream of an account's routing configurations.
    package static func stream(account: String) -> String { "routing/\(account)" }
}

/// `message.originated`: a message the hub sends itself (`sender.type: system`, spec §5.4).
package struct MessageOriginated: NamedDomainEvent {
    package static var type: String { "message.originated" }
    /// Version 2 records the callback's `metadata.attributes`; version 1 did not (readers infer them,
    /// see the upcaster in ``Upcasters/standard``).
    package static var schemaVersion: Int { 2 }

    /// The hub's id for the message.
    package var id: String
    package var conversation: String
    package var type: MessageTypeValue
    /// `{"type": "system"}`.
    package var sender: JSONValue
    /// The content as sent (a state change, a notice), or, when it carries the customer's transcript,
    /// its JSON text sealed under the message's key (a string).
    package var content: JSONValue
    /// The hub id of the message whose routing made the hub send this one.
    package var causedBy: String
    /// The callback's `metadata.attributes`; absent when there are none.
    package var attributes: JSONValue?
    /// Set by the upcaster on version-1 data, which did not say: readers infer the attributes.
    package var attributesUnrecorded: Bool?

    package init(
        id: String,
        conversation: String,
        type: MessageTypeValue,
        sender: JSONValue,
        content: JSONValue,
        causedBy: String,
        attributes: JSONValue? = nil
    ) {
        self.id = id
        self.conversation = conversation
        self.type = type
        self.sender = sender
        self.content = content
        self.causedBy = causedBy
        self.attributes = attributes
    }
}

/// `message.softDeleted`: a `delete.soft` message hid an earlier message.
package struct MessageSoftDeleted: NamedDomainEvent {
    package static var type: String { "message.softDeleted" }
    package static var schemaVersion: Int { 1 }

    /// The hub id of the hidden message.
    package var message: String
    package var conversation: String
    /// The hub id of the `delete.soft` message.
    package var by: String

    package init(message: String, conversation: String, by: String) {
        self.message = message
        self.conversation = conversation
        self.by = by
    }
}

/// `message.restored`: an `undo` message showed a hidden message again.
package struct MessageRestored: NamedDomainEvent {
    package static var type: String { "message.restored" }
    package static var schemaVersion: Int { 1 }

    /// The hub id of the restored message.
    package var message: String
    package var conversation: String
    /// The hub id of the `undo` message.
    package var by: String

    package init(message: String, conversation: String, by: String) {
        self.message = message
        self.conversation = conversation
        self.by = by
    }
}

/// `message.erased`: a `delete.permanent` message took an earlier message out of every transcript and
/// query, and shredded the key its content was sealed under.
package struct MessageErased: NamedDomainEvent {
    package static var type: String { "message.erased" }
    package static var schemaVersion: Int { 1 }

    /// The hub id of the erased message.
    package var message: String
    package var conversation: String
    /// The hub id of the `delete.permanent` message.
    package var by: String
    /// The vault records whose keys were destroyed (`message/<id>`).
    package var shredded: [String]?

    package init(message: String, conversation: String, by: String, shredded: [String]? = nil) {
        self.message = message
        self.conversation = conversation
        self.by = by
        self.shredded = shredded
    }
}
