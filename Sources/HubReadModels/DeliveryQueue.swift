import Foundation
import HubDomain
@_spi(Storage) public import HubEventLog
import HubSQLite
public import HubVault
import Synchronization

/// The outbox as the delivery workers read it (``OutboxProjection``'s `deliveries`): what is due, in
/// lane order, and the callback each delivery goes to, with its secrets opened.
public struct DeliveryQueue: Sendable {
    public let store: EventStore
    package let vault: SecretVault
    private let endpoints = EndpointCache()

    public init(store: EventStore, vault: SecretVault) {
        self.store = store
        self.vault = vault
    }

    /// Pending deliveries due by `now` that head their lane (nothing earlier of the lane pending),
    /// soonest first, skipping the lanes given; each with its callback item rebuilt from the message
    /// row unless the outbox keeps its body. With them, in the same read, when the next pending
    /// delivery falls due (ms since 1970; `nil` when none is pending).
    public func due(
        now: Int64,
        limit: Int,
        excludingLanes busy: Set<String>
    ) async throws -> (deliveries: [PendingDelivery], nextDue: Int64?) {
        try await store.pool.read { connection in
            // The configuration as this read sees it: endpoints cached under an older one are dropped,
            // so the calls made from these deliveries use callbacks no older than the deliveries.
            endpoints.observe(generation: try Self.configurationGeneration(connection))
            return (
                try Self.due(now: now, limit: limit, excludingLanes: busy, connection), try Self.nextDue(connection)
            )
        }
    }

    private static func due(
        now: Int64,
        limit: Int,
        excludingLanes busy: Set<String>,
        _ connection: Connection
    ) throws -> [PendingDelivery] {
        // A busy lane's head is the delivery in flight, among the oldest due: its lane is ruled out by
        // the uncorrelated `NOT IN`, which SQLite tests before the correlated `NOT EXISTS`, so a read
        // costs a lookup per delivery in flight, not a lane check and a row.
        let statement = try connection.cachedStatement(
            sql: """
                SELECT d.id, d.conversation, d.message, d.application, d.role, d.payload, d.attempts, d.request
                FROM deliveries d
                WHERE d.next_attempt_at <= ?1
                    AND d.conversation || '|' || d.application || '|' || d.role
                        NOT IN (SELECT value FROM json_each(?3))
                    AND NOT EXISTS (SELECT 1 FROM deliveries e
                        WHERE e.conversation = d.conversation AND e.application = d.application
                        AND e.role = d.role AND e.seq < d.seq)
                ORDER BY d.next_attempt_at LIMIT ?2
                """
        )
        defer { statement.reset() }
        try statement.bind([now, limit, JSONValue.array(busy.map(JSONValue.string)).text])
        var found: [PendingDelivery] = []
        while try statement.step() {
            found.append(
                PendingDelivery(
                    id: statement.text(at: 0),
                    conversation: statement.text(at: 1),
                    message: statement.text(at: 2),
                    application: statement.text(at: 3),
                    role: statement.text(at: 4),
                    storedPayload: statement.optionalText(at: 5),
                    account: nil,
                    attempts: Int(statement.int64(at: 6)),
                    request: statement.optionalText(at: 7)
                )
            )
        }
        statement.reset()
        // The body of most callbacks is the message row as it stands (spec §5.3), spliced from the
        // row's JSON text.
        var conversations: [String: (account: String, json: String)?] = [:]
        let conversationRow = try connection.cachedStatement(
            sql: "SELECT \(ConversationRow.callbackColumns) FROM conversations WHERE id = ?"
        )
        defer { conversationRow.reset() }
        let message = try connection.cachedStatement(
            sql: "SELECT \(ConversationProjection.callbackColumns) FROM messages WHERE id = ?"
        )
        defer { message.reset() }
        return try found.map { delivery in
            var delivery = delivery
            let conversation: (account: String, json: String)?
            if let cached = conversations[delivery.conversation] {
                conversation = cached
            } else {
                conversationRow.reset()
                try conversationRow.bind([delivery.conversation])
                conversation =
                    try conversationRow.step()
                    ? (conversationRow.text(at: 1), ConversationRow.callbackText(conversationRow)) : nil
                conversations[delivery.conversation] = conversation
            }
            delivery.account = conversation?.account
            if delivery.storedPayload == nil, let conversation {
                message.reset()
                try message.bind([delivery.message])
                if try message.step() {
                    delivery.item = MessageRow.callbackText(message, conversation: conversation.json)
                    delivery.attributesText = message.optionalText(at: 8)
                }
            }
            return delivery
        }
    }

    /// The position of the last configuration change: what the endpoint cache is valid for.
    private static func configurationGeneration(_ connection: Connection) throws -> Int64 {
        try connection.singleInt64(sql: "SELECT coalesce(max(position), 0) FROM config_history") ?? 0
    }

    /// When the next pending delivery falls due (ms since 1970), if any is pending.
    private static func nextDue(_ connection: Connection) throws -> Int64? {
        try connection.singleInt64(sql: "SELECT min(next_attempt_at) FROM deliveries")
    }

    /// The callback of a client application's role, with its headers and authentication opened;
    /// `nil` when the application, the role or its callback no longer exists.
    /// Answered from the cache while the configuration is the one the last ``due(now:limit:excludingLanes:)``
    /// saw, without a read.
    public func endpoint(application: String, role: String) async throws -> CallbackEndpoint? {
        // An app installation's changes are not configuration generations: its webhook is read each time.
        if AppInstallation.isWebhookRole(role) {
            return try await store.pool.read { try self.webhook(app: application, key: role, $0) }
        }
        let key = application + "|" + role
        if let cached = endpoints.current(key) { return cached }
        return try await store.pool.read { connection in
            let generation = try Self.configurationGeneration(connection)
            if let cached = self.endpoints.cached(key, generation: generation) { return cached }
            let endpoint = try self.resolveEndpoint(application: application, role: role, connection)
            self.endpoints.store(key, endpoint, generation: generation)
            return endpoint
        }
    }

    private func resolveEndpoint(
        application: String,
        role: String,
        _ connection: Connection
    ) throws
        -> CallbackEndpoint?
    {
        guard let app = try ConfigurationRows.row(.clientApplication, id: application, connection)?.state,
            let roleState = app["roles"]?.arrayValue?.first(where: { $0["name"]?.stringValue == role }),
            let url = roleState["callback"]?.stringValue
        else { return nil }
        let appRecord = "clientApplication/\(application)"
        var headers: [(name: String, value: String)] = []
        for header in roleState["headers"]?.arrayValue ?? [] {
            guard let name = header["name"]?.stringValue, let value = header["value"]?.stringValue else { continue }
            headers.append((name, try self.open(value, record: appRecord, connection)))
        }
        var authentication: CallbackAuthentication?
        if let authId = roleState.value(at: "authentication.id")?.stringValue,
            let auth = try ConfigurationRows.row(.authentication, id: authId, connection),
            auth.state["active"] != .bool(false)
        {
            let record = "authentication/\(authId)"
            if let basic = auth.state["basicAuth"] {
                authentication = .basic(
                    username: basic["username"]?.stringValue ?? "",
                    password: try self.open(basic["password"]?.stringValue ?? "", record: record, connection)
                )
            } else if let oauth = auth.state["oauth2"] {
                authentication = .oauth2(
                    OAuth2Settings(
                        key: "\(authId)@\(auth.modifiedAt)",
                        tokenRequestUrl: oauth["tokenRequestUrl"]?.stringValue ?? "",
                        method: oauth["method"]?.stringValue ?? "POST",
                        headers: try (oauth["headers"]?.arrayValue ?? []).map { header in
                            OAuth2Settings.Header(
                                name: header["name"]?.stringValue ?? "",
                                value: try self.open(header["value"]?.stringValue ?? "", record: record, connection)
                            )
                        },
                        payload: try self.open(oauth["payload"]?.stringValue ?? "", record: record, connection),
                        accessTokenPath: oauth["accessTokenPath"]?.stringValue ?? "access_token"
                    )
                )
            }
        }
        return CallbackEndpoint(
            url: url,
            version: roleState["version"]?.stringValue ?? "v3",
            headers: headers,
            authentication: authentication,
            webhook: nil
        )
    }

    /// A connector app's endpoint for a webhook key, with its secret opened; `nil` once the app is gone,
    /// disabled, or no longer has an endpoint for the key.
    private func webhook(app id: String, key: String, _ connection: Connection) throws -> CallbackEndpoint? {
        guard let row = try connection.singleText(sql: "SELECT account FROM connector_apps WHERE id = ?", [id]),
            let app = try ConnectorApps.app(account: row, id: id, connection), app.isEnabled,
            let settings = AppInstallation.webhook(key, in: app.installation),
            let url = settings["endpoint"]?.stringValue,
            let secret = try ConnectorApps(store: store, vault: vault).secret(of: id, connection)
        else { return nil }
        let headers = (settings["headers"]?.arrayValue ?? []).compactMap { header -> (name: String, value: String)? in
            guard let name = header["header_name"]?.stringValue, let value = header["header_value"]?.stringValue else {
                return nil
            }
            return (name, value)
        }
        let retries: Int = if case .integer(let count)? = settings["max_retries"] { Int(count) } else { 0 }
        return CallbackEndpoint(
            url: url,
            version: "liveperson",
            headers: headers,
            authentication: nil,
            webhook: WebhookSigning(account: app.account, clientId: id, secret: secret, maxRetries: retries)
        )
    }

    private func open(_ value: String, record: String, _ connection: Connection) throws -> String {
        SecretVault.isSealed(value) ? try vault.open(value, record: record, connection) : value
    }

    /// Whether a delivery is still pending (still in the outbox), inside the writer's transaction.
    package static func isPending(_ id: String, in transaction: LogTransaction) throws -> Bool {
        try transaction.connection.singleInt64(sql: "SELECT 1 FROM deliveries WHERE id = ?", [id]) != nil
    }
}

/// Resolved callback endpoints, valid while the configuration is unchanged (no new `config_history` row).
package final class EndpointCache: Sendable {
    private struct State {
        var generation: Int64 = -1
        var entries: [String: CallbackEndpoint?] = [:]
    }

    private let state = Mutex(State())

    package func cached(_ key: String, generation: Int64) -> CallbackEndpoint?? {
        state.withLock { state in state.generation == generation ? state.entries[key] : nil }
    }

    /// The entry under the newest generation seen, if any.
    package func current(_ key: String) -> CallbackEndpoint?? {
        state.withLock { $0.entries[key] }
    }

    /// A read saw the configuration at `generation`: older entries go. Generations only grow; an older
    /// one (a read that started earlier) changes nothing.
    package func observe(generation: Int64) {
        state.withLock { state in
            if generation > state.generation { state = State(generation: generation) }
        }
    }

    package func store(_ key: String, _ endpoint: CallbackEndpoint?, generation: Int64) {
        state.withLock { state in
            if generation < state.generation { return }
            if generation > state.generation { state = State(generation: generation) }
            state.entries[key] = .some(endpoint)
        }
    }
}
