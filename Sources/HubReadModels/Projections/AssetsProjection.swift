import HubDomain
@_spi(Storage) package import HubEventLog
import HubSQLite
import HubVault

/// `assets`: the asset index (id, conversation, name, content type, size, sha256, uploader, state),
/// from `asset.requested|uploaded|attached|deleted`.
package struct AssetsProjection: Projection {
    package let name = "assets"
    package let version = 1
    package let schema = ProjectionSchema(
        tables: ["assets"],
        statements: [
            """
            CREATE TABLE {assets} (
                id           TEXT    PRIMARY KEY,
                name         TEXT    NOT NULL,
                content_type TEXT    NOT NULL,
                size         INTEGER NOT NULL,
                sender_type  TEXT    NOT NULL,
                channel_type TEXT    NOT NULL,
                sha256       TEXT,
                state        TEXT    NOT NULL CHECK (state IN ('requested', 'uploaded', 'attached', 'deleted')),
                conversation TEXT,
                message      TEXT,
                requested_by TEXT    NOT NULL,
                created_at   INTEGER NOT NULL,
                uploaded_at  INTEGER,
                position     INTEGER NOT NULL
            ) STRICT
            """,
            "CREATE INDEX {assets}_by_conversation ON {assets} (conversation, created_at) WHERE conversation IS NOT NULL",
            "CREATE INDEX {assets}_by_state ON {assets} (state, created_at)",
        ]
    )

    package func apply(_ event: RecordedEvent, _ context: ProjectionContext) throws {
        let assets = context.table("assets")
        switch event.type {
        case AssetRequested.type:
            let requested = try event.payload(AssetRequested.self)
            try context.connection.run(
                sql: """
                    INSERT INTO \(assets) (id, name, content_type, size, sender_type, channel_type, state, requested_by,
                        created_at, position)
                    VALUES (?, ?, ?, ?, ?, ?, 'requested', ?, ?, ?)
                    """,
                [
                    requested.id, requested.name, requested.contentType, requested.size, requested.sender.type,
                    requested.channel.type, event.actor, event.recordedAt, event.position,
                ]
            )
        case AssetUploaded.type:
            let uploaded = try event.payload(AssetUploaded.self)
            try context.connection.run(
                sql: "UPDATE \(assets) SET state = 'uploaded', sha256 = ?, uploaded_at = ?, position = ? WHERE id = ?",
                [uploaded.sha256, event.recordedAt, event.position, uploaded.id]
            )
        case AssetAttached.type:
            let attached = try event.payload(AssetAttached.self)
            try context.connection.run(
                sql:
                    "UPDATE \(assets) SET state = 'attached', conversation = ?, message = ?, position = ? WHERE id = ?",
                [attached.conversation, attached.message, event.position, attached.id]
            )
        case AssetDeleted.type:
            try context.connection.run(
                sql: "UPDATE \(assets) SET state = 'deleted', position = ? WHERE id = ?",
                [event.position, try event.payload(AssetDeleted.self).id]
            )
        case ErasurePerformed.type:
            for id in try event.payload(ErasurePerformed.self).assets {
                try context.connection.run(
                    sql: "UPDATE \(assets) SET state = 'deleted', position = ? WHERE id = ?",
                    [event.position, id]
                )
            }
        default: break
        }
    }
}
