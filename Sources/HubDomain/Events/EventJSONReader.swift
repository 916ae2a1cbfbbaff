/// Reads the events every message appends straight from parsed JSON, without Codable's machinery:
/// a rebuild reads each of them once per projection-free pass, and its speed is what the log's
/// replay is measured by. The result equals the Codable decoding (``EventCatalogueTests`` checks both
/// against the stored events).
package protocol DirectlyReadEvent: NamedDomainEvent {
    init(json: JSONValue) throws
}

/// A member an event's data lacks, or has with the wrong type.
struct EventFieldError: Error, CustomStringConvertible {
    var key: String
    var expected: String
    var description: String { "`\(key)` is missing or not \(expected)" }
}

extension JSONValue {
    func member(_ key: String) throws -> JSONValue {
        guard let value = self[key], value != .null else { throw EventFieldError(key: key, expected: "present") }
        return value
    }

    func string(_ key: String) throws -> String {
        guard case .string(let value)? = self[key] else { throw EventFieldError(key: key, expected: "a string") }
        return value
    }

    func optionalString(_ key: String) throws -> String? {
        switch self[key] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        default: throw EventFieldError(key: key, expected: "a string")
        }
    }

    func integer(_ key: String) throws -> Int64 {
        guard case .integer(let value)? = self[key] else { throw EventFieldError(key: key, expected: "an integer") }
        return value
    }

    func optionalInteger(_ key: String) throws -> Int64? {
        switch self[key] {
        case nil, .null?: return nil
        case .integer(let value)?: return value
        default: throw EventFieldError(key: key, expected: "an integer")
        }
    }

    func optionalMember(_ key: String) -> JSONValue? {
        guard let value = self[key], value != .null else { return nil }
        return value
    }

    func array(_ key: String) throws -> [JSONValue] {
        guard case .array(let items)? = self[key] else { throw EventFieldError(key: key, expected: "an array") }
        return items
    }
}

extension MessageReceived: DirectlyReadEvent {
    package init(json: JSONValue) throws {
        self.init(
            id: try json.string("id"),
            conversation: try json.string("conversation"),
            messageId: try json.string("messageId"),
            type: MessageTypeValue(value: try json.member("type").string("value")),
            sender: try json.member("sender"),
            content: try json.string("content"),
            created: try json.optionalString("created"),
            attributes: json.optionalMember("attributes")
        )
    }
}

extension MessageRouted: DirectlyReadEvent {
    package init(json: JSONValue) throws {
        func source(_ value: JSONValue) throws -> Source {
            Source(id: try value.string("id"), position: try value.integer("position"))
        }
        let configuration = try json.member("configuration")
        let participants = try configuration.optionalMember("participants").map { _ in
            try configuration.array("participants").map(source)
        }
        self.init(
            message: try json.string("message"),
            conversation: try json.string("conversation"),
            seq: try json.integer("seq"),
            state: try json.string("state"),
            deliveries: try json.array("deliveries").map { delivery in
                let participant = try delivery.optionalMember("participant").map { value in
                    Delivery.Participant(id: try value.optionalString("id"), name: try value.optionalString("name"))
                }
                return Delivery(
                    id: try delivery.string("id"),
                    application: try delivery.string("application"),
                    type: try delivery.string("type"),
                    participant: participant
                )
            },
            configuration: Configuration(
                account: try source(try configuration.member("account")),
                channel: try source(try configuration.member("channel")),
                orchestration: try configuration.optionalMember("orchestration").map(source),
                clientApplications: try configuration.array("clientApplications").map(source),
                participants: participants
            )
        )
    }
}

extension DeliveryItem {
    init(json: JSONValue) throws {
        self.init(
            delivery: try json.string("delivery"),
            message: try json.string("message"),
            conversation: try json.string("conversation")
        )
    }
}
