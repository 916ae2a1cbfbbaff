import Foundation
public import HubDomain
@_spi(Storage) public import HubEventLog
package import HubSQLite
public import HubVault

/// A LivePerson connector app installation as the read model holds it.
public struct ConnectorApp: Sendable, Equatable {
    /// The `client_id`.
    public var id: String
    /// The LivePerson account id it belongs to.
    public var account: String
    /// The validated App Install body (without the secret).
    public var installation: JSONValue
    /// Milliseconds since 1970 UTC.
    public var createdAt: Int64
    public var updatedAt: Int64

    public var isEnabled: Bool { installation["enabled"] != .bool(false) }

    /// The installation as the App Install API shows it: its body, `client_id`, and no secret.
    public var json: JSONValue { .object(Self.json(id: id, installation: installation)) }

    /// An installation's body with its `client_id` (and `id`).
    public static func json(id: String, installation: JSONValue) -> [String: JSONValue] {
        var fields = installation.objectValue ?? [:]
        fields["client_id"] = .string(id)
        fields["id"] = .string(id)
        return fields
    }
}

/// The connector apps read model (`connector_apps`, ``ConnectorAppsProjection``'s).
public struct ConnectorApps: Sendable {
    public let store: EventStore
    let vault: SecretVault

    public init(store: EventStore, vault: SecretVault) {
        self.store = store
        self.vault = vault
    }

    static let columns = "id, account, installation, created_at, updated_at"

    /// The account's installations, oldest first.
    public func list(account: String) async throws -> [ConnectorApp] {
        try await store.pool.read { connection in
            let statement = try connection.prepare(
                sql: "SELECT \(Self.columns) FROM connector_apps WHERE account = ? ORDER BY created_at, id"
            )
            try statement.bind(account, at: 1)
            var apps: [ConnectorApp] = []
            while try statement.step() { apps.append(try Self.decode(statement)) }
            return apps
        }
    }

    /// One installation of the account.
    public func app(account: String, id: String) async throws -> ConnectorApp? {
        try await store.pool.read { try Self.app(account: account, id: id, $0) }
    }

    /// The account's enabled installation with this `client_id` and `client_secret`, or `nil`.
    public func authenticate(account: String, clientId: String, secret: String) async throws -> ConnectorApp? {
        try await store.pool.read { connection in
            guard let app = try Self.app(account: account, id: clientId, connection), app.isEnabled,
                let sealed = try connection.singleText(
                    sql: "SELECT secret FROM connector_apps WHERE id = ?",
                    [clientId]
                ),
                let expected = try? vault.open(sealed, record: Self.record(clientId), connection)
            else { return nil }
            return ClientDirectory.constantTimeEqual(Array(expected.utf8), Array(secret.utf8)) ? app : nil
        }
    }

    /// The installation's client secret, opened (webhooks are signed with it); `nil` when it is gone.
    package func secret(of id: String, _ connection: Connection) throws -> String? {
        guard let sealed = try connection.singleText(sql: "SELECT secret FROM connector_apps WHERE id = ?", [id]) else {
            return nil
        }
        return try vault.open(sealed, record: Self.record(id), connection)
    }

    /// The vault record an installation's secret is sealed under.
    public static func record(_ id: String) -> String { "appInstallation/\(id)" }

    /// The deliveries a change with webhook `key` makes for the app that holds a conversation: one, when
    /// the app is still installed, enabled and has an endpoint for the key; else `nil`.
    package static func webhookDeliveries(
        app id: String,
        account: String,
        key: String,
        in transaction: LogTransaction
    ) throws -> [MessageRouted.Delivery]? {
        guard let app = try app(account: account, id: id, in: transaction), app.isEnabled,
            AppInstallation.webhook(key, in: app.installation)?["endpoint"]?.stringValue != nil
        else { return nil }
        return [MessageRouted.Delivery(id: EventID.makeV7(), application: id, type: key)]
    }

    /// One installation, read in the writer's transaction (commands check what they change).
    package static func app(account: String, id: String, in transaction: LogTransaction) throws -> ConnectorApp? {
        try app(account: account, id: id, transaction.connection)
    }

    static func app(account: String, id: String, _ connection: Connection) throws -> ConnectorApp? {
        let statement = try connection.cachedStatement(
            sql: "SELECT \(columns) FROM connector_apps WHERE id = ? AND account = ?"
        )
        defer { statement.reset() }
        try statement.bind([id, account])
        return try statement.step() ? try decode(statement) : nil
    }

    private static func decode(_ statement: Statement) throws -> ConnectorApp {
        ConnectorApp(
            id: statement.text(at: 0),
            account: statement.text(at: 1),
            installation: try JSONValue.parse(statement.text(at: 2)),
            createdAt: statement.int64(at: 3),
            updatedAt: statement.int64(at: 4)
        )
    }
}
