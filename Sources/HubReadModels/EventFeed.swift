import HubDomain
@_spi(Storage) public import HubEventLog
import HubSQLite
public import HubVault

/// The event feed (DESIGN.md §3, §5): the log in its export form, page by page and live.
///
/// Sealed values stay sealed, unless the reader may see content: then a message's content and a
/// customer's identity are opened, except those whose key was destroyed (erased). An opened event's
/// `data` is a view for the reader: the hash covers the stored, sealed bytes.
public struct EventFeed: Sendable {
    public let store: EventStore
    /// Needed only to open content.
    let vault: SecretVault?

    public init(store: EventStore, vault: SecretVault?) {
        self.store = store
        self.vault = vault
    }

    /// A page of the feed.
    public struct Page: Sendable {
        public var events: [RecordedEvent]
        /// How far the log has been read: the next page starts after it, even when the filter left
        /// the events before it out.
        public var scanned: Int64
        /// The log's last position when the page was read.
        public var head: Int64
    }

    /// The events after `position` that pass the filter, at most `limit`, from one snapshot.
    /// With `through` (a committed position), only up to it: the same page for every reader.
    public func page(
        after position: Int64,
        through: Int64? = nil,
        filter: EventFilter,
        limit: Int,
        openContent: Bool
    ) async throws -> Page {
        try await store.pool.read { connection in
            let head = try through ?? connection.singleInt64(sql: "SELECT coalesce(max(position), 0) FROM events") ?? 0
            var events = try EventLog.readAll(after: position, through: head, filter: filter, limit: limit, connection)
            if openContent, let vault { events = try events.map { try Self.opened($0, vault, connection) } }
            let scanned = events.count == limit ? events.last!.position : head
            return Page(events: events, scanned: max(scanned, position), head: head)
        }
    }

    /// The event with its message content and customer identity opened, where the key is kept.
    static func opened(_ event: RecordedEvent, _ vault: SecretVault, _ connection: Connection) throws -> RecordedEvent {
        let types = [MessageReceived.type, MessageOriginated.type, ConversationStarted.type]
        guard types.contains(event.type) else { return event }
        let sealedPaths: [(path: String, record: String)]
        var data = try JSONValue.parse(event.data)
        switch event.type {
        case MessageReceived.type, MessageOriginated.type:
            guard let id = data["id"]?.stringValue else { return event }
            var paths = [("content", "message/\(id)")]
            if case .string? = data.value(at: "sender.participant"),
                let conversation = data["conversation"]?.stringValue
                    ?? MessageReceived.conversation(ofStream: event.stream),
                let customer = try customer(of: conversation, connection)
            {
                paths.append(("sender.participant", "customer/\(customer)"))
            }
            sealedPaths = paths
        case ConversationStarted.type:
            guard let customer = data.value(at: "customer.id")?.stringValue else { return event }
            sealedPaths = [("customer.identity", "customer/\(customer)")]
        default:
            return event
        }
        for (path, record) in sealedPaths {
            data = try data.mappingStrings(at: [path]) { sealed, _ in
                guard SecretVault.isSealed(sealed),
                    let text = try vault.openIfKept(sealed, record: record, connection)
                else { return .string(sealed) }
                return (try? JSONValue.parse(text)) ?? .string(text)
            }
        }
        var result = event
        result.data = data.text
        return result
    }

    private static func customer(of conversation: String, _ connection: Connection) throws -> String? {
        let statement = try connection.cachedStatement(sql: "SELECT customer FROM conversations WHERE id = ?")
        defer { statement.reset() }
        try statement.bind(conversation, at: 1)
        return try statement.step() ? statement.text(at: 0) : nil
    }
}
