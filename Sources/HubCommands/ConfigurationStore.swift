import Foundation
public import HubDomain
public import HubEventLog
public import HubReadModels
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
            guard try ConfigurationRows.row(kind, id: id, in: transaction) != nil else {
                throw Rejection.notFound(kind, id)
            }
            if let referrer = try ConfigurationRows.firstReferrer(to: kind, id: id, in: transaction) {
                let user = ResourceKind(rawValue: referrer.kind)?.displayName ?? referrer.kind
                throw Rejection(
                    .inUse,
                    "\(kind.displayName) \(id) is in use by \(user) \(referrer.id) and cannot be deleted.",
                    details: [.init(key: referrer.kind, value: referrer.id)]
                )
            }
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
        let uniqueValue = body[kind.uniqueField]?.stringValue ?? ""
        if let other = try ConfigurationRows.resource(kind, withUniqueKey: uniqueValue, in: transaction), other != id {
            throw Rejection(
                .duplicate,
                "Duplicate name: \(kind.displayName) \(other) already has \(kind.uniqueField) '\(uniqueValue)'.",
                details: [.init(key: kind.uniqueField, value: uniqueValue)]
            )
        }
        for (path, target) in kind.references {
            for targetId in body.strings(at: path) {
                guard let row = try ConfigurationRows.row(target, id: targetId, in: transaction),
                    row.state["active"] != .bool(false)
                else {
                    throw Rejection(
                        .unknownReference,
                        "Referenced \(target.displayName.lowercased()) \(targetId) does not exist or is inactive.",
                        details: [.init(key: path.replacingOccurrences(of: "[]", with: ""), value: targetId)]
                    )
                }
                if kind == .participant, let type = body["type"]?.stringValue,
                    !row.state.strings(at: "roles[].name").contains(type)
                {
                    throw Rejection.invalidValue(
                        "application.id",
                        "client application \(targetId) has no role '\(type)'"
                    )
                }
            }
        }
        if kind == .account { try checkAccountRoute(body, id: id, transaction) }
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

    /// (channel type, address) routes customer messages, so it is unique among active accounts (spec §3.6).
    private func checkAccountRoute(_ body: JSONValue, id: String, _ transaction: LogTransaction) throws {
        guard body["active"] != .bool(false), let channelId = body.value(at: "channel.id")?.stringValue,
            let address = body["address"]?.stringValue
        else { return }
        let other = try ConfigurationRows.activeAccount(
            otherThan: id,
            address: address,
            channelTypeOf: channelId,
            in: transaction
        )
        if let other {
            throw Rejection(
                .duplicate,
                "Duplicate account route: active account \(other) already has this channel type and address.",
                details: [.init(key: "address", value: address)]
            )
        }
    }

    package static func masked(_ kind: ResourceKind, _ state: JSONValue) -> JSONValue {
        ConfigurationRows.masked(kind, state)
    }

    package static func parse(_ text: String) throws -> JSONValue {
        try JSONValue.parse(text)
    }
}

extension Rejection {
    /// No such resource.
    public static func notFound(_ kind: ResourceKind, _ id: String) -> Rejection {
        Rejection(
            .notFound,
            "\(kind.displayName) with id \(id) was not found.",
            details: [.init(key: "id", value: id)]
        )
    }
}
