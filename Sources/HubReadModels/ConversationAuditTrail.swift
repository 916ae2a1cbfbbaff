public import HubDomain
@_spi(Storage) public import HubEventLog
import HubSQLite
public import HubVault

/// A conversation's audit trail (`GET /v1/conversations/{id}/history`): every event of its stream in
/// order, and per message its delivery attempts and the configuration versions it was routed under,
/// with the log's head so that `hubstore verify` can be run up to it. One read transaction.
public struct ConversationAuditTrail: Sendable {
    public let store: EventStore
    let vault: SecretVault?

    public init(store: EventStore, vault: SecretVault?) {
        self.store = store
        self.vault = vault
    }

    /// The trail as JSON; `nil` when there is no such conversation.
    public func trail(_ id: String, openContent: Bool) async throws -> JSONValue? {
        try await store.pool.read { connection -> JSONValue? in
            guard let row = try ConversationProjection.conversation(id, connection) else { return nil }
            var events = try EventLog.readStream("conversation/\(id)", fromVersion: 1, limit: .max, connection)
            // Each message's routing: its `message.routed`, or the routing its `message.received` carries.
            let routings = try events.flatMap { try $0.withImpliedEvents() }.filter { $0.type == MessageRouted.type }
            if openContent, let vault { events = try events.map { try EventFeed.opened($0, vault, connection) } }
            let deliveries = try deliveryEvents(
                of: id,
                messages: Set(try routings.map { try $0.payload(MessageRouted.self).message }),
                connection
            )
            // Each message's `message.received` or `message.originated`, by the message's id.
            var origins: [String: (RecordedEvent, JSONValue)] = [:]
            for event in events where event.type == MessageReceived.type || event.type == MessageOriginated.type {
                let data = try JSONValue.parse(event.data)
                if let id = data["id"]?.stringValue { origins[id] = (event, data) }
            }
            var messages: [JSONValue] = []
            var times: [Int64: Int64] = [:]
            for event in routings {
                var routed = try event.payload(MessageRouted.self)
                // Version 2 names the configuration by generation, recorded once for the account.
                if routed.configuration == nil, let generation = routed.configurationGeneration {
                    routed.configuration = try RoutingProjection.configuration(
                        account: row.account,
                        generation: generation,
                        connection
                    )
                }
                guard let sources = routed.configuration else {
                    throw event.missing("a recorded configuration for its configurationGeneration")
                }
                let positions =
                    [sources.account.position, sources.channel.position]
                    + [sources.orchestration?.position].compactMap { $0 } + sources.clientApplications.map(\.position)
                    + (sources.participants ?? []).map(\.position)
                try recordedTimes(positions, into: &times, connection)
                messages.append(message(routed, routedAt: event, origins, deliveries[routed.message] ?? [], times))
            }
            let (head, hash) = try Self.head(connection)
            return .object([
                "conversation": row.summaryJSON,
                "head": .object(["position": .integer(head), "hash": .string(hash)]),
                "events": .array(try events.map { try JSONValue.parse($0.exportForm) }),
                "messages": .array(messages),
            ])
        }
    }

    /// One message: what came in (or what the hub sent), its routing and configuration, its deliveries.
    private func message(
        _ routed: MessageRouted,
        routedAt event: RecordedEvent,
        _ origins: [String: (RecordedEvent, JSONValue)],
        _ attempts: [JSONValue],
        _ times: [Int64: Int64]
    ) -> JSONValue {
        func source(_ source: MessageRouted.Source) -> JSONValue {
            var fields: [String: JSONValue] = ["id": .string(source.id), "position": .integer(source.position)]
            if let time = times[source.position] { fields["recordedAt"] = .string(Timestamp.format(time)) }
            return .object(fields)
        }
        guard let configuration = routed.configuration else { return .null }
        var sources: [String: JSONValue] = [
            "account": source(configuration.account), "channel": source(configuration.channel),
            "clientApplications": .array(configuration.clientApplications.map(source)),
        ]
        if let orchestration = configuration.orchestration { sources["orchestration"] = source(orchestration) }
        if let participants = configuration.participants { sources["participants"] = .array(participants.map(source)) }
        var fields: [String: JSONValue] = [
            "id": .string(routed.message), "seq": .integer(routed.seq), "state": .string(routed.state),
            "routed": .object([
                "position": .integer(event.position), "recordedAt": .string(Timestamp.format(event.recordedAt)),
            ]),
            "configuration": .object(sources),
            "recipients": .array(
                routed.deliveries.map { .object(["type": .string($0.type), "delivery": .string($0.id)]) }
            ),
            "deliveries": .array(attempts),
        ]
        // What the message was: the event that brought it in, before its routing.
        if let (origin, data) = origins[routed.message] {
            fields["messageId"] = data["messageId"]
            fields["type"] = data["type"]
            fields["sender"] = .object(["type": data.value(at: "sender.type") ?? .null])
            fields["received"] = .object([
                "position": .integer(origin.position), "recordedAt": .string(Timestamp.format(origin.recordedAt)),
            ])
        }
        return .object(fields)
    }

    /// Every delivery attempt of the conversation's messages, by message id, in log order. The calls'
    /// streams are named by their request ids: the outbox keeps them for pending deliveries; for
    /// finished ones, the transcript's message rows keep the positions of the events that finished them.
    private func deliveryEvents(
        of conversation: String,
        messages: Set<String>,
        _ connection: Connection
    ) throws -> [String: [JSONValue]] {
        var positions: [JSONValue] = []
        let finished = try connection.prepare(
            sql: """
                SELECT outcomes FROM messages WHERE \(ConversationProjection.ofConversation()) AND outcomes IS NOT NULL
                """
        )
        try finished.bind([conversation])
        while try finished.step() {
            for position in finished.text(at: 0).split(separator: " ") {
                if let position = Int64(position) { positions.append(.integer(position)) }
            }
        }
        let statement = try connection.prepare(
            sql: """
                SELECT \(EventLog.columns) FROM events WHERE stream IN (
                    SELECT stream FROM events WHERE position IN (SELECT value FROM json_each(?2))
                    UNION SELECT 'delivery/' || request FROM deliveries WHERE conversation = ?1 AND request IS NOT NULL
                    UNION SELECT 'delivery/' || id FROM deliveries WHERE conversation = ?1
                ) ORDER BY position
                """
        )
        try statement.bind([conversation, JSONValue.array(positions).text])
        var attempts: [String: [JSONValue]] = [:]
        while try statement.step() {
            let event = EventLog.decode(statement)
            guard let outcome = event.type.split(separator: ".").last, event.type.hasPrefix("delivery.") else {
                continue
            }
            guard let call = try event.payload() as? any DeliveryOutcomeEvent else { continue }
            let data = try JSONValue.parse(event.data)
            // A call carries other conversations' messages too.
            for item in call.deliveries where messages.contains(item.message) {
                var fields: [String: JSONValue] = [
                    "delivery": .string(item.delivery), "outcome": .string(String(outcome)),
                    "attempt": data["attempt"] ?? .null, "status": data["status"] ?? .null,
                    "latencyMs": data["latencyMs"] ?? .null, "role": data["role"] ?? .null,
                    "application": data["application"] ?? .null, "request": data["request"] ?? .null,
                    "position": .integer(event.position), "recordedAt": .string(Timestamp.format(event.recordedAt)),
                ]
                if let error = data["error"] { fields["error"] = error }
                attempts[item.message, default: []].append(.object(fields))
            }
        }
        return attempts
    }

    private func recordedTimes(_ positions: [Int64], into times: inout [Int64: Int64], _ connection: Connection) throws
    {
        let statement = try connection.cachedStatement(sql: "SELECT recorded_at FROM events WHERE position = ?")
        for position in positions where times[position] == nil {
            statement.reset()
            try statement.bind(position, at: 1)
            if try statement.step() { times[position] = statement.int64(at: 0) }
        }
        statement.reset()
    }

    /// The log's last position and its hash (hex).
    static func head(_ connection: Connection) throws -> (Int64, String) {
        let statement = try connection.prepare(sql: "SELECT position, hash FROM events ORDER BY position DESC LIMIT 1")
        guard try statement.step() else { return (0, "") }
        return (statement.int64(at: 0), statement.blob(at: 1).hexEncoded)
    }
}
