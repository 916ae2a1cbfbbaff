// The six configuration resources (`ConfigurationStore`, stream `<kind>/<id>`): `<kind>.created`,
// `<kind>.updated` and `<kind>.deleted` for every `ResourceKind`, so their names come from the kind.

/// `<kind>.created` or `<kind>.updated`: the resource's full new state (secrets sealed, DESIGN.md §6),
/// so any past configuration can be rebuilt from one event.
package struct ConfigurationChanged: DomainEvent {
    package static var schemaVersion: Int { 1 }

    package enum Change: String, Sendable, CaseIterable {
        case created
        case updated
    }

    package var kind: ResourceKind
    package var change: Change
    /// The resource as stored: the validated body with `id`, `created` and `modified`; a JSON object.
    package var state: JSONValue

    package init(kind: ResourceKind, change: Change, state: JSONValue) {
        self.kind = kind
        self.change = change
        self.state = state
    }

    package var eventType: String { "\(kind.itemName).\(change.rawValue)" }

    /// The resource's id, from its state.
    package var id: String? { state["id"]?.stringValue }

    /// Kind and change from an event type name, e.g. `channel.updated`.
    package init?(type: String, state: JSONValue) {
        guard let (kind, change) = ConfigurationEventName.parse(type), let change = Change(rawValue: change) else {
            return nil
        }
        self.init(kind: kind, change: change, state: state)
    }

    /// Decodes the state; the kind and the change come from the type name, which the data does not hold:
    /// the decoder's `userInfo[.eventType]` (``EventCatalogue`` sets it).
    package init(from decoder: any Decoder) throws {
        let state = try JSONValue(from: decoder)
        guard case .object = state else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "the state is not an object"))
        }
        let type = try ConfigurationEventName.type(in: decoder)
        guard let event = Self(type: type, state: state) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "\(type) is not a change"))
        }
        self = event
    }

    package func encode(to encoder: any Encoder) throws {
        try state.encode(to: encoder)
    }
}

/// `<kind>.deleted`: `{"id"}` of a resource nothing referred to any more.
package struct ConfigurationDeleted: DomainEvent {
    package static var schemaVersion: Int { 1 }

    package var kind: ResourceKind
    package var id: String

    package init(kind: ResourceKind, id: String) {
        self.kind = kind
        self.id = id
    }

    package var eventType: String { "\(kind.itemName).deleted" }

    private enum CodingKeys: String, CodingKey {
        case id
    }

    /// Decodes the id; the kind comes from the type name: the decoder's `userInfo[.eventType]`.
    package init(from decoder: any Decoder) throws {
        let type = try ConfigurationEventName.type(in: decoder)
        guard let (kind, change) = ConfigurationEventName.parse(type), change == "deleted" else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "\(type) is not a deletion"))
        }
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(kind: kind, id: try container.decode(String.self, forKey: .id))
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
    }
}

extension CodingUserInfoKey {
    /// The event's type name, for payloads whose type is not fixed (the configuration events).
    package static let eventType = CodingUserInfoKey(rawValue: "hubstore.eventType")!
}

/// `<kind>.<change>` names.
enum ConfigurationEventName {
    /// The kind (by its `itemName`) and the change word of a configuration event name, if it is one.
    static func parse(_ type: String) -> (kind: ResourceKind, change: String)? {
        guard let dot = type.firstIndex(of: ".") else { return nil }
        let prefix = type[..<dot]
        guard let kind = ResourceKind.allCases.first(where: { $0.itemName == prefix }) else { return nil }
        return (kind, String(type[type.index(after: dot)...]))
    }

    static func type(in decoder: any Decoder) throws -> String {
        guard let type = decoder.userInfo[.eventType] as? String else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: [], debugDescription: "a configuration event needs its type in userInfo[.eventType]")
            )
        }
        return type
    }
}
