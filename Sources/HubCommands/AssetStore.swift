import Foundation
public import HubDomain
public import HubSQLite
public import HubEventLog
public import HubVault
public import HubReadModels

/// An asset as the index holds it.
public struct AssetRecord: Sendable, Equatable {
    public var id: String
    public var name: String
    public var contentType: String
    public var size: Int64
    public var senderType: String
    public var channelType: String
    public var sha256: String?
    public var state: String
    public var conversation: String?
    public var message: String?
    public var createdAt: Int64
    public var uploadedAt: Int64?

    /// `{id, name, size, contentType}`, as callbacks carry an attachment (spec §6.4).
    public var attachmentJSON: JSONValue {
        .object([
            "id": .string(id), "name": .string(name), "size": .integer(size), "contentType": .string(contentType),
        ])
    }

    /// The query API's view.
    public var json: JSONValue {
        var fields = attachmentJSON.objectValue ?? [:]
        fields["state"] = .string(state)
        fields["sender"] = .object(["type": .string(senderType)])
        fields["channel"] = .object(["type": .string(channelType)])
        fields["created"] = .string(Timestamp.format(createdAt))
        if let sha256 { fields["sha256"] = .string(sha256) }
        if let conversation { fields["conversation"] = .object(["id": .string(conversation)]) }
        if let message { fields["message"] = .object(["id": .string(message)]) }
        if let uploadedAt { fields["uploaded"] = .string(Timestamp.format(uploadedAt)) }
        return .object(fields)
    }
}

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
            let connection = transaction.connection
            guard
                let channelText = try connection.singleText(
                    sql: "SELECT state FROM config_resources WHERE kind = 'channel' AND unique_key = ?",
                    [channelType.lowercased()]
                ),
                case let channel = try JSONValue.parse(channelText), channel["active"] != .bool(false)
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
                try transaction.connection.singleText(sql: "SELECT state FROM assets WHERE id = ?", [id])
                    == "requested"
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
            guard let record = try Self.record(id, transaction.connection), record.state != "deleted" else {
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
            let statement = try transaction.connection.cachedStatement(
                sql: """
                    SELECT id FROM assets WHERE state IN ('requested', 'uploaded') AND created_at < ?
                    ORDER BY created_at LIMIT ?
                    """
            )
            var ids: [String] = []
            do {
                defer { statement.reset() }
                try statement.bind([cutoff, limit])
                while try statement.step() { ids.append(statement.text(at: 0)) }
            }
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
        try await store.pool.read { connection in try Self.record(id.lowercased(), connection) }
    }

    /// The assets attached to a conversation, oldest first.
    public func list(conversation: String) async throws -> [AssetRecord] {
        try await store.pool.read { connection in
            let statement = try connection.cachedStatement(
                sql: "SELECT \(Self.columns) FROM assets WHERE conversation = ? ORDER BY created_at, id"
            )
            defer { statement.reset() }
            try statement.bind([conversation.lowercased()])
            var records: [AssetRecord] = []
            while try statement.step() { records.append(Self.decode(statement)) }
            return records
        }
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
            guard let record = try record(id.lowercased(), transaction.connection),
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

    package static let columns = """
        id, name, content_type, size, sender_type, channel_type, sha256, state, conversation, message, created_at,
        uploaded_at
        """

    package static func record(_ id: String, _ connection: Connection) throws -> AssetRecord? {
        let statement = try connection.cachedStatement(sql: "SELECT \(columns) FROM assets WHERE id = ?")
        defer { statement.reset() }
        try statement.bind([id])
        return try statement.step() ? decode(statement) : nil
    }

    package static func decode(_ statement: Statement) -> AssetRecord {
        AssetRecord(
            id: statement.text(at: 0),
            name: statement.text(at: 1),
            contentType: statement.text(at: 2),
            size: statement.int64(at: 3),
            senderType: statement.text(at: 4),
            channelType: statement.text(at: 5),
            sha256: statement.optionalText(at: 6),
            state: statement.text(at: 7),
            conversation: statement.optionalText(at: 8),
            message: statement.optionalText(at: 9),
            createdAt: statement.int64(at: 10),
            uploadedAt: statement.optionalInt64(at: 11)
        )
    }

    package static func draft(_ event: some DomainEvent, _ caller: ConfigurationStore.Caller) throws -> EventDraft {
        try EventDraft(event, actor: caller.actor, correlationId: caller.correlationId)
    }
}

package extension Rejection {
    /// No such asset.
    public static func assetNotFound(_ id: String) -> Rejection {
        Rejection(
            .notFound,
            "Asset with id \(id) was not found.",
            details: [.init(key: "id", value: id)]
        )
    }
}
