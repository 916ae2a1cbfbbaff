import Foundation
public import HubDomain
public import HubEventLog
package import HubReadModels
public import HubVault

/// The six configuration resources as events and their projection (DESIGN.md §4, spec §2–§3).
///
/// Every change is one command in the writer's transaction: it checks names and references against
/// the read model as it stands inside that transaction and appends `<kind>.created|updated|deleted`
/// (data: the full new state, secrets sealed), which ``ConfigurationProjection`` applies to the read
/// model and its history in the same transaction — so two concurrent requests can never leave a
/// dangling reference.
public struct ConfigurationStore: Sendable {
    public let store: EventStore
    package let vault: SecretVault

    public init(store: EventStore, vault: SecretVault) {
        self.store = store
        self.vault = vault
    }

    /// Who asked, for the event's `actor` and `correlation_id`.
    public struct Caller: Sendable {
        public var actor: String
        public var correlationId: String?

        public init(actor: String, correlationId: String?) {
            self.actor = actor
            self.correlationId = correlationId
        }
    }

    /// Creates a resource from a validated body; returns its id.
    public func create(_ kind: ResourceKind, body: JSONValue, caller: Caller) async throws -> String {
        let id = UUID().uuidString.lowercased()
        try await store.writer.perform { transaction in
            try self.write(kind, id: id, body: body, existing: nil, caller: caller, transaction)
        }
        return id
    }

    /// Replaces a resource with a validated body. `modified`, when given, must equal the stored one.
    public func update(
        _ kind: ResourceKind,
        id: String,
        body: JSONValue,
        modified: String?,
        caller: Caller
    ) async throws {
        try await store.writer.perform { transaction in
            guard let existing = try ConfigurationRows.row(kind, id: id, in: transaction) else {
                throw Rejection.notFound(kind, id)
            }
            if let modified {
                guard Timestamp.milliseconds(modified) == existing.modifiedAt else {
                    throw Rejection(
                        .staleModification,
                        "Resource was modified by another request.",
                        details: [.init(key: "modified", value: Timestamp.format(existing.modifiedAt))]
                    )
                }
            } else if kind == .authentication {
                throw Rejection.missingAttribute("modified")
            }
            try self.write(kind, id: id, body: body, existing: existing, caller: caller, transaction)
        }
    }

    /// Deletes a resource nothing refers to any more.
    public func delete(_ kind: ResourceKind, id: String, caller: Caller) async throws {
        try await store.writer.perform { transaction in
            try ConfigurationRules.checkDelete(kind, id: id, in: ConfigurationRows.Snapshot(transaction))
            try transaction.append(
                [
                    try EventDraft(
                        ConfigurationDeleted(kind: kind, id: id),
                        actor: caller.actor,
                        correlationId: caller.correlationId
                    )
                ],
                to: "\(kind.itemName)/\(id)"
            )
        }
    }

    /// A resource as the API shows it (secrets masked), or `nil`.
    public func get(_ kind: ResourceKind, id: String) async throws -> JSONValue? {
        try await ConfigurationRows.get(kind, id: id, store)
    }

    /// One page of a kind, oldest first, and the total count.
    public func list(_ kind: ResourceKind, page: Int, pageSize: Int) async throws -> (total: Int, items: [JSONValue]) {
        try await ConfigurationRows.list(kind, page: page, pageSize: pageSize, store)
    }

    // MARK: - Inside the writer's transaction

    package typealias Row = ConfigurationRows.Row

    private func write(
        _ kind: ResourceKind,
        id: String,
        body: JSONValue,
        existing: Row?,
        caller: Caller,
        _ transaction: LogTransaction
    ) throws {
        let now = transaction.recordedAt
        try ConfigurationRules.checkWrite(kind, id: id, body: body, in: ConfigurationRows.Snapshot(transaction))
        // Secrets: a masked value sent back keeps the stored secret of the same place, array elements
        // matched by name (a header's own secret, wherever the header now is); anything else is sealed anew.
        let record = "\(kind.itemName)/\(id)"
        let secretPaths = kind.schema.secretPaths
        let stored = existing?.state.strings(byKeyAt: secretPaths) ?? [:]
        var state = try body.mappingStrings(at: secretPaths) { value, location in
            guard value == SecretVault.mask else {
                return .string(try vault.seal(value, record: record, in: transaction))
            }
            guard let kept = stored[location.key] else {
                throw Rejection.invalidValue(
                    location.path,
                    "is masked (\(SecretVault.mask)) but no secret is stored under this name; send the value itself"
                )
            }
            return .string(kept)
        }
        if case .object(var fields) = state {
            fields["id"] = .string(id)
            fields["created"] = .string(Timestamp.format(existing?.createdAt ?? now))
            fields["modified"] = .string(Timestamp.format(now))
            state = .object(fields)
        }
        let change: ConfigurationChanged.Change = existing == nil ? .created : .updated
        try transaction.append(
            [
                try EventDraft(
                    ConfigurationChanged(kind: kind, change: change, state: state),
                    actor: caller.actor,
                    correlationId: caller.correlationId
                )
            ],
            to: record,
            expectedVersion: existing == nil ? .noStream : .any
        )
    }
}
