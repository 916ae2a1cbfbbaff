import Foundation
public import HubDomain
public import HubEventLog
import HubReadModels
public import HubVault

/// LivePerson connector app installations as events (`appInstallation.created|updated|deleted` on
/// stream `appInstallation/<id>`); their read model is ``ConnectorApps``.
///
/// The client secret is shown once, in the creation's answer; the log keeps it sealed under the
/// installation's own key, because webhooks are signed with it (HMAC-SHA1, connector spec §8.2).
public struct AppInstallations: Sendable {
    public let store: EventStore
    package let vault: SecretVault

    public init(store: EventStore, vault: SecretVault) {
        self.store = store
        self.vault = vault
    }

    /// Registers an installation from a validated body (``AppInstallation/validate(_:)``) and returns
    /// its `client_id` and `client_secret`.
    public func create(
        account: String,
        installation: JSONValue,
        caller: ConfigurationStore.Caller
    ) async throws -> (id: String, secret: String) {
        let id = UUID().uuidString.lowercased()
        let secret = ClientRegistry.randomToken(bytes: 24)
        try await store.writer.perform { transaction in
            let sealed = try vault.seal(secret, record: ConnectorApps.record(id), in: transaction, newRecord: true)
            let created = AppInstallationCreated(id: id, account: account, installation: installation, secret: sealed)
            try transaction.append(
                [try EventDraft(created, account: nil, actor: caller.actor, correlationId: caller.correlationId)],
                to: "appInstallation/\(id)",
                expectedVersion: .noStream
            )
        }
        return (id, secret)
    }

    /// Replaces an installation's body.
    ///
    /// - Throws: `notFound` when the account has no such installation.
    public func update(
        account: String,
        id: String,
        installation: JSONValue,
        caller: ConfigurationStore.Caller
    ) async throws {
        let updated = AppInstallationUpdated(id: id, account: account, installation: installation)
        let draft = try EventDraft(updated, account: nil, actor: caller.actor, correlationId: caller.correlationId)
        try await store.writer.perform { transaction in
            guard try ConnectorApps.app(account: account, id: id, in: transaction) != nil else {
                throw Rejection.noAppInstallation(id)
            }
            try transaction.append([draft], to: "appInstallation/\(id)")
        }
    }

    /// Deletes an installation: its credentials stop working and its webhooks stop.
    ///
    /// - Throws: `notFound` when the account has no such installation.
    public func delete(account: String, id: String, caller: ConfigurationStore.Caller) async throws {
        let deleted = AppInstallationDeleted(id: id, account: account)
        let draft = try EventDraft(deleted, account: nil, actor: caller.actor, correlationId: caller.correlationId)
        try await store.writer.perform { transaction in
            guard try ConnectorApps.app(account: account, id: id, in: transaction) != nil else {
                throw Rejection.noAppInstallation(id)
            }
            try transaction.append([draft], to: "appInstallation/\(id)")
        }
    }
}

extension Rejection {
    /// No installation with this id in the path's account.
    package static func noAppInstallation(_ id: String) -> Rejection {
        Rejection(.notFound, "App installation with id \(id) was not found.", details: [.init(key: "id", value: id)])
    }
}
