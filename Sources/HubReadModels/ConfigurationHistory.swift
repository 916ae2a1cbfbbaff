public import HubDomain
@_spi(Storage) public import HubEventLog
package import HubSQLite
import HubVault

/// Past configuration: every version of a resource, and an account resolved as it stood at a
/// position or a time (DESIGN.md §4) — each one indexed lookup in `config_history`.
public struct ConfigurationHistory: Sendable {
    public let store: EventStore

    public init(store: EventStore) {
        self.store = store
    }

    /// A moment: a log position, or a time (ms since 1970 UTC).
    public enum Moment: Sendable, Equatable {
        case position(Int64)
        case time(Int64)
        case now
    }

    /// One version of a resource.
    public struct Version: Sendable, Equatable {
        public var position: Int64
        public var recordedAt: Int64
        public var actor: String
        public var change: String
        /// Dotted paths whose value differs from the previous version (all of them for a creation).
        public var changedFields: [String]
        /// The state after the change (secrets masked); `nil` after a deletion.
        public var state: JSONValue?
    }

    /// Every version of one resource, oldest first.
    public func versions(_ kind: ResourceKind, id: String) async throws -> [Version] {
        try await store.pool.read { connection in
            let statement = try connection.prepare(
                sql: """
                    SELECT position, recorded_at, actor, change, state FROM config_history
                    WHERE kind = ? AND id = ? ORDER BY position
                    """
            )
            try statement.bind([kind.rawValue, id])
            var versions: [Version] = []
            var previous: JSONValue?
            while try statement.step() {
                let state = try statement.optionalText(at: 4).map(ConfigurationRows.parse)
                versions.append(
                    Version(
                        position: statement.int64(at: 0),
                        recordedAt: statement.int64(at: 1),
                        actor: statement.text(at: 2),
                        change: statement.text(at: 3),
                        changedFields: Self.changedPaths(from: previous ?? .object([:]), to: state),
                        state: state.map { ConfigurationRows.masked(kind, $0) }
                    )
                )
                previous = state
            }
            return versions
        }
    }

    /// The state of one resource at a moment (secrets masked), `nil` if it did not exist then.
    package func state(
        _ kind: ResourceKind,
        id: String,
        at moment: Moment,
        _ connection: Connection
    ) throws -> JSONValue? {
        let condition: String
        var arguments: [any SQLiteBindable] = [kind.rawValue, id]
        switch moment {
        case .position(let position):
            condition = "AND position <= ?"
            arguments.append(position)
        case .time(let milliseconds):
            condition = "AND recorded_at <= ?"
            arguments.append(milliseconds)
        case .now:
            condition = ""
        }
        let text = try connection.singleText(
            sql:
                "SELECT coalesce(state, '') FROM config_history WHERE kind = ? AND id = ? \(condition) ORDER BY position DESC LIMIT 1",
            arguments
        )
        guard let text, !text.isEmpty else { return nil }
        return ConfigurationRows.masked(kind, try ConfigurationRows.parse(text))
    }

    /// The account with everything it routes through, as it stood at `moment`: its channel, its
    /// orchestration, the bots (client application, participant, escalation agent), agents and
    /// customer application, and the authentications those applications use. `nil` if the account
    /// did not exist then.
    public func account(_ id: String, at moment: Moment) async throws -> JSONValue? {
        try await store.pool.read { connection in
            let resolve = { (kind: ResourceKind, id: String?) throws -> JSONValue in
                guard let id else { return .null }
                return try self.state(kind, id: id, at: moment, connection) ?? .null
            }
            guard let account = try state(.account, id: id, at: moment, connection) else { return nil }
            let channel = try resolve(.channel, account.value(at: "channel.id")?.stringValue)
            let orchestration = try resolve(
                .orchestration,
                account.value(at: "chatConfigurations.orchestration.id")?.stringValue
            )
            var applicationIds: [String] = []
            let bots = try (orchestration.value(at: "applications.botConfiguration")?["bots"]?.arrayValue ?? []).map {
                bot in
                let application = bot["id"]?.stringValue
                let agent = bot.value(at: "onEscalation.agent.id")?.stringValue
                applicationIds += [application, agent].compactMap { $0 }
                return JSONValue.object([
                    "clientApplication": try resolve(.clientApplication, application),
                    "participant": try resolve(.participant, bot.value(at: "participant.id")?.stringValue),
                    "escalationAgent": try resolve(.clientApplication, agent),
                ])
            }
            let agents = try (orchestration.value(at: "applications.agentConfiguration")?["agents"]?.arrayValue ?? [])
                .map {
                    agent in
                    applicationIds += [agent["id"]?.stringValue].compactMap { $0 }
                    return try resolve(.clientApplication, agent["id"]?.stringValue)
                }
            let customerId = orchestration.value(at: "applications.customerConfiguration.customer.id")?.stringValue
            applicationIds += [customerId].compactMap { $0 }
            var authentications: [JSONValue] = []
            var seen = Set<String>()
            for applicationId in applicationIds {
                let application = try resolve(.clientApplication, applicationId)
                for authentication in application.strings(at: "roles[].authentication.id")
                where seen.insert(authentication).inserted {
                    authentications.append(try resolve(.authentication, authentication))
                }
            }
            return .object([
                "account": account, "channel": channel, "orchestration": orchestration, "bots": .array(bots),
                "agents": .array(agents), "customer": try resolve(.clientApplication, customerId),
                "authentications": .array(authentications),
            ])
        }
    }

    /// Leaf paths that differ between two states (`modified` left out: it changes every time).
    package static func changedPaths(from old: JSONValue?, to new: JSONValue?) -> [String] {
        var paths: [String] = []
        func walk(_ old: JSONValue?, _ new: JSONValue?, _ path: String) {
            switch (old, new) {
            case (.object(let a)?, .object(let b)?):
                for key in Set(a.keys).union(b.keys).sorted() where !(path.isEmpty && key == "modified") {
                    walk(a[key], b[key], path.isEmpty ? key : path + "." + key)
                }
            case (.array(let a)?, .array(let b)?) where a.count == b.count:
                for index in a.indices { walk(a[index], b[index], "\(path)[\(index)]") }
            default:
                if old != new, !path.isEmpty { paths.append(path) }
            }
        }
        walk(old, new, "")
        return paths
    }
}
