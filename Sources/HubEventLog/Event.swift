package import HubDomain

/// An event to append: what happened, before the log gives it a position, version, id and hash.
public struct EventDraft: Sendable, Equatable {
    /// Dotted event type, e.g. `message.received`.
    public var type: String
    /// The event's data as JSON text. Stored byte for byte; the hash covers these bytes.
    public var data: String
    /// The version of this type's data schema (readers upcast older versions).
    public var schemaVersion: Int
    /// The account the event belongs to, when it belongs to one.
    public var account: String?
    /// Who caused the event: a client id, an app id, or `system`.
    public var actor: String
    public var correlationId: String?
    public var causationId: String?
    /// The typed payload `data` was encoded from (``init(_:account:actor:correlationId:causationId:)``),
    /// handed to the projections with the appended event so they need not decode what was just encoded.
    package var typedPayload: (any DomainEvent)?

    public init(
        type: String,
        data: String,
        schemaVersion: Int = 1,
        account: String? = nil,
        actor: String = "system",
        correlationId: String? = nil,
        causationId: String? = nil
    ) {
        self.type = type
        self.data = data
        self.schemaVersion = schemaVersion
        self.account = account
        self.actor = actor
        self.correlationId = correlationId
        self.causationId = causationId
    }

    /// Equal when everything that is appended is equal (``typedPayload`` is `data`, typed).
    public static func == (left: EventDraft, right: EventDraft) -> Bool {
        (left.type, left.data, left.schemaVersion, left.account, left.actor)
            == (right.type, right.data, right.schemaVersion, right.account, right.actor)
            && (left.correlationId, left.causationId) == (right.correlationId, right.causationId)
    }
}

/// An event as the log holds it.
public struct RecordedEvent: Sendable, Equatable {
    /// Global position: 1, 2, 3, ... with no gaps.
    public var position: Int64
    /// UUIDv7 (time-ordered), or UUIDv5 derived from an idempotency key; lowercase text.
    public var id: String
    /// `kind/id`, e.g. `conversation/5f0c…`.
    public var stream: String
    /// 1, 2, 3, ... within the stream.
    public var version: Int64
    public var type: String
    public var schemaVersion: Int
    /// Milliseconds since 1970 UTC.
    public var recordedAt: Int64
    public var account: String?
    public var actor: String
    public var correlationId: String?
    public var causationId: String?
    public var data: String
    /// SHA-256 over the previous event's hash and this event's canonical bytes (``EventHash``).
    public var hash: [UInt8]
    /// The typed payload its producer appended, while the event is applied inline; `nil` for an event
    /// read from the log (its data is decoded then).
    package var typedPayload: (any DomainEvent)?

    public init(
        position: Int64,
        id: String,
        stream: String,
        version: Int64,
        type: String,
        schemaVersion: Int,
        recordedAt: Int64,
        account: String?,
        actor: String,
        correlationId: String?,
        causationId: String?,
        data: String,
        hash: [UInt8]
    ) {
        self.position = position
        self.id = id
        self.stream = stream
        self.version = version
        self.type = type
        self.schemaVersion = schemaVersion
        self.recordedAt = recordedAt
        self.account = account
        self.actor = actor
        self.correlationId = correlationId
        self.causationId = causationId
        self.data = data
        self.hash = hash
    }

    /// Equal when the logged fields are equal (``typedPayload`` is `data`, typed).
    public static func == (left: RecordedEvent, right: RecordedEvent) -> Bool {
        (left.position, left.id, left.stream, left.version, left.type, left.schemaVersion)
            == (right.position, right.id, right.stream, right.version, right.type, right.schemaVersion)
            && (left.recordedAt, left.account, left.actor, left.correlationId, left.causationId)
                == (right.recordedAt, right.account, right.actor, right.correlationId, right.causationId)
            && (left.data, left.hash) == (right.data, right.hash)
    }
}

/// The stream version an append expects to find (optimistic concurrency).
public enum ExpectedVersion: Sendable, Equatable, CustomStringConvertible {
    /// Append whatever the stream's version is.
    case any
    /// The stream must not exist yet.
    case noStream
    /// The stream's last version must be exactly this (1 or more).
    case exact(Int64)

    public var description: String {
        switch self {
        case .any: "any"
        case .noStream: "no stream"
        case .exact(let version): "version \(version)"
        }
    }
}

/// What an append wrote, or, for a retried idempotent append, what the first attempt wrote.
public struct AppendResult: Sendable, Equatable {
    public var stream: String
    /// The events' ids, positions and versions, in append order.
    public var eventIds: [String]
    public var positions: [Int64]
    public var versions: [Int64]
    /// True when the idempotency key had been used: nothing was appended now.
    public var isReplay: Bool

    public init(stream: String, eventIds: [String], positions: [Int64], versions: [Int64], isReplay: Bool) {
        self.stream = stream
        self.eventIds = eventIds
        self.positions = positions
        self.versions = versions
        self.isReplay = isReplay
    }

    /// The stream's version after the append (0 when nothing was appended).
    public var lastVersion: Int64 { versions.last ?? 0 }
}

/// Which events a read of the whole log returns.
public struct EventFilter: Sendable, Hashable {
    /// Only these types (all when empty).
    public var types: [String]
    /// Only streams that start with this prefix, e.g. `conversation/`.
    public var streamPrefix: String?
    /// Only this stream.
    public var stream: String?
    /// Only events of this account.
    public var account: String?
    /// Only events recorded at or after this time (milliseconds since 1970).
    public var recordedFrom: Int64?
    /// Only events recorded at or before this time.
    public var recordedTo: Int64?

    public init(
        types: [String] = [],
        streamPrefix: String? = nil,
        stream: String? = nil,
        account: String? = nil,
        recordedFrom: Int64? = nil,
        recordedTo: Int64? = nil
    ) {
        self.types = types
        self.streamPrefix = streamPrefix
        self.stream = stream
        self.account = account
        self.recordedFrom = recordedFrom
        self.recordedTo = recordedTo
    }

    /// Whether the filter lets every event through.
    public var isEmpty: Bool {
        types.isEmpty && streamPrefix == nil && stream == nil && account == nil && recordedFrom == nil
            && recordedTo == nil
    }
}
