package import HubDomain
@_spi(Storage) package import HubEventLog
package import HubSQLite
import HubVault

/// Reading `config_resources` (``ConfigurationProjection`` writes it): a resource's current state.
package enum ConfigurationRows {
    package struct Row {
        package var state: JSONValue
        package var createdAt: Int64
        package var modifiedAt: Int64
    }

    package static func row(_ kind: ResourceKind, id: String, _ connection: Connection) throws -> Row? {
        let statement = try connection.cachedStatement(
            sql: "SELECT state, created_at, modified_at FROM config_resources WHERE kind = ? AND id = ?"
        )
        defer { statement.reset() }
        try statement.bind([kind.rawValue, id])
        guard try statement.step() else { return nil }
        return Row(
            state: try parse(statement.text(at: 0)),
            createdAt: statement.int64(at: 1),
            modifiedAt: statement.int64(at: 2)
        )
    }

    package static func masked(_ kind: ResourceKind, _ state: JSONValue) -> JSONValue {
        state.mappingStrings(at: kind.schema.secretPaths) { _, _ in .string(SecretVault.mask) }
    }

    package static func parse(_ text: String) throws -> JSONValue {
        try JSONValue.parse(text)
    }

    // MARK: - Inside the writer's transaction (for commands)

    /// A resource's current row, inside the writer's transaction.
    package static func row(_ kind: ResourceKind, id: String, in transaction: LogTransaction) throws -> Row? {
        try row(kind, id: id, transaction.connection)
    }

    /// The resource of `kind` whose unique name (or channel type) is `key`, inside the writer's transaction.
    package static func row(_ kind: ResourceKind, uniqueKey key: String, in transaction: LogTransaction) throws -> Row?
    {
        guard let id = try resource(kind, withUniqueKey: key, in: transaction) else { return nil }
        return try row(kind, id: id, transaction.connection)
    }

    /// The first resource that refers to `kind`/`id` (`kind` and `id` of the referrer), if any.
    package static func firstReferrer(
        to kind: ResourceKind,
        id: String,
        in transaction: LogTransaction
    ) throws -> (kind: String, id: String)? {
        let statement = try transaction.connection.cachedStatement(
            sql:
                "SELECT kind, id FROM config_references WHERE target_kind = ? AND target_id = ? ORDER BY kind, id LIMIT 1"
        )
        defer { statement.reset() }
        try statement.bind([kind.rawValue, id])
        return try statement.step() ? (statement.text(at: 0), statement.text(at: 1)) : nil
    }

    /// The resource of `kind` whose unique name (or channel type) is `key`, compared case-insensitively.
    package static func resource(
        _ kind: ResourceKind,
        withUniqueKey key: String,
        in transaction: LogTransaction
    ) throws
        -> String?
    {
        try transaction.connection.singleText(
            sql: "SELECT id FROM config_resources WHERE kind = ? AND unique_key = ?",
            [kind.rawValue, key.lowercased()]
        )
    }

    /// Another active account (not `id`) with `address` on a channel of the type of channel `channelId`.
    package static func activeAccount(
        otherThan id: String,
        address: String,
        channelTypeOf channelId: String,
        in transaction: LogTransaction
    ) throws -> String? {
        try transaction.connection.singleText(
            sql: """
                SELECT a.id FROM config_resources a JOIN config_resources c ON c.kind = 'channel'
                    AND c.id = json_extract(a.state, '$.channel.id')
                WHERE a.kind = 'account' AND a.id != ? AND json_extract(a.state, '$.address') = ?
                    AND json_extract(a.state, '$.active') IS NOT 0
                    AND json_extract(c.state, '$.type') = (SELECT json_extract(state, '$.type') FROM config_resources
                        WHERE kind = 'channel' AND id = ?)
                LIMIT 1
                """,
            [id, address, channelId]
        )
    }

    // MARK: - Queries

    /// A resource as the API shows it (secrets masked), or `nil`.
    package static func get(_ kind: ResourceKind, id: String, _ store: EventStore) async throws -> JSONValue? {
        try await store.pool.read { connection in
            try row(kind, id: id, connection).map { masked(kind, $0.state) }
        }
    }

    /// One page of a kind, oldest first, and the total count.
    package static func list(
        _ kind: ResourceKind,
        page: Int,
        pageSize: Int,
        _ store: EventStore
    ) async throws -> (total: Int, items: [JSONValue]) {
        try await store.pool.read { connection in
            let total =
                try connection.singleInt64(sql: "SELECT count(*) FROM config_resources WHERE kind = ?", [kind.rawValue])
                ?? 0
            let statement = try connection.cachedStatement(
                sql: "SELECT state FROM config_resources WHERE kind = ? ORDER BY created_at, id LIMIT ? OFFSET ?"
            )
            defer { statement.reset() }
            try statement.bind([kind.rawValue, pageSize, (page - 1) * pageSize])
            var items: [JSONValue] = []
            while try statement.step() { items.append(masked(kind, try parse(statement.text(at: 0)))) }
            return (Int(total), items)
        }
    }

    /// The configuration inside the writer's transaction, as ``ConfigurationRules`` reads it.
    package struct Snapshot: ConfigurationSnapshot {
        let transaction: LogTransaction

        package init(_ transaction: LogTransaction) {
            self.transaction = transaction
        }

        package func state(_ kind: ResourceKind, id: String) throws -> JSONValue? {
            try ConfigurationRows.row(kind, id: id, in: transaction)?.state
        }

        package func resource(_ kind: ResourceKind, withUniqueKey key: String) throws -> String? {
            try ConfigurationRows.resource(kind, withUniqueKey: key, in: transaction)
        }

        package func firstReferrer(to kind: ResourceKind, id: String) throws -> (kind: String, id: String)? {
            try ConfigurationRows.firstReferrer(to: kind, id: id, in: transaction)
        }

        package func activeAccount(
            otherThan id: String,
            address: String,
            channelTypeOf channelId: String
        ) throws
            -> String?
        {
            try ConfigurationRows.activeAccount(
                otherThan: id,
                address: address,
                channelTypeOf: channelId,
                in: transaction
            )
        }
    }
}
