package import HubDomain
@_spi(Storage) import HubEventLog
package import HubSQLite
import HubVault
import Synchronization

/// An account's routing as resolved from the configuration projection, with the configuration
/// resources (and their log positions) it was resolved from, for `message.routed`.
package struct ResolvedAccount: Sendable {
    package var id: String
    package var address: String
    package var active: Bool
    package var routing: AccountRouting
    /// `(kind, id, position)` of the account, its channel, orchestration, client applications and participants.
    package var sources: [(kind: ResourceKind, id: String, position: Int64)]

    /// The configuration `message.routed` records, made once when the account is resolved.
    package var configuration: MessageRouted.Configuration
    /// The recipients its routing plan names, as `routing.configured` records them.
    package var recipients: [MessageRouted.Delivery]
    /// ``recipients`` as `routing_configurations` keeps them (``RoutingProjection``).
    package var recipientsText: String

    package init(
        id: String,
        address: String,
        active: Bool,
        routing: AccountRouting,
        sources: [(kind: ResourceKind, id: String, position: Int64)]
    ) {
        self.id = id
        self.address = address
        self.active = active
        self.routing = routing
        self.sources = sources
        self.configuration = Self.configuration(sources)
        self.recipients = routing.plan.recipients.map { MessageRouted.Delivery(id: "", to: $0) }
        self.recipientsText = RoutingProjection.text(of: recipients)
    }

    package static func configuration(
        _ sources: [(kind: ResourceKind, id: String, position: Int64)]
    ) -> MessageRouted.Configuration {
        func source(_ kind: ResourceKind) -> MessageRouted.Source? {
            sources.first { $0.kind == kind }.map { .init(id: $0.id, position: $0.position) }
        }
        let participants = sources.filter { $0.kind == .participant }.map {
            MessageRouted.Source(id: $0.id, position: $0.position)
        }
        return MessageRouted.Configuration(
            account: source(.account) ?? .init(id: "", position: 0),
            channel: source(.channel) ?? .init(id: "", position: 0),
            orchestration: source(.orchestration),
            clientApplications: sources.filter { $0.kind == .clientApplication }.map {
                .init(id: $0.id, position: $0.position)
            },
            participants: participants.isEmpty ? nil : participants
        )
    }
}

/// The configuration's generation as the writer's batches left it (the last `config_history` row's
/// position and its event's id, as ``AccountDirectory`` compares them), kept across batches
/// (``ProjectionContext/carriedState(_:)``): the configuration projection sets it with every row it adds,
/// so the writer does not read it with every message. `nil` until read or set.
package final class ConfigurationGeneration {
    package var text: String?

    package init() {}
}

/// Resolves accounts for message intake, inside the writer's transaction, from the configuration
/// projection. Resolutions are cached until the configuration changes (any new `config_history`
/// row), so a busy account costs one indexed lookup per message, not six JSON parses.
package final class AccountDirectory: Sendable {
    package init() {}

    private struct Cache {
        /// The last configuration event's position and id (see ``refresh(_:)``).
        var generation = ""
        var byId: [String: ResolvedAccount] = [:]
        var byRoute: [String: String] = [:]
    }

    private let cache = Mutex(Cache())

    /// The active account a customer's first message addresses: channel type + account address.
    /// `generation`: the writer's carried configuration generation, when it has one (see ``refresh(_:_:)``).
    package func account(
        channelType: String,
        address: String,
        _ connection: Connection,
        generation: ConfigurationGeneration? = nil
    ) throws -> ResolvedAccount? {
        let route = channelType + "\u{1}" + address
        try refresh(connection, generation)
        if let id = cache.withLock({ $0.byRoute[route] }) { return try account(id: id, connection, refreshed: true) }
        guard
            let id = try connection.singleText(
                sql: """
                    SELECT a.id FROM config_resources a JOIN config_resources c ON c.kind = 'channel'
                        AND c.id = json_extract(a.state, '$.channel.id')
                    WHERE a.kind = 'account' AND json_extract(a.state, '$.address') = ?
                        AND json_extract(a.state, '$.active') IS NOT 0 AND json_extract(c.state, '$.type') = ?
                    LIMIT 1
                    """,
                [address, channelType]
            )
        else { return nil }
        cache.withLock { $0.byRoute[route] = id }
        return try account(id: id, connection, refreshed: true)
    }

    /// An account by id, resolved with everything its orchestration names; `nil` when it was deleted.
    package func account(
        id: String,
        _ connection: Connection,
        refreshed: Bool = false,
        generation: ConfigurationGeneration? = nil
    ) throws -> ResolvedAccount? {
        if !refreshed { try refresh(connection, generation) }
        if let cached = cache.withLock({ $0.byId[id] }) { return cached }
        guard let resolved = try resolve(id: id, connection) else { return nil }
        cache.withLock { $0.byId[id] = resolved }
        return resolved
    }

    /// Drops every resolution when the configuration has changed since they were made.
    ///
    /// Resolutions are made inside the writer's transaction, from configuration that may still be
    /// rolled back (a failed command, a batch that did not commit), and a position left free by a
    /// rollback is taken again by the next event. So the generation is the last configuration event's
    /// position *and id*: an id is never reused, so a resolution made from a change that did not
    /// commit can never be taken for one made from the change that took its position.
    ///
    /// In the writer, `carried` is the generation as the configuration projection last left it, kept
    /// across batches (``ConfigurationGeneration``): read from the tables only when it has none.
    private func refresh(_ connection: Connection, _ carried: ConfigurationGeneration?) throws {
        let generation: String
        if let known = carried?.text {
            generation = known
        } else {
            generation =
                try connection.singleText(
                    sql: """
                        SELECT h.position || ':' || r.id FROM config_history h
                        JOIN event_records r ON r.position = h.position
                        ORDER BY h.position DESC LIMIT 1
                        """
                ) ?? "0"
            carried?.text = generation
        }
        cache.withLock { cache in
            if cache.generation != generation { cache = Cache(generation: generation) }
        }
    }

    private func resolve(id: String, _ connection: Connection) throws -> ResolvedAccount? {
        var sources: [(kind: ResourceKind, id: String, position: Int64)] = []
        func load(_ kind: ResourceKind, _ id: String?) throws -> JSONValue? {
            guard let id, let row = try ConfigurationRows.row(kind, id: id, connection) else { return nil }
            if !sources.contains(where: { $0.kind == kind && $0.id == id }) {
                sources.append((kind, id, try position(kind, id, connection)))
            }
            return row.state
        }
        guard let account = try load(.account, id),
            let channel = try load(.channel, account.value(at: "channel.id")?.stringValue)
        else { return nil }
        let orchestration = try load(
            .orchestration,
            account.value(at: "chatConfigurations.orchestration.id")?.stringValue
        )
        let configured = orchestration?["applications"] ?? .null
        var applications: [String: JSONValue] = [:]
        for path in [
            "botConfiguration.bots[].id", "botConfiguration.bots[].onEscalation.agent.id",
            "agentConfiguration.agents[].id", "customerConfiguration.customer.id",
        ] {
            for appId in configured.strings(at: path) where applications[appId] == nil {
                if let app = try load(.clientApplication, appId), app["active"] != .bool(false) {
                    applications[appId] = app
                }
            }
        }
        var participants: [String: JSONValue] = [:]
        for participantId in configured.strings(at: "botConfiguration.bots[].participant.id") {
            if let participant = try load(.participant, participantId) { participants[participantId] = participant }
        }
        return ResolvedAccount(
            id: id,
            address: account["address"]?.stringValue ?? "",
            active: account["active"] != .bool(false),
            routing: AccountRouting.resolve(
                account: account,
                channel: channel,
                orchestration: orchestration,
                applications: applications,
                participants: participants
            ),
            sources: sources
        )
    }

    private func position(_ kind: ResourceKind, _ id: String, _ connection: Connection) throws -> Int64 {
        try connection.singleInt64(
            sql: "SELECT position FROM config_resources WHERE kind = ? AND id = ?",
            [kind.rawValue, id]
        ) ?? 0
    }
}
