import Foundation
public import HubDomain
public import HubEventLog
public import HubReadModels
import HubVault

/// Assets (spec §6, DESIGN.md §8): requested with a declared name and size, uploaded once (bytes
/// content-addressed and fsynced before `asset.uploaded` commits), attached to messages, deleted
/// while unused. Events go to the stream `asset/<id>`; `assets` is their index.
public struct AssetStore: Sendable {
    public let store: EventStore
    public let files: AssetFiles

    public init(store: EventStore) {
        self.store = store
        self.files = AssetFiles(dataDirectory: store.directory)
    }

    /// `POST /assets`: checks the channel's attachment policy for the sender's side and records the request.
    public func request(
        channelType: String,
        senderType: SenderType,
        name: String,
        size: Int64,
        caller: ConfigurationStore.Caller
    ) async throws -> AssetRecord {
        let id = EventID.makeV7()
        return try await store.writer.perform { transaction in
            guard
                let channel = try ConfigurationRows.row(.channel, uniqueKey: channelType, in: transaction)?.state,
                channel["active"] != .bool(false)
            else {
                throw Rejection.unknownReference(
                    "channel.type",
                    "No active channel has type '\(channelType)'.",
                    channelType
                )
            }
            let rules = ChannelRules(channel)
            let policy = senderType == .customer ? rules.inboundAttachments : rules.outboundAttachments
            try policy.check(name: name, size: size)
            let record = AssetRecord(
                id: id,
                name: name,
                contentType: MediaType.forFileName(name),
                size: size,
                senderType: senderType.rawValue,
                channelType: rules.type,
                sha256: nil,
                state: "requested",
                conversation: nil,
                message: nil,
                createdAt: transaction.recordedAt,
                uploadedAt: nil
            )
            try transaction.append(
                [
                    try Self.draft(
                        AssetRequested(
                            id: id,
                            name: name,
                            size: size,
                            contentType: record.contentType,
                            sender: .init(type: senderType.rawValue),
                            channel: .init(type: rules.type)
                        ),
                        caller
                    )
                ],
                to: "asset/\(id)",
                expectedVersion: .noStream
            )
            return record
        }
    }

    /// The upload: the declared size and content type must match; the bytes are stored durably
    /// before `asset.uploaded` is appended. `receive` writes the body into the spool as it arrives (and
    /// refuses a body larger than declared); nothing of it is kept when anything fails.
    public func upload(
        id: String,
        contentType: String,
        caller: ConfigurationStore.Caller,
        receive: (AssetSpool) async throws -> Void
    )
        async throws
    {
        guard let record = try await get(id) else { throw Rejection.assetNotFound(id) }
        guard record.state == "requested" else {
            throw Rejection.invalidValue("id", "asset \(id) was already uploaded")
        }
        let sent = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard sent.lowercased() == record.contentType else {
            throw Rejection.invalidValue("Content-Type", "must be \(record.contentType), as declared by the name")
        }
        let spool = try files.spool()
        defer { spool.discard() }
        try await receive(spool)
        guard spool.count == record.size else {
            throw Rejection.invalidValue("body", "\(spool.count) bytes sent; \(record.size) were declared")
        }
        let hash = try await spool.finish()
        try await store.writer.perform { transaction in
            guard
                try AssetIndex.record(id, in: transaction)?.state == "requested"
            else { throw Rejection.invalidValue("id", "asset \(id) was already uploaded") }
            try transaction.append(
                [
                    try Self.draft(
                        AssetUploaded(
                            id: id,
                            sha256: hash,
                            size: record.size,
                            contentType: record.contentType,
                            name: record.name
                        ),
                        caller
                    )
                ],
                to: "asset/\(id)"
            )
        }
    }

    /// `DELETE /assets/{id}`: refused once attached (`assetInUse`).
    public func delete(id: String, caller: ConfigurationStore.Caller) async throws {
        try await store.writer.perform { transaction in
            guard let record = try AssetIndex.record(id, in: transaction), record.state != "deleted" else {
                throw Rejection.assetNotFound(id)
            }
            guard record.state != "attached" else {
                throw Rejection(
                    .assetInUse,
                    "Asset \(id) is used in a message and cannot be deleted.",
                    details: [.init(key: "id", value: id)]
                )
            }
            try Self.markDeleted(AssetDeleted(id: id), caller, transaction)
        }
    }

    /// Unused assets (requested or uploaded, never attached) created before `cutoff` (ms since 1970)
    /// expire: `asset.deleted` with `"reason": "expired"` by `system`, at most `limit` per call, oldest
    /// first (spec §6.1 [P]: unused assets expire after 24 h). Returns how many expired.
    public func expireUnused(createdBefore cutoff: Int64, limit: Int = 500) async throws -> Int {
        try await store.writer.perform { transaction in
            let ids = try AssetIndex.unused(createdBefore: cutoff, limit: limit, in: transaction)
            let system = ConfigurationStore.Caller(actor: "system", correlationId: nil)
            for id in ids {
                try Self.markDeleted(AssetDeleted(id: id, reason: "expired"), system, transaction)
            }
            return ids.count
        }
    }

    /// `asset.deleted` and the index row's state.
    private static func markDeleted(
        _ event: AssetDeleted,
        _ caller: ConfigurationStore.Caller,
        _ transaction: LogTransaction
    ) throws {
        try transaction.append([try draft(event, caller)], to: "asset/\(event.id)")
    }

    /// An asset by id (deleted ones included, with state `deleted`).
    public func get(_ id: String) async throws -> AssetRecord? {
        try await AssetIndex.record(id.lowercased(), store)
    }

    /// The assets attached to a conversation, oldest first.
    public func list(conversation: String) async throws -> [AssetRecord] {
        try await AssetIndex.list(conversation: conversation.lowercased(), store)
    }

    /// Attaches uploaded assets to a message, inside the writer's transaction (spec §6.4 [P]);
    /// returns what the callback carries for each.
    package static func attach(
        _ ids: [String],
        conversation: String,
        message: String,
        path: String,
        caller: ConfigurationStore.Caller,
        _ transaction: LogTransaction
    ) throws -> [JSONValue] {
        try ids.map { id in
            guard let record = try AssetIndex.record(id.lowercased(), in: transaction),
                record.state == "uploaded" || record.state == "attached"
            else {
                throw Rejection.unknownReference(
                    path + ".content.attachments.attachment",
                    "Asset \(id) does not exist or has not been uploaded.",
                    id
                )
            }
            try transaction.append(
                [
                    try draft(AssetAttached(id: record.id, conversation: conversation, message: message), caller)
                ],
                to: "asset/\(record.id)"
            )
            return record.attachmentJSON
        }
    }

    package static func draft(_ event: some DomainEvent, _ caller: ConfigurationStore.Caller) throws -> EventDraft {
        try EventDraft(event, actor: caller.actor, correlationId: caller.correlationId)
    }
}

extension Rejection {
    /// No such asset.
    public static func assetNotFound(_ id: String) -> Rejection {
        Rejection(
            .notFound,
            "Asset with id \(id) was not found.",
            details: [.init(key: "id", value: id)]
        )
    }
}
