/// One event type of the log's catalogue (DESIGN.md §3): its name, the version of its data's schema,
/// and the data as a `Codable` payload whose JSON keys are the contract.
///
/// Most events have a fixed name and conform through ``NamedDomainEvent``. The configuration events
/// (`<kind>.created|updated|deleted`) take theirs from the resource kind they carry, and
/// ``UnknownEvent`` carries whatever the log held; both answer ``eventType`` per value.
///
/// Write events with ``EventCatalogue/encode(_:)`` (or ``EventCatalogue/encoded(_:)``) and read them
/// with `EventCatalogue.decode(type:schemaVersion:data:)`, which upcasts data written
/// at an older schema version first.
package protocol DomainEvent: Codable, Sendable, Equatable {
    /// The current version of this type's data schema: what new events are written with.
    static var schemaVersion: Int { get }
    /// The dotted name in `events.type`, e.g. `message.received`. (Not `type`: several payloads have
    /// a `type` key of their own.)
    var eventType: String { get }
    /// The schema version this value's data has: ``schemaVersion`` except for ``UnknownEvent``.
    var eventSchemaVersion: Int { get }
    /// The data, as ``EventCatalogue/encode(_:)`` writes it (use that).
    func encodedData() throws -> String
}

extension DomainEvent {
    package var eventSchemaVersion: Int { Self.schemaVersion }
    package func encodedData() throws -> String { try EventCatalogue.encodeWithCodable(self) }
}

/// An event whose data leaves out what its stream says (a message's conversation): whoever reads it
/// with its stream gives it (`RecordedEvent.payload`).
package protocol StreamScopedEvent: DomainEvent {
    /// Fills in what the data left out, from the event's stream.
    mutating func scope(to stream: String)
}

/// An event that stands for more than itself: readers apply it, then each of ``impliedEvents`` in
/// order, at the same position, as if the log held them one after the other.
package protocol ImpliesEvents: DomainEvent {
    /// What the event implies after itself, in order (possibly nothing).
    var impliedEvents: [any NamedDomainEvent] { get }
}

/// An event type whose name is the same for every value.
package protocol NamedDomainEvent: DomainEvent {
    /// The dotted name in `events.type`, e.g. `message.received`.
    static var type: String { get }
}

extension NamedDomainEvent {
    package var eventType: String { Self.type }
}

/// An event whose type this catalogue does not know (written by a newer hub, a tool, a benchmark):
/// kept as the log holds it, so reading never fails on it and it can be written on unchanged.
package struct UnknownEvent: DomainEvent {
    package static var schemaVersion: Int { 0 }

    package var eventType: String
    package var eventSchemaVersion: Int
    /// The data as stored: JSON text, byte for byte.
    package var rawData: String

    package init(type: String, schemaVersion: Int, rawData: String) {
        self.eventType = type
        self.eventSchemaVersion = schemaVersion
        self.rawData = rawData
    }

    /// The data as it was read, unchanged.
    package func encodedData() -> String { rawData }

    /// The data parsed, or `nil` if the stored text is not JSON.
    package var data: JSONValue? { try? JSONValue.parse(rawData) }

    /// Decodes the data as a JSON value; type and schema version are not in the data and stay empty.
    /// ``EventCatalogue`` makes unknown events with ``init(type:schemaVersion:rawData:)`` instead.
    package init(from decoder: any Decoder) throws {
        let value = try JSONValue(from: decoder)
        self.init(type: "", schemaVersion: 0, rawData: value.text)
    }

    /// Encodes the data (``EventCatalogue/encode(_:)`` writes ``rawData`` itself).
    package func encode(to encoder: any Encoder) throws {
        try JSONValue.parse(rawData).encode(to: encoder)
    }
}

/// Why the catalogue could not read an event's data.
package enum EventCatalogueError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The data does not fit the type's schema (a key missing, a value of the wrong kind).
    case invalidData(type: String, schemaVersion: Int, reason: String)
    /// The event was written at a schema version newer than this hub knows: a newer hub wrote it.
    case newerSchemaVersion(type: String, schemaVersion: Int, current: Int)
    /// No upcaster takes this type's data from this version to the next one.
    case missingUpcaster(type: String, fromVersion: Int)
    /// A typed read found another type.
    case unexpectedType(expected: String, found: String)

    package var description: String {
        switch self {
        case .invalidData(let type, let version, let reason):
            "the data of a \(type) event (schema version \(version)) does not fit its schema: \(reason)"
        case .newerSchemaVersion(let type, let version, let current):
            "a \(type) event has schema version \(version); this hub reads up to version \(current)"
        case .missingUpcaster(let type, let version):
            "no upcaster takes \(type) data from schema version \(version) to \(version + 1)"
        case .unexpectedType(let expected, let found): "expected a \(expected) event, found \(found)"
        }
    }
}
