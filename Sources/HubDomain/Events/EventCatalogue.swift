import Foundation

/// The log's event types (DESIGN.md §3), and the one way events are written and read: typed payloads
/// encoded as compact JSON with sorted keys, decoded back (upcast first when written at an older schema
/// version), and any type the catalogue does not know read as an ``UnknownEvent``.
///
/// ```swift
/// let data = try EventCatalogue.encode(AssetDeleted(id: id, reason: "expired"))
/// // {"id":"…","reason":"expired"}
/// let event = try EventCatalogue.decode(type: row.type, schemaVersion: row.schemaVersion, data: row.data)
/// if let deleted = event as? AssetDeleted { … }
/// ```
package struct EventCatalogue: Sendable {
    /// The upcasters `decode(type:schemaVersion:data:)` applies to older versions.
    package var upcasters: Upcasters

    package init(upcasters: Upcasters = .standard) {
        self.upcasters = upcasters
    }

    /// The catalogue with the hub's own upcasters; the static methods use it.
    package static let standard = EventCatalogue()

    /// Every event type with a fixed name. The configuration events (`<kind>.created|updated|deleted`
    /// for each ``ResourceKind``) are ``ConfigurationChanged`` and ``ConfigurationDeleted``.
    package static let namedTypes: [any NamedDomainEvent.Type] = [
        ClientCreated.self, ClientRevoked.self,
        ConversationStarted.self, ConversationEscalated.self, ConversationAssigned.self, ConversationEnded.self,
        CustomerContactsLinked.self,
        MessageReceived.self, MessageRouted.self, MessageOriginated.self, RoutingConfigured.self,
        MessageSoftDeleted.self, MessageRestored.self, MessageErased.self,
        DeliveryAttempted.self, DeliverySucceeded.self, DeliveryFailed.self,
        AssetRequested.self, AssetUploaded.self, AssetAttached.self, AssetDeleted.self,
        ErasurePerformed.self,
        AppInstallationCreated.self, AppInstallationUpdated.self, AppInstallationDeleted.self,
        ConnectorConversationOpened.self, ConnectorEventPublished.self, ConnectorConversationChanged.self,
        ConsumerProfileSet.self,
    ]

    private static let byName: [String: any NamedDomainEvent.Type] = Dictionary(
        uniqueKeysWithValues: namedTypes.map { ($0.type, $0) }
    )

    /// What a type name stands for.
    private enum Entry {
        case named(any NamedDomainEvent.Type)
        case changed(ResourceKind, ConfigurationChanged.Change)
        case deleted(ResourceKind)

        init?(_ type: String) {
            if let named = EventCatalogue.byName[type] {
                self = .named(named)
            } else if let (kind, word) = ConfigurationEventName.parse(type) {
                if let change = ConfigurationChanged.Change(rawValue: word) {
                    self = .changed(kind, change)
                } else if word == "deleted" {
                    self = .deleted(kind)
                } else {
                    return nil
                }
            } else {
                return nil
            }
        }

        var schemaVersion: Int {
            switch self {
            case .named(let type): type.schemaVersion
            case .changed: ConfigurationChanged.schemaVersion
            case .deleted: ConfigurationDeleted.schemaVersion
            }
        }
    }

    /// Every type name the catalogue knows, sorted.
    package static var knownTypes: [String] {
        let configuration = ResourceKind.allCases.flatMap { kind in
            ["created", "updated", "deleted"].map { "\(kind.itemName).\($0)" }
        }
        return (namedTypes.map { $0.type } + configuration).sorted()
    }

    /// The schema version new events of `type` are written with; `nil` for a type the catalogue does not know.
    package static func currentSchemaVersion(of type: String) -> Int? {
        Entry(type)?.schemaVersion
    }

    // MARK: - Reading

    /// An event's data as its typed payload, upcast first when `schemaVersion` is older than the type's
    /// current one; an ``UnknownEvent`` for a type the catalogue does not know.
    ///
    /// - Throws: ``EventCatalogueError``: the data does not fit the type (or is not JSON), it was written
    ///   by a newer hub, or an upcaster is missing.
    package func decode(type: String, schemaVersion: Int, data: some Collection<UInt8>) throws -> any DomainEvent {
        guard let entry = Entry(type) else {
            return UnknownEvent(
                type: type,
                schemaVersion: schemaVersion,
                rawData: String(decoding: data, as: UTF8.self)
            )
        }
        let current = entry.schemaVersion
        do {
            if case .named(let named) = entry, let direct = named as? any DirectlyReadEvent.Type,
                direct.readsDirectly(schemaVersion: schemaVersion), let event = Self.readDirectly(direct, data)
            {
                // The common case: straight from the stored bytes; the hot types without Codable.
                return event
            }
            if case .named(let named) = entry, schemaVersion == current {
                return try Self.decoder.decode(named, from: Data(data))
            }
            var value = try JSONValue.parse(bytes: data)
            if schemaVersion != current {
                value = try upcasters.upcast(value, type: type, from: schemaVersion, to: current)
            }
            switch entry {
            case .named(let named): return try Self.decoder.decode(named, from: Data(value.text.utf8))
            case .changed(let kind, let change):
                guard case .object = value else {
                    throw Self.invalid(type, schemaVersion, "the state is not an object")
                }
                return ConfigurationChanged(kind: kind, change: change, state: value)
            case .deleted(let kind):
                guard let id = value["id"]?.stringValue else {
                    throw Self.invalid(type, schemaVersion, "no string `id`")
                }
                return ConfigurationDeleted(kind: kind, id: id)
            }
        } catch let error as EventCatalogueError {
            throw error
        } catch let error as DecodingError {
            throw Self.invalid(type, schemaVersion, Self.reason(error))
        } catch {
            throw Self.invalid(type, schemaVersion, "\(error)")
        }
    }

    /// The event read straight from its bytes; `nil` when the fast reader does not take them (the
    /// caller then decodes with Codable, the reference, which also says what is wrong).
    private static func readDirectly(
        _ type: any DirectlyReadEvent.Type,
        _ data: some Collection<UInt8>
    ) -> (any DomainEvent)? {
        if let event = data.withContiguousStorageIfAvailable({ try? type.read($0) }) { return event }
        return Array(data).withUnsafeBufferPointer { try? type.read($0) }
    }

    /// An event's data, given as JSON text, as its typed payload (see `decode(type:schemaVersion:data:)`).
    package func decode(type: String, schemaVersion: Int, data: String) throws -> any DomainEvent {
        try decode(type: type, schemaVersion: schemaVersion, data: data.utf8)
    }

    /// An event's data as the payload `expected`; throws ``EventCatalogueError/unexpectedType(expected:found:)``
    /// when `type` names another one.
    package func decode<E: DomainEvent>(
        _ expected: E.Type,
        type: String,
        schemaVersion: Int,
        data: some Collection<UInt8>
    ) throws -> E {
        let event = try decode(type: type, schemaVersion: schemaVersion, data: data)
        guard let typed = event as? E else {
            throw EventCatalogueError.unexpectedType(expected: "\(E.self)", found: type)
        }
        return typed
    }

    /// Data of the named type `E` (at its current version unless told otherwise) as an `E`.
    package func decode<E: NamedDomainEvent>(
        _ expected: E.Type,
        schemaVersion: Int = E.schemaVersion,
        from data: some Collection<UInt8>
    ) throws -> E {
        try decode(expected, type: E.type, schemaVersion: schemaVersion, data: data)
    }

    /// Data of the named type `E`, given as JSON text (at its current version unless told otherwise).
    package func decode<E: NamedDomainEvent>(
        _ expected: E.Type,
        schemaVersion: Int = E.schemaVersion,
        from data: String
    ) throws -> E {
        try decode(expected, type: E.type, schemaVersion: schemaVersion, data: data.utf8)
    }

    /// `decode(type:schemaVersion:data:)` with the hub's own upcasters.
    package static func decode(type: String, schemaVersion: Int, data: some Collection<UInt8>) throws -> any DomainEvent
    {
        try standard.decode(type: type, schemaVersion: schemaVersion, data: data)
    }

    /// `decode(type:schemaVersion:data:)` with the hub's own upcasters.
    package static func decode(type: String, schemaVersion: Int, data: String) throws -> any DomainEvent {
        try standard.decode(type: type, schemaVersion: schemaVersion, data: data.utf8)
    }

    /// Data of the named type `E` as an `E`, with the hub's own upcasters.
    package static func decode<E: NamedDomainEvent>(
        _ expected: E.Type,
        schemaVersion: Int = E.schemaVersion,
        from data: String
    ) throws -> E {
        try standard.decode(expected, schemaVersion: schemaVersion, from: data)
    }

    // MARK: - Writing

    /// What an append needs of an event: its type name, schema version and data.
    package struct EncodedEvent: Sendable, Equatable {
        package var type: String
        package var schemaVersion: Int
        /// Compact JSON text, keys sorted, `/` not escaped.
        package var data: String

        package init(type: String, schemaVersion: Int, data: String) {
            self.type = type
            self.schemaVersion = schemaVersion
            self.data = data
        }
    }

    /// The event's data as the log stores it: compact JSON with sorted keys, slashes not escaped (the
    /// text ``JSONValue/text`` writes for the same value). An ``UnknownEvent`` is written as it was read.
    ///
    /// - Throws: only if a payload's `encode(to:)` does; the catalogue's own payloads do not.
    package static func encode(_ event: some DomainEvent) throws -> String {
        try event.encodedData()
    }

    /// The Codable encoding, which ``DirectlyWrittenEvent`` payloads must equal byte for byte.
    package static func encodeWithCodable(_ event: some DomainEvent) throws -> String {
        String(decoding: try encoder.encode(event), as: UTF8.self)
    }

    /// A part of an event's data as the log writes it (``JSONValue/text`` of the same value).
    package static func text(of value: some Encodable) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Type name, schema version and data of an event, ready for an append.
    package static func encoded(_ event: some DomainEvent) throws -> EncodedEvent {
        EncodedEvent(type: event.eventType, schemaVersion: event.eventSchemaVersion, data: try encode(event))
    }

    // MARK: - Support

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    private static let decoder = JSONDecoder()

    private static func invalid(_ type: String, _ version: Int, _ reason: String) -> EventCatalogueError {
        .invalidData(type: type, schemaVersion: version, reason: reason)
    }

    private static func reason(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let path = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
            return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = context.codingPath.map(\.stringValue).joined(separator: ".")
            return "no `\(parent.isEmpty ? key.stringValue : parent + "." + key.stringValue)`"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return path(context)
        @unknown default:
            return "\(error)"
        }
    }
}
