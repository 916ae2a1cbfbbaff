// Outbound callbacks (`Outbox.record`, stream `delivery/<request id>`): one event per POST, for the
// deliveries (outbox rows) it carried. The three types share their keys; `delivery.attempted` adds
// when the call is tried again.

/// One delivery a call carried: the outbox row and its message. Events recorded before December 2026
/// also name the message's conversation; the message says it (its `message.received` or
/// `message.originated` is on the conversation's stream), so it is no longer repeated here.
///
/// A message's first delivery has the message's own id (``MessageRouted/Delivery``): its item then
/// names only the delivery, and `message` reads as that id.
package struct DeliveryItem: Codable, Sendable, Equatable, Hashable {
    package var delivery: String
    package var message: String
    package var conversation: String?

    package init(delivery: String, message: String, conversation: String? = nil) {
        self.delivery = delivery
        self.message = message
        self.conversation = conversation
    }

    private enum CodingKeys: String, CodingKey {
        case delivery, message, conversation
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        delivery = try container.decode(String.self, forKey: .delivery)
        message = try container.decodeIfPresent(String.self, forKey: .message) ?? delivery
        conversation = try container.decodeIfPresent(String.self, forKey: .conversation)
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(delivery, forKey: .delivery)
        if namesMessage { try container.encode(message, forKey: .message) }
        try container.encodeIfPresent(conversation, forKey: .conversation)
    }

    /// Whether the item's JSON names its message (not when the delivery has the message's id).
    package var namesMessage: Bool { message != delivery }
}

/// `delivery.succeeded`: the endpoint answered 2xx.
package struct DeliverySucceeded: NamedDomainEvent {
    package static var type: String { "delivery.succeeded" }
    package static var schemaVersion: Int { 1 }

    /// The call's `X-egain-request-id` (also the stream's id).
    package var request: String
    /// The client application called.
    package var application: String
    /// The role of the application whose callback was called.
    package var role: String
    /// 1 for the first try.
    package var attempt: Int
    package var latencyMs: Int64
    package var status: Int?
    package var error: String?
    package var deliveries: [DeliveryItem]

    package init(
        request: String,
        application: String,
        role: String,
        attempt: Int,
        latencyMs: Int64,
        status: Int? = nil,
        error: String? = nil,
        deliveries: [DeliveryItem]
    ) {
        self.request = request
        self.application = application
        self.role = role
        self.attempt = attempt
        self.latencyMs = latencyMs
        self.status = status
        self.error = error
        self.deliveries = deliveries
    }
}

/// `delivery.attempted`: the call failed and will be tried again at `nextAttemptAt`.
package struct DeliveryAttempted: NamedDomainEvent {
    package static var type: String { "delivery.attempted" }
    package static var schemaVersion: Int { 1 }

    /// The call's `X-egain-request-id` (also the stream's id; kept for the retries).
    package var request: String
    package var application: String
    package var role: String
    /// 1 for the first try.
    package var attempt: Int
    package var latencyMs: Int64
    /// The HTTP status, when a response came.
    package var status: Int?
    /// Why it failed, when no response or an unexpected one came.
    package var error: String?
    /// When the call is tried again: an ISO 8601 timestamp in UTC with milliseconds.
    package var nextAttemptAt: String
    package var deliveries: [DeliveryItem]

    package init(
        request: String,
        application: String,
        role: String,
        attempt: Int,
        latencyMs: Int64,
        status: Int? = nil,
        error: String? = nil,
        nextAttemptAt: String,
        deliveries: [DeliveryItem]
    ) {
        self.request = request
        self.application = application
        self.role = role
        self.attempt = attempt
        self.latencyMs = latencyMs
        self.status = status
        self.error = error
        self.nextAttemptAt = nextAttemptAt
        self.deliveries = deliveries
    }
}

/// `delivery.failed`: the call failed for good; the deliveries' messages are reported as failed.
package struct DeliveryFailed: NamedDomainEvent {
    package static var type: String { "delivery.failed" }
    package static var schemaVersion: Int { 1 }

    package var request: String
    package var application: String
    package var role: String
    package var attempt: Int
    package var latencyMs: Int64
    /// The HTTP status, when a response came.
    package var status: Int?
    /// Why it failed, when no response or an unexpected one came.
    package var error: String?
    package var deliveries: [DeliveryItem]

    package init(
        request: String,
        application: String,
        role: String,
        attempt: Int,
        latencyMs: Int64,
        status: Int? = nil,
        error: String? = nil,
        deliveries: [DeliveryItem]
    ) {
        self.request = request
        self.application = application
        self.role = role
        self.attempt = attempt
        self.latencyMs = latencyMs
        self.status = status
        self.error = error
        self.deliveries = deliveries
    }
}
