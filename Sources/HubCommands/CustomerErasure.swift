import Foundation
public import HubDomain
public import HubEventLog
import HubReadModels
public import HubVault

/// Erases a customer (the right to be forgotten; `POST /v1/erasures`, `hubstore erase`): in one
/// transaction, with `secure_delete` on, it destroys the customer's key and the data keys of every
/// message of their conversations, and appends `erasure.performed`, from which every projection removes
/// the plaintext it held (transcripts, search, the outbox's kept bodies, contacts) and the assets
/// projection deletes their assets. After the commit the writer checkpoints and truncates the WAL, and
/// the assets' files are removed. The chain still verifies: it covers the sealed bytes, which stay.
public struct CustomerErasure: Sendable {
    public let store: EventStore
    public let vault: SecretVault
    public let contactKeys: ContactKeys
    public let files: AssetFiles

    public init(store: EventStore, vault: SecretVault, contactKeys: ContactKeys, files: AssetFiles) {
        self.store = store
        self.vault = vault
        self.contactKeys = contactKeys
        self.files = files
    }

    /// Whom to erase: everyone a contact address finds, or one customer by id.
    public enum Subject: Sendable {
        case contact(String)
        case customer(String)
    }

    /// What an erasure did: counts and ids, nothing of what was erased.
    public struct Result: Sendable, Equatable {
        public var id: String
        public var position: Int64
        public var customers: [String]
        public var conversations: [String]
        public var messages: Int
        public var keys: Int
        public var assets: Int

        public var json: JSONValue {
            .object([
                "id": .string(id), "position": .integer(position), "customers": .array(customers.map(JSONValue.string)),
                "conversations": .array(conversations.map(JSONValue.string)), "messages": .integer(Int64(messages)),
                "keysDestroyed": .integer(Int64(keys)), "assetsDeleted": .integer(Int64(assets)),
            ])
        }
    }

    /// Erases `subject` (at `account` only, for a contact, when given). A subject that finds no
    /// customer is a `notFound` rejection, and nothing is written.
    public func erase(
        _ subject: Subject,
        account: String? = nil,
        caller: ConfigurationStore.Caller
    ) async throws
        -> Result
    {
        let id = EventID.makeV7()
        let contactKey: String? =
            if case .contact(let address) = subject { contactKeys.key(address) } else { nil }
        let (result, files) = try await store.writer.perform { transaction in
            var customers: [String]
            switch subject {
            case .contact:
                customers = try ErasureScope.customers(contactKey: contactKey ?? "", account: account, in: transaction)
            case .customer(let customer):
                customers = try ErasureScope.isCustomer(customer, in: transaction) ? [customer] : []
            }
            guard !customers.isEmpty else {
                throw Rejection(.notFound, "No customer matches: nothing was erased.")
            }
            let scope = try ErasureScope.of(customers: customers, in: transaction)
            // The conversations' content keys, which their messages' keys derive from, go too.
            let contentKeys = try scope.conversations.compactMap { conversation in
                try ContentKeys.keptNumber(of: "conversation/\(conversation)", in: transaction)
                    .map(SecretVault.contentKeyRecord)
            }
            let records =
                customers.map { "customer/\($0)" } + scope.messages.map { "message/\($0)" } + contentKeys
                + scope.consumers
            transaction.eraseSecurely()
            for record in records { try vault.shred(record: record, in: transaction) }
            let event = ErasurePerformed(
                id: id,
                customers: customers,
                conversations: scope.conversations,
                shredded: records,
                positions: scope.positions,
                assets: scope.assets
            )
            _ = try transaction.append(
                [try EventDraft(event, actor: caller.actor, correlationId: caller.correlationId)],
                to: "erasure/\(id)",
                expectedVersion: .noStream
            )
            let result = Result(
                id: id,
                position: transaction.lastPosition,
                customers: customers,
                conversations: scope.conversations,
                messages: scope.messages.count,
                keys: records.count,
                assets: scope.assets.count
            )
            return (result, scope.assetFiles)
        }
        // Once committed: the bytes of the erased assets (a file left by a crash here is an orphan that
        // no asset names; `hubstore erase` again removes nothing more, but the bytes are unreachable).
        for sha256 in files { try? FileManager.default.removeItem(atPath: self.files.path(sha256: sha256)) }
        return result
    }
}
