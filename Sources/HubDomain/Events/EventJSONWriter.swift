/// Writes an event's data the way ``EventCatalogue/encode(_:)`` does (compact, keys sorted, `/` not
/// escaped), without Codable's machinery: for the events every message appends, where the writer's
/// time is what ingest is measured by. Callers add members in key order.
package struct EventJSONWriter {
    private(set) var bytes: [UInt8] = []
    private var needsComma = [false]

    package init(capacity: Int = 512) {
        bytes.reserveCapacity(capacity)
    }

    package var text: String { String(decoding: bytes, as: UTF8.self) }

    package mutating func object(_ body: (inout EventJSONWriter) -> Void) {
        open(UInt8(ascii: "{"))
        body(&self)
        close(UInt8(ascii: "}"))
    }

    package mutating func array<S: Sequence>(_ items: S, _ body: (inout EventJSONWriter, S.Element) -> Void) {
        open(UInt8(ascii: "["))
        for item in items {
            separate()
            body(&self, item)
        }
        close(UInt8(ascii: "]"))
    }

    /// `"key":` then whatever `body` writes.
    package mutating func member(_ key: String, _ body: (inout EventJSONWriter) -> Void) {
        separate()
        JSONValue.writeString(key, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        needsComma.append(false)
        body(&self)
        needsComma.removeLast()
    }

    package mutating func member(_ key: String, _ value: String?) {
        guard let value else { return }
        member(key) { $0.string(value) }
    }

    package mutating func member(_ key: String, _ value: Int64) {
        member(key) { $0.bytes.append(contentsOf: String(value).utf8) }
    }

    package mutating func member(_ key: String, _ value: JSONValue?) {
        guard let value else { return }
        member(key) { value.write(to: &$0.bytes) }
    }

    package mutating func string(_ value: String) {
        JSONValue.writeString(value, to: &bytes)
    }

    private mutating func separate() {
        if needsComma[needsComma.count - 1] { bytes.append(UInt8(ascii: ",")) }
        needsComma[needsComma.count - 1] = true
    }

    private mutating func open(_ byte: UInt8) {
        bytes.append(byte)
        needsComma.append(false)
    }

    private mutating func close(_ byte: UInt8) {
        needsComma.removeLast()
        bytes.append(byte)
    }
}

/// An event payload that writes its own data with ``EventJSONWriter``: the same bytes as its Codable
/// encoding (``EventCatalogueTests`` checks both against the stored events).
package protocol DirectlyWrittenEvent: DomainEvent {
    func write(to writer: inout EventJSONWriter)
}

extension DirectlyWrittenEvent {
    package func encodedData() -> String {
        var writer = EventJSONWriter()
        write(to: &writer)
        return writer.text
    }
}

extension ConversationStarted: DirectlyWrittenEvent {
    package func write(to writer: inout EventJSONWriter) {
        writer.object { json in
            json.member("account") { json in
                json.object {
                    $0.member("address", account.address)
                    $0.member("id", account.id)
                }
            }
            json.member("channel") { json in json.object { $0.member("type", channel.type) } }
            json.member("conversationContact", conversationContact)
            json.member("customer") { json in
                json.object { json in
                    json.member("contactKeys") { $0.array(customer.contactKeys) { $0.string($1) } }
                    json.member("id", customer.id)
                    json.member("identity", customer.identity)
                }
            }
            if let entryPoint { json.member("entryPoint") { json in json.object { $0.member("id", entryPoint.id) } } }
            json.member("id", id)
            json.member("origin", origin)
        }
    }
}

extension MessageReceived: DirectlyWrittenEvent {
    package func write(to writer: inout EventJSONWriter) {
        writer.object { json in
            json.member("attributes", attributes)
            json.member("content", content)
            if conversationWritten { json.member("conversation", conversation) }
            json.member("created", created)
            json.member("id", id)
            json.member("messageId", messageId)
            if let routing {
                json.member("routing") { json in
                    json.object { json in
                        json.member("configurationGeneration", routing.configurationGeneration)
                        json.member("deliveries") { MessageRouted.write(routing.deliveries, of: id, to: &$0) }
                        json.member("seq", routing.seq)
                        json.member("state", routing.state)
                    }
                }
            }
            json.member("sender", sender)
            json.member("type") { $0.object { $0.member("value", type.value) } }
        }
    }
}

extension MessageRouted: DirectlyWrittenEvent {
    package func write(to writer: inout EventJSONWriter) {
        func source(_ json: inout EventJSONWriter, _ source: Source) {
            json.object {
                $0.member("id", source.id)
                $0.member("position", source.position)
            }
        }
        writer.object { json in
            if let configuration {
                json.member("configuration") { json in
                    json.object { json in
                        json.member("account") { source(&$0, configuration.account) }
                        json.member("channel") { source(&$0, configuration.channel) }
                        json.member("clientApplications") { $0.array(configuration.clientApplications, source) }
                        if let orchestration = configuration.orchestration {
                            json.member("orchestration") { source(&$0, orchestration) }
                        }
                        if let participants = configuration.participants {
                            json.member("participants") { $0.array(participants, source) }
                        }
                    }
                }
            }
            if let configurationGeneration { json.member("configurationGeneration", configurationGeneration) }
            json.member("conversation", conversation)
            json.member("deliveries") { Self.write(deliveries, of: message, to: &$0) }
            json.member("message", message)
            json.member("seq", seq)
            json.member("state", state)
        }
    }

    /// The deliveries' array, as `message.routed` and a routed `message.received` write it: without
    /// the `id` of the delivery that has the message's own, and a delivery written by reference
    /// without its application and participant.
    static func write(_ deliveries: [Delivery], of message: String, to writer: inout EventJSONWriter) {
        writer.array(deliveries) { json, delivery in
            json.object { json in
                if !delivery.byReference { json.member("application", delivery.application) }
                if delivery.id != message { json.member("id", delivery.id) }
                if !delivery.byReference, let participant = delivery.participant {
                    json.member("participant") { json in
                        json.object {
                            $0.member("id", participant.id)
                            $0.member("name", participant.name)
                        }
                    }
                }
                json.member("type", delivery.type)
            }
        }
    }
}

/// The three `delivery.*` events: the same members, and `nextAttemptAt` for `delivery.attempted`.
package protocol DeliveryOutcomeEvent: DirectlyWrittenEvent, DirectlyReadEvent {
    var request: String { get }
    var application: String { get }
    var role: String { get }
    var attempt: Int { get }
    var latencyMs: Int64 { get }
    var status: Int? { get }
    var error: String? { get }
    var deliveries: [DeliveryItem] { get }
    /// When the call is tried again (`delivery.attempted` only).
    var nextAttempt: String? { get }
    /// The event from its members (`nextAttemptAt` is required by `delivery.attempted`, ignored otherwise).
    static func make(_ members: DeliveryOutcomeMembers) throws -> Self
}

/// What every `delivery.*` event says.
package struct DeliveryOutcomeMembers: Sendable {
    package var request: String
    package var application: String
    package var role: String
    package var attempt: Int
    package var latencyMs: Int64
    package var status: Int?
    package var error: String?
    package var nextAttemptAt: String?
    package var deliveries: [DeliveryItem]

    package init(
        request: String,
        application: String,
        role: String,
        attempt: Int,
        latencyMs: Int64,
        status: Int?,
        error: String?,
        nextAttemptAt: String?,
        deliveries: [DeliveryItem]
    ) {
        (self.request, self.application, self.role, self.attempt) = (request, application, role, attempt)
        (self.latencyMs, self.status, self.error) = (latencyMs, status, error)
        (self.nextAttemptAt, self.deliveries) = (nextAttemptAt, deliveries)
    }
}

extension DeliveryOutcomeEvent {
    package func write(to writer: inout EventJSONWriter) {
        writer.object { json in
            json.member("application", application)
            json.member("attempt", Int64(attempt))
            json.member("deliveries") { json in
                json.array(deliveries) { json, item in
                    json.object {
                        $0.member("conversation", item.conversation)
                        $0.member("delivery", item.delivery)
                        if item.namesMessage { $0.member("message", item.message) }
                    }
                }
            }
            json.member("error", error)
            json.member("latencyMs", latencyMs)
            json.member("nextAttemptAt", nextAttempt)
            json.member("request", request)
            json.member("role", role)
            if let status { json.member("status", Int64(status)) }
        }
    }
}

extension DeliverySucceeded: DeliveryOutcomeEvent {
    package var nextAttempt: String? { nil }

    package static func make(_ members: DeliveryOutcomeMembers) -> Self {
        Self(
            request: members.request,
            application: members.application,
            role: members.role,
            attempt: members.attempt,
            latencyMs: members.latencyMs,
            status: members.status,
            error: members.error,
            deliveries: members.deliveries
        )
    }
}

extension DeliveryFailed: DeliveryOutcomeEvent {
    package var nextAttempt: String? { nil }

    package static func make(_ members: DeliveryOutcomeMembers) -> Self {
        Self(
            request: members.request,
            application: members.application,
            role: members.role,
            attempt: members.attempt,
            latencyMs: members.latencyMs,
            status: members.status,
            error: members.error,
            deliveries: members.deliveries
        )
    }
}

extension DeliveryAttempted: DeliveryOutcomeEvent {
    package var nextAttempt: String? { nextAttemptAt }

    package static func make(_ members: DeliveryOutcomeMembers) throws -> Self {
        guard let nextAttemptAt = members.nextAttemptAt else {
            throw EventFieldError(key: "nextAttemptAt", expected: "a string")
        }
        return Self(
            request: members.request,
            application: members.application,
            role: members.role,
            attempt: members.attempt,
            latencyMs: members.latencyMs,
            status: members.status,
            error: members.error,
            nextAttemptAt: nextAttemptAt,
            deliveries: members.deliveries
        )
    }
}
