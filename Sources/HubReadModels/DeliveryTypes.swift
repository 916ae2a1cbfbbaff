import HubEventLog
import HubVault

// The values the outbox hands to the delivery workers and takes back from them.

/// A pending delivery: one message to one recipient role's callback (DESIGN.md §7).
public struct PendingDelivery: Sendable, Equatable {
    public var id: String
    public var conversation: String
    public var message: String
    public var application: String
    public var role: String
    /// The whole callback body, when the outbox keeps one (a redacted text in the original, an
    /// escalation with the transcript so far): such a delivery travels alone.
    public var storedPayload: String?
    /// The message as a callback body item (spec §5.3), rebuilt from its row: JSON text.
    public var item: String?
    /// The `metadata.attributes` the message was sent with, as the row stores them (JSON text).
    public var attributesText: String?
    /// The conversation's account (for the attempt's event).
    public var account: String?
    /// Attempts made so far.
    public var attempts: Int
    /// The `X-egain-request-id` of the call this delivery was last attempted in; `nil` before a
    /// first attempt failed. A retried call keeps its id and its messages.
    public var request: String?

    public init(
        id: String,
        conversation: String,
        message: String,
        application: String,
        role: String,
        storedPayload: String? = nil,
        account: String? = nil,
        attempts: Int = 0,
        request: String? = nil
    ) {
        self.id = id
        self.conversation = conversation
        self.message = message
        self.application = application
        self.role = role
        self.storedPayload = storedPayload
        self.account = account
        self.attempts = attempts
        self.request = request
    }

    /// Deliveries of one lane (conversation → application role) go out one at a time, in order.
    /// ``DeliveryQueue``'s outbox read spells the same key in SQL.
    public var lane: String { "\(conversation)|\(application)|\(role)" }
    public var endpointKey: String { "\(application)|\(role)" }
}

/// One POST to a callback: one or more deliveries to the same application role (spec §5.3: "one or
/// more messages per call"), at most one per lane, under one `X-egain-request-id`.
public struct DeliveryCall: Sendable, Equatable {
    /// The `X-egain-request-id`: the first delivery's id, or the id the call had when it was first tried.
    public var requestId: String
    public var application: String
    public var role: String
    public var deliveries: [PendingDelivery]
    /// The callback body.
    public var payload: String

    public var endpointKey: String { "\(application)|\(role)" }

    /// Groups due deliveries into calls, keeping their order: deliveries already tried keep the call
    /// they were tried in; new ones to the same application role, of the same account and with the same
    /// attributes share a call of up to `maximum` messages (so each attempt's event has one account); a
    /// delivery with a stored body travels alone.
    public static func group(_ deliveries: [PendingDelivery], maximum: Int) -> [DeliveryCall] {
        var calls: [DeliveryCall] = []
        var open: [String: Int] = [:]  // grouping key → index in `calls` of the call still taking messages
        var items: [[String]] = []
        for delivery in deliveries {
            let key: String?
            if let request = delivery.request {
                key = "retry|" + request
            } else if delivery.storedPayload != nil || maximum <= 1 {
                key = nil
            } else {
                key =
                    "new|" + delivery.endpointKey + "|" + (delivery.account ?? "") + "|"
                    + (delivery.attributesText ?? "")
            }
            if let key, let index = open[key], key.hasPrefix("retry|") || calls[index].deliveries.count < maximum {
                calls[index].deliveries.append(delivery)
                items[index].append(delivery.item ?? "null")
                continue
            }
            calls.append(
                DeliveryCall(
                    requestId: delivery.request ?? delivery.id,
                    application: delivery.application,
                    role: delivery.role,
                    deliveries: [delivery],
                    payload: delivery.storedPayload ?? ""
                )
            )
            items.append([delivery.item ?? "null"])
            if let key { open[key] = calls.count - 1 }
        }
        for index in calls.indices where calls[index].deliveries[0].storedPayload == nil {
            calls[index].payload = CallbackPayload.text(
                items[index],
                attributesText: calls[index].deliveries[0].attributesText
            )
        }
        return calls
    }
}

/// Where and how to POST to a client application role, secrets opened (spec §3.1–§3.2, §5.1).
public struct CallbackEndpoint: Sendable, Equatable {
    public var url: String
    /// `version` of the role (`v1`/`v3`).
    public var version: String
    /// The role's custom headers, values opened.
    public var headers: [(name: String, value: String)]
    public var authentication: CallbackAuthentication?
    /// Set for a LivePerson connector app's webhook: how its POSTs are signed and retried.
    public var webhook: WebhookSigning?

    public static func == (lhs: CallbackEndpoint, rhs: CallbackEndpoint) -> Bool {
        lhs.url == rhs.url && lhs.version == rhs.version && lhs.authentication == rhs.authentication
            && lhs.webhook == rhs.webhook
            && lhs.headers.map(\.name) == rhs.headers.map(\.name)
            && lhs.headers.map(\.value) == rhs.headers.map(\.value)
    }
}

/// A connector webhook's signing and retries (connector spec §8.2): `x-liveperson-account-id`,
/// `x-liveperson-client-id`, and `x-liveperson-signature: sha1=` + Base64(HMAC-SHA1(secret, body)).
public struct WebhookSigning: Sendable, Equatable {
    public var account: String
    public var clientId: String
    public var secret: String
    /// Retries after the first attempt (`max_retries`, 0–5).
    public var maxRetries: Int
}

/// The Authentication resource a role names, secrets opened.
public enum CallbackAuthentication: Sendable, Equatable {
    case basic(username: String, password: String)
    /// `key` identifies the resource version, for the token cache.
    case oauth2(OAuth2Settings)
}

public struct OAuth2Settings: Sendable, Equatable {
    public var key: String
    public var tokenRequestUrl: String
    public var method: String
    public var headers: [Header]
    public var payload: String
    public var accessTokenPath: String

    public struct Header: Sendable, Equatable {
        public var name: String
        public var value: String
    }
}

/// The result of one attempt of a call: one POST and the deliveries it carried.
public struct DeliveryOutcome: Sendable, Equatable {
    public enum Result: Sendable, Equatable {
        /// 2xx.
        case delivered
        /// Failed; try again at this time (ms since 1970).
        case retry(at: Int64)
        /// Failed for good.
        case failed
    }

    /// The deliveries the call carried, as they stood before this attempt.
    public var deliveries: [PendingDelivery]
    /// The `X-egain-request-id` of the call (kept on the deliveries when they will be retried).
    public var request: String
    public var result: Result
    /// The HTTP status, when a response came.
    public var status: Int?
    public var latencyMilliseconds: Int64
    public var error: String?

    public init(
        deliveries: [PendingDelivery],
        request: String,
        result: Result,
        status: Int?,
        latencyMilliseconds: Int64,
        error: String?
    ) {
        self.deliveries = deliveries
        self.request = request
        self.result = result
        self.status = status
        self.latencyMilliseconds = latencyMilliseconds
        self.error = error
    }
}
