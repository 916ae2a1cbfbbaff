import Crypto
public import HubDomain
@_spi(Storage) public import HubEventLog
import HubSQLite

/// An API client: who may ask `POST /oauth2/token` for tokens, and with which scopes.
public struct APIClient: Sendable, Equatable {
    public var id: String
    public var name: String
    public var scopes: Set<Scope>
    /// Milliseconds since 1970 UTC.
    public var createdAt: Int64
    public var revokedAt: Int64?

    public var isActive: Bool { revokedAt == nil }

    public init(id: String, name: String, scopes: Set<Scope>, createdAt: Int64, revokedAt: Int64?) {
        (self.id, self.name, self.scopes, self.createdAt, self.revokedAt) = (id, name, scopes, createdAt, revokedAt)
    }
}

/// The clients read model (`api_clients`, ``ClientsProjection``'s): who may ask for tokens.
public struct ClientDirectory: Sendable {
    public let store: EventStore

    public init(store: EventStore) {
        self.store = store
    }

    /// Every client, oldest first.
    public func list() async throws -> [APIClient] {
        try await store.pool.read { connection in
            let statement = try connection.prepare(
                sql: "SELECT id, name, scopes, created_at, revoked_at FROM api_clients ORDER BY created_at, id"
            )
            var clients: [APIClient] = []
            while try statement.step() { clients.append(Self.decode(statement)) }
            return clients
        }
    }

    /// One client, active or revoked.
    public func client(id: String) async throws -> APIClient? {
        try await store.pool.read { connection in
            let statement = try connection.cachedStatement(
                sql: "SELECT id, name, scopes, created_at, revoked_at FROM api_clients WHERE id = ?"
            )
            defer { statement.reset() }
            try statement.bind(id, at: 1)
            return try statement.step() ? Self.decode(statement) : nil
        }
    }

    /// The active client with this id and secret, or `nil` (unknown, revoked, or the wrong secret).
    public func authenticate(id: String, secret: String) async throws -> APIClient? {
        try await store.pool.read { connection in
            let statement = try connection.cachedStatement(
                sql: """
                    SELECT id, name, scopes, created_at, revoked_at, secret_salt, secret_hash
                    FROM api_clients WHERE id = ? AND revoked_at IS NULL
                    """
            )
            defer { statement.reset() }
            try statement.bind(id, at: 1)
            guard try statement.step() else { return nil }
            let expected = statement.blob(at: 6)
            let actual = Self.hash(secret: secret, salt: statement.blob(at: 5))
            guard Self.constantTimeEqual(expected, actual) else { return nil }
            return Self.decode(statement)
        }
    }

    private static func decode(_ statement: Statement) -> APIClient {
        APIClient(
            id: statement.text(at: 0),
            name: statement.text(at: 1),
            scopes: Set(statement.text(at: 2).split(separator: " ").compactMap { Scope(rawValue: String($0)) }),
            createdAt: statement.int64(at: 3),
            revokedAt: statement.optionalInt64(at: 4)
        )
    }

    package static func hash(secret: String, salt: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: salt)
        hasher.update(data: Array(secret.utf8))
        return Array(hasher.finalize())
    }

    package static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return zip(lhs, rhs).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// When the client was revoked: `0` while active, `nil` when there is no such client.
    package static func revokedAt(_ id: String, in transaction: LogTransaction) throws -> Int64? {
        try transaction.connection.singleInt64(
            sql: "SELECT coalesce(revoked_at, 0) FROM api_clients WHERE id = ?",
            [id]
        )
    }
}
