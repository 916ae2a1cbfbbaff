public import HubDomain
@_spi(Storage) package import HubEventLog
package import HubSQLite

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

    package init(
        id: String,
        name: String,
        contentType: String,
        size: Int64,
        senderType: String,
        channelType: String,
        sha256: String?,
        state: String,
        conversation: String?,
        message: String?,
        createdAt: Int64,
        uploadedAt: Int64?
    ) {
        (self.id, self.name, self.contentType, self.size) = (id, name, contentType, size)
        (self.senderType, self.channelType, self.sha256, self.state) = (senderType, channelType, sha256, state)
        (self.conversation, self.message, self.createdAt, self.uploadedAt) = (
            conversation, message, createdAt, uploadedAt
        )
    }

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

/// The asset index (`assets`, ``AssetsProjection``'s).
package enum AssetIndex {
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

    /// An asset by id, inside the writer's transaction.
    package static func record(_ id: String, in transaction: LogTransaction) throws -> AssetRecord? {
        try record(id, transaction.connection)
    }

    /// An asset by id (deleted ones included, with state `deleted`).
    package static func record(_ id: String, _ store: EventStore) async throws -> AssetRecord? {
        try await store.pool.read { connection in try record(id, connection) }
    }

    /// The assets attached to a conversation, oldest first.
    package static func list(conversation: String, _ store: EventStore) async throws -> [AssetRecord] {
        try await store.pool.read { connection in
            let statement = try connection.cachedStatement(
                sql: "SELECT \(columns) FROM assets WHERE conversation = ? ORDER BY created_at, id"
            )
            defer { statement.reset() }
            try statement.bind([conversation])
            var records: [AssetRecord] = []
            while try statement.step() { records.append(decode(statement)) }
            return records
        }
    }

    /// Unused assets (requested or uploaded, never attached) created before `cutoff`, oldest first.
    package static func unused(
        createdBefore cutoff: Int64,
        limit: Int,
        in transaction: LogTransaction
    ) throws -> [String] {
        let statement = try transaction.connection.cachedStatement(
            sql: """
                SELECT id FROM assets WHERE state IN ('requested', 'uploaded') AND created_at < ?
                ORDER BY created_at LIMIT ?
                """
        )
        defer { statement.reset() }
        try statement.bind([cutoff, limit])
        var ids: [String] = []
        while try statement.step() { ids.append(statement.text(at: 0)) }
        return ids
    }
}
