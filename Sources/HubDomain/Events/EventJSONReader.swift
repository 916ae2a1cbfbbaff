/// Reads the events every message appends straight from their stored bytes, member by member: no
/// Codable machinery and no dictionary per object. A rebuild reads every one of them, and its speed is
/// what the log's replay is measured by.
///
/// The reader takes the shape the hub writes (keys without escapes, integers without fraction or
/// exponent). Anything else — a missing member, a wrong type, an unusual but valid spelling — makes
/// ``read(_:)`` throw, and the catalogue then decodes the same bytes with Codable, which is the
/// reference: ``EventCatalogueTests`` checks both give the same payload for every stored event.
package protocol DirectlyReadEvent: NamedDomainEvent {
    /// The event from its data's UTF-8 bytes.
    static func read(_ bytes: UnsafeBufferPointer<UInt8>) throws -> Self
    /// Whether ``read(_:)`` takes data written at `schemaVersion` as it is (older versions otherwise
    /// go through the upcasters and Codable).
    static func readsDirectly(schemaVersion: Int) -> Bool
}

extension DirectlyReadEvent {
    package static func readsDirectly(schemaVersion: Int) -> Bool { schemaVersion == Self.schemaVersion }
}

/// A member an event's data lacks, or has with the wrong type.
struct EventFieldError: Error, CustomStringConvertible {
    var key: String
    var expected: String
    var description: String { "`\(key)` is missing or not \(expected)" }
}

/// A required member's value once read.
func required<T>(_ value: T?, _ key: String) throws -> T {
    guard let value else { throw EventFieldError(key: key, expected: "present") }
    return value
}

extension MessageReceived: DirectlyReadEvent {
    package static func read(_ bytes: UnsafeBufferPointer<UInt8>) throws -> Self {
        try JSONParser.reading(bytes) { json in
            var id: String?
            var conversation: String?
            var messageId: String?
            var type: String?
            var sender: JSONValue?
            var content: String?
            var created: String?
            var attributes: JSONValue?
            var routing: Routing?
            try json.members { json, key in
                if key == "content" {
                    content = try json.readString()
                } else if key == "conversation" {
                    conversation = try json.readString()
                } else if key == "id" {
                    id = try json.readString()
                } else if key == "messageId" {
                    messageId = try json.readString()
                } else if key == "sender" {
                    sender = try json.readOptionalValue()
                } else if key == "type" {
                    type = nil
                    try json.members { json, key in
                        if key == "value" { type = try json.readString() } else { try json.skip() }
                    }
                } else if key == "created" {
                    created = try json.readOptionalString()
                } else if key == "attributes" {
                    attributes = try json.readOptionalValue()
                } else if key == "routing" {
                    routing = try json.readNull() ? nil : try Routing.read(&json)
                } else {
                    try json.skip()
                }
            }
            let hubId = try required(id, "id")
            var received = Self(
                id: hubId,
                conversation: conversation ?? "",
                messageId: try required(messageId, "messageId"),
                type: MessageTypeValue(value: try required(type, "type.value")),
                sender: try required(sender, "sender"),
                content: try required(content, "content"),
                created: created,
                attributes: attributes,
                routing: try routing.map { routing in
                    var routing = routing
                    routing.deliveries = try MessageRouted.Delivery.identified(routing.deliveries, message: hubId)
                    return routing
                }
            )
            received.conversationWritten = conversation != nil
            return received
        }
    }
}

extension MessageReceived.Routing {
    static func read(_ json: inout JSONParser) throws -> Self {
        var seq: Int64?
        var state: String?
        var deliveries: [MessageRouted.Delivery]?
        var generation: Int64?
        try json.members { json, key in
            if key == "seq" {
                seq = try json.readInteger()
            } else if key == "state" {
                state = try json.readString()
            } else if key == "deliveries" {
                deliveries = try json.array(MessageRouted.Delivery.read)
            } else if key == "configurationGeneration" {
                generation = try json.readInteger()
            } else {
                try json.skip()
            }
        }
        return Self(
            seq: try required(seq, "routing.seq"),
            state: try required(state, "routing.state"),
            deliveries: try required(deliveries, "routing.deliveries"),
            configurationGeneration: try required(generation, "routing.configurationGeneration")
        )
    }
}

extension MessageRouted: DirectlyReadEvent {
    /// Version 2 only adds the generation in place of the configuration: both read the same way.
    package static func readsDirectly(schemaVersion: Int) -> Bool { (1...2).contains(schemaVersion) }

    package static func read(_ bytes: UnsafeBufferPointer<UInt8>) throws -> Self {
        try JSONParser.reading(bytes) { json in
            var message: String?
            var conversation: String?
            var seq: Int64?
            var state: String?
            var deliveries: [Delivery]?
            var configuration: Configuration?
            var generation: Int64?
            try json.members { json, key in
                if key == "message" {
                    message = try json.readString()
                } else if key == "conversation" {
                    conversation = try json.readString()
                } else if key == "seq" {
                    seq = try json.readInteger()
                } else if key == "state" {
                    state = try json.readString()
                } else if key == "deliveries" {
                    deliveries = try json.array(Delivery.read)
                } else if key == "configuration" {
                    configuration = try Configuration.read(&json)
                } else if key == "configurationGeneration" {
                    generation = try json.readInteger()
                } else {
                    try json.skip()
                }
            }
            let messageId = try required(message, "message")
            var routed = Self(
                message: messageId,
                conversation: try required(conversation, "conversation"),
                seq: try required(seq, "seq"),
                state: try required(state, "state"),
                deliveries: try MessageRouted.Delivery.identified(
                    try required(deliveries, "deliveries"),
                    message: messageId
                ),
                configurationGeneration: try required(
                    generation ?? configuration.map { _ in 0 },
                    "configuration or configurationGeneration"
                )
            )
            routed.configuration = configuration
            routed.configurationGeneration = generation
            return routed
        }
    }
}

extension MessageRouted.Source {
    static func read(_ json: inout JSONParser) throws -> Self {
        var id: String?
        var position: Int64?
        try json.members { json, key in
            if key == "id" {
                id = try json.readString()
            } else if key == "position" {
                position = try json.readInteger()
            } else {
                try json.skip()
            }
        }
        return Self(id: try required(id, "id"), position: try required(position, "position"))
    }

    static func readOptional(_ json: inout JSONParser) throws -> Self? {
        try json.readNull() ? nil : read(&json)
    }
}

extension MessageRouted.Configuration {
    /// A configuration from its JSON text (as ``RoutingConfigured`` and its read model hold it).
    package static func parse(_ text: String) throws -> Self {
        var text = text
        return try text.withUTF8 { bytes in try JSONParser.reading(bytes) { try read(&$0) } }
    }

    static func read(_ json: inout JSONParser) throws -> Self {
        typealias Source = MessageRouted.Source
        var account: Source?
        var channel: Source?
        var orchestration: Source?
        var clientApplications: [Source]?
        var participants: [Source]?
        try json.members { json, key in
            if key == "account" {
                account = try Source.read(&json)
            } else if key == "channel" {
                channel = try Source.read(&json)
            } else if key == "orchestration" {
                orchestration = try Source.readOptional(&json)
            } else if key == "clientApplications" {
                clientApplications = try json.array(Source.read)
            } else if key == "participants" {
                participants = try json.readNull() ? nil : try json.array(Source.read)
            } else {
                try json.skip()
            }
        }
        return Self(
            account: try required(account, "account"),
            channel: try required(channel, "channel"),
            orchestration: orchestration,
            clientApplications: try required(clientApplications, "clientApplications"),
            participants: participants
        )
    }
}

extension MessageRouted.Delivery {
    static func read(_ json: inout JSONParser) throws -> Self {
        var id: String?
        var application: String?
        var type: String?
        var participant: Participant?
        try json.members { json, key in
            if key == "id" {
                id = try json.readString()
            } else if key == "application" {
                application = try json.readString()
            } else if key == "type" {
                type = try json.readString()
            } else if key == "participant" {
                participant = try json.readNull() ? nil : try Participant.read(&json)
            } else {
                try json.skip()
            }
        }
        return Self(
            // Absent for the delivery that has its message's id (``identified(_:message:)``).
            id: id ?? "",
            // Absent, with the participant, for a delivery written by reference.
            application: application ?? "",
            type: try required(type, "type"),
            participant: application == nil ? nil : participant,
            byReference: application == nil
        )
    }
}

extension MessageRouted.Delivery.Participant {
    static func read(_ json: inout JSONParser) throws -> Self {
        var names = Self(id: nil, name: nil)
        try json.members { json, key in
            if key == "id" {
                names.id = try json.readOptionalString()
            } else if key == "name" {
                names.name = try json.readOptionalString()
            } else {
                try json.skip()
            }
        }
        return names
    }
}

extension DeliveryItem {
    static func read(_ json: inout JSONParser) throws -> Self {
        var delivery: String?
        var message: String?
        var conversation: String?
        try json.members { json, key in
            if key == "delivery" {
                delivery = try json.readString()
            } else if key == "message" {
                message = try json.readString()
            } else if key == "conversation" {
                conversation = try json.readString()
            } else {
                try json.skip()
            }
        }
        let id = try required(delivery, "delivery")
        return Self(delivery: id, message: message ?? id, conversation: conversation)
    }
}

extension DeliveryOutcomeEvent {
    package static func read(_ bytes: UnsafeBufferPointer<UInt8>) throws -> Self {
        try JSONParser.reading(bytes) { json in
            var request: String?
            var application: String?
            var role: String?
            var attempt: Int64?
            var latencyMs: Int64?
            var status: Int64?
            var error: String?
            var nextAttemptAt: String?
            var deliveries: [DeliveryItem]?
            try json.members { json, key in
                if key == "request" {
                    request = try json.readString()
                } else if key == "application" {
                    application = try json.readString()
                } else if key == "role" {
                    role = try json.readString()
                } else if key == "attempt" {
                    attempt = try json.readInteger()
                } else if key == "latencyMs" {
                    latencyMs = try json.readInteger()
                } else if key == "status" {
                    status = try json.readOptionalInteger()
                } else if key == "error" {
                    error = try json.readOptionalString()
                } else if key == "nextAttemptAt" {
                    nextAttemptAt = try json.readOptionalString()
                } else if key == "deliveries" {
                    deliveries = try json.array(DeliveryItem.read)
                } else {
                    try json.skip()
                }
            }
            guard let attempt = Int(exactly: try required(attempt, "attempt")) else {
                throw EventFieldError(key: "attempt", expected: "an Int")
            }
            return try make(
                DeliveryOutcomeMembers(
                    request: try required(request, "request"),
                    application: try required(application, "application"),
                    role: try required(role, "role"),
                    attempt: attempt,
                    latencyMs: try required(latencyMs, "latencyMs"),
                    status: try status.map { value in
                        guard let status = Int(exactly: value) else {
                            throw EventFieldError(key: "status", expected: "an Int")
                        }
                        return status
                    },
                    error: error,
                    nextAttemptAt: nextAttemptAt,
                    deliveries: try required(deliveries, "deliveries")
                )
            )
        }
    }
}
