// LivePerson connector app installations (stream `appInstallation/<id>`).

/// `appInstallation.created`: a connector app of an account, with its client secret sealed under the
/// installation's own key (record `appInstallation/<id>`): webhooks are signed with it.
package struct AppInstallationCreated: NamedDomainEvent {
    package static var type: String { "appInstallation.created" }
    package static var schemaVersion: Int { 1 }

    package var id: String
    /// The LivePerson account id (the path `{accountId}`): the `address` of a HubStore account.
    package var account: String
    /// The validated App Install body (``AppInstallation/validate(_:)``), without the secret.
    package var installation: JSONValue
    /// The client secret, sealed.
    package var secret: String

    package init(id: String, account: String, installation: JSONValue, secret: String) {
        self.id = id
        self.account = account
        self.installation = installation
        self.secret = secret
    }
}

/// `appInstallation.updated`: the installation's body replaced (its credentials stay).
package struct AppInstallationUpdated: NamedDomainEvent {
    package static var type: String { "appInstallation.updated" }
    package static var schemaVersion: Int { 1 }

    package var id: String
    package var account: String
    package var installation: JSONValue

    package init(id: String, account: String, installation: JSONValue) {
        self.id = id
        self.account = account
        self.installation = installation
    }
}

/// `appInstallation.deleted`: its tokens stop working and its webhooks are no longer sent.
package struct AppInstallationDeleted: NamedDomainEvent {
    package static var type: String { "appInstallation.deleted" }
    package static var schemaVersion: Int { 1 }

    package var id: String
    package var account: String

    package init(id: String, account: String) {
        self.id = id
        self.account = account
    }
}

// LivePerson connector conversations (stream `conversation/<id>`, beside the conversation's own events).

/// Who published a connector event: `{id, role}` as notifications show it (`originatorMetadata`).
package struct ConnectorOriginator: Codable, Sendable, Equatable {
    /// The consumer's `lp_consumer_id`, or the agent's or bot's participant (or application) id.
    package var id: String
    /// `CONSUMER`, `ASSIGNED_AGENT`, …
    package var role: String

    package init(id: String, role: String) {
        self.id = id
        self.role = role
    }
}

/// `connector.conversationOpened`: a consumer's `cm.ConsumerRequestConversation`, right after the
/// `conversation.started` of the same conversation (its MAIN dialog has the conversation's id).
package struct ConnectorConversationOpened: NamedDomainEvent {
    package static var type: String { "connector.conversationOpened" }
    package static var schemaVersion: Int { 1 }

    package var conversation: String
    /// The LivePerson account id (`brandId`).
    package var account: String
    /// The consumer's `lp_consumer_id`.
    package var consumer: String
    /// The `client_id` of the app whose credentials opened it: its webhooks get the conversation's notifications.
    package var app: String
    package var skillId: String?
    package var ttrType: String
    /// Seconds.
    package var ttrValue: Int64
    package var campaignInfo: JSONValue?
    package var conversationContext: JSONValue?
    /// The webhooks told of it (`cqm.ExConversationChangeNotification`), one delivery each.
    package var deliveries: [MessageRouted.Delivery]?

    package init(
        conversation: String,
        account: String,
        consumer: String,
        app: String,
        skillId: String?,
        ttrType: String,
        ttrValue: Int64,
        campaignInfo: JSONValue?,
        conversationContext: JSONValue?,
        deliveries: [MessageRouted.Delivery]? = nil
    ) {
        self.conversation = conversation
        self.account = account
        self.consumer = consumer
        self.app = app
        self.skillId = skillId
        self.ttrType = ttrType
        self.ttrValue = ttrValue
        self.campaignInfo = campaignInfo
        self.conversationContext = conversationContext
        self.deliveries = deliveries
    }
}

/// `connector.eventPublished`: a messaging event of a dialog, with its sequence (none for a chat state).
///
/// `event` is the notification's `event` without what is sealed elsewhere: a ContentEvent's text, a
/// file or rich content is the content of the `message.received` (or `.originated`) whose hub id
/// `message` names, sealed under that message's key.
package struct ConnectorEventPublished: NamedDomainEvent {
    package static var type: String { "connector.eventPublished" }
    package static var schemaVersion: Int { 1 }

    package var conversation: String
    package var dialog: String
    package var sequence: Int64?
    package var originator: ConnectorOriginator
    package var event: JSONValue
    package var message: String?
    package var metadata: JSONValue?
    /// The webhooks told of it (`ms.MessagingEventNotification.<event type>`), one delivery each.
    package var deliveries: [MessageRouted.Delivery]?

    package init(
        conversation: String,
        dialog: String,
        sequence: Int64?,
        originator: ConnectorOriginator,
        event: JSONValue,
        message: String?,
        metadata: JSONValue?,
        deliveries: [MessageRouted.Delivery]? = nil
    ) {
        self.conversation = conversation
        self.dialog = dialog
        self.sequence = sequence
        self.originator = originator
        self.event = event
        self.message = message
        self.metadata = metadata
        self.deliveries = deliveries
    }
}

/// `connector.conversationChanged`: what `cqm.ExConversationChangeNotification` tells of: a close (by
/// the consumer or the hub's side), a dialog closed, a CSAT, a TTR change, an agent assigned.
package struct ConnectorConversationChanged: NamedDomainEvent {
    package static var type: String { "connector.conversationChanged" }
    package static var schemaVersion: Int { 1 }

    package enum Change: String, Codable, Sendable, Equatable {
        case close, closeDialog, csat, ttr, assign
    }

    package var conversation: String
    package var change: Change
    /// `CONSUMER`, `AGENT`, `SYSTEM` (a close).
    package var closeReason: String?
    /// The dialog a `closeDialog` closes.
    package var dialog: String?
    /// `{csatRate, csatResolutionConfirmation, status}`.
    package var csat: JSONValue?
    package var ttrType: String?
    package var ttrValue: Int64?
    /// The agent a change assigned.
    package var participant: ConnectorOriginator?
    /// The webhooks told of it (`cqm.ExConversationChangeNotification`), one delivery each.
    package var deliveries: [MessageRouted.Delivery]?

    package init(
        conversation: String,
        change: Change,
        closeReason: String? = nil,
        dialog: String? = nil,
        csat: JSONValue? = nil,
        ttrType: String? = nil,
        ttrValue: Int64? = nil,
        participant: ConnectorOriginator? = nil,
        deliveries: [MessageRouted.Delivery]? = nil
    ) {
        self.conversation = conversation
        self.change = change
        self.closeReason = closeReason
        self.dialog = dialog
        self.csat = csat
        self.ttrType = ttrType
        self.ttrValue = ttrValue
        self.participant = participant
        self.deliveries = deliveries
    }
}

/// `consumer.profileSet`: a consumer's `userprofile.SetUserProfile`, sealed under the consumer's key
/// (record `consumer/<account>/<lp_consumer_id>`), on stream `consumer/<account>/<lp_consumer_id>`.
package struct ConsumerProfileSet: NamedDomainEvent {
    package static var type: String { "consumer.profileSet" }
    package static var schemaVersion: Int { 1 }

    package var account: String
    package var consumer: String
    package var externalId: String
    package var app: String
    /// The profile as JSON text, sealed.
    package var profile: String

    package init(account: String, consumer: String, externalId: String, app: String, profile: String) {
        self.account = account
        self.consumer = consumer
        self.externalId = externalId
        self.app = app
        self.profile = profile
    }
}
