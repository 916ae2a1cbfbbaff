// The values the outbox hands to the delivery workers and takes back from them.

/// A pending delivery: one message to one recipient role's callback (DESIGN.md §7).
public struct PendingDelivery: Sendable, Equatable {
    /// Also the `X-egain-request-id` of every attempt.
    public var id: String
    public var conversation: String
    public var message: String
    public var application: String
    public var role: String
    /// The callback body.
    public var payload: String
    /// The conversation's account (for the attempt's event).
    public var account: String?
    /// Attempts made so far.
    public var attempts: Int

    /// Deliveries of one lane (conversation → application role) go out one at a time, in order.
    public var lane: String { "\(conversation)|\(application)|\(role)" }
    public var endpointKey: String { "\(application)|\(role)" }
}

/// Where and how to POST to a client application role, secrets opened (spec §3.1–§3.2, §5.1).
public struct CallbackEndpoint: Sendable, Equatable {
    public var url: String
    /// `version` of the role (`v1`/`v3`).
    public var version: String
    /// The role's custom headers, values opened.
    public var headers: [(name: String, value: String)]
    public var authentication: CallbackAuthentication?

    public static func == (lhs: CallbackEndpoint, rhs: CallbackEndpoint) -> Bool {
        lhs.url == rhs.url && lhs.version == rhs.version && lhs.authentication == rhs.authentication
            && lhs.headers.map(\.name) == rhs.headers.map(\.name)
            && lhs.headers.map(\.value) == rhs.headers.map(\.value)
    }
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

/// The result of one delivery attempt.
public struct DeliveryOutcome: Sendable, Equatable {
    public enum Result: Sendable, Equatable {
        /// 2xx.
        case delivered
        /// Failed; try again at this time (ms since 1970).
        case retry(at: Int64)
        /// Failed for good.
        case failed
    }

    public var delivery: PendingDelivery
    public var result: Result
    /// The HTTP status, when a response came.
    public var status: Int?
    public var latencyMilliseconds: Int64
    public var error: String?

    public init(delivery: PendingDelivery, result: Result, status: Int?, latencyMilliseconds: Int64, error: String?) {
        self.delivery = delivery
        self.result = result
        self.status = status
        self.latencyMilliseconds = latencyMilliseconds
        self.error = error
    }
}
