import Crypto
import Foundation
public import HubDomain
public import HubEventLog
public import HubReadModels
import HubVault

/// Why a client operation was refused.
public enum ClientRegistryError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidName
    case noScopes
    case notFound(String)
    case alreadyRevoked(String)

    public var description: String {
        switch self {
        case .invalidName: "a client name must be 1 to 255 characters"
        case .noScopes: "a client needs at least one scope"
        case .notFound(let id): "no client with id \(id)"
        case .alreadyRevoked(let id): "client \(id) is already revoked"
        }
    }
}

/// API clients as events (`client.created`, `client.revoked` on stream `client/<id>`); their read
/// model `api_clients` is ``ClientsProjection``'s.
///
/// A secret is shown once, at creation; the log and the projection keep only a salted SHA-256 of it.
/// Secrets are 256 random bits, so a fast hash is enough: there is nothing to guess.
public struct ClientRegistry: Sendable {
    public let store: EventStore

    public init(store: EventStore) {
        self.store = store
    }

    /// Registers a client and returns it with its secret (the only time the secret is available).
    public func create(
        name: String,
        scopes: Set<Scope>,
        actor: String
    ) async throws -> (client: APIClient, secret: String) {
        guard (1...255).contains(name.count) else { throw ClientRegistryError.invalidName }
        guard !scopes.isEmpty else { throw ClientRegistryError.noScopes }
        let id = EventID.makeV7()
        let secret = Self.randomToken(bytes: 32)
        let salt = Self.randomBytes(16)
        let created = ClientCreated(
            id: id,
            name: name,
            scopes: scopes.sorted().map(\.rawValue),
            secretSalt: salt.hexEncoded,
            secretHash: ClientDirectory.hash(secret: secret, salt: salt).hexEncoded
        )
        let event = try EventDraft(created, actor: actor)
        let recordedAt = try await store.writer.perform { transaction in
            try transaction.append(
                [event],
                to: "client/\(id)",
                expectedVersion: .noStream
            )
            return transaction.recordedAt
        }
        return (APIClient(id: id, name: name, scopes: scopes, createdAt: recordedAt, revokedAt: nil), secret)
    }

    /// Revokes a client: its tokens stop working at once and it gets no new ones.
    public func revoke(id: String, actor: String) async throws {
        let event = try EventDraft(ClientRevoked(id: id), actor: actor)
        try await store.writer.perform { transaction in
            let revokedAt = try ClientDirectory.revokedAt(id, in: transaction)
            guard let revokedAt else { throw ClientRegistryError.notFound(id) }
            guard revokedAt == 0 else { throw ClientRegistryError.alreadyRevoked(id) }
            try transaction.append(
                [event],
                to: "client/\(id)"
            )
        }
    }

    /// Every client, oldest first.
    public func list() async throws -> [APIClient] { try await ClientDirectory(store: store).list() }

    /// One client, active or revoked.
    public func client(id: String) async throws -> APIClient? { try await ClientDirectory(store: store).client(id: id) }

    /// The active client with this id and secret, or `nil` (unknown, revoked, or the wrong secret).
    public func authenticate(id: String, secret: String) async throws -> APIClient? {
        try await ClientDirectory(store: store).authenticate(id: id, secret: secret)
    }

    package static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// Random bytes as unpadded base64url text.
    package static func randomToken(bytes: Int) -> String {
        Base64URL.encode(randomBytes(bytes))
    }
}
