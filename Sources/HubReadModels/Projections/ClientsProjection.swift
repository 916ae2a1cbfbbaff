import HubDomain
@_spi(Storage) package import HubEventLog
import HubSQLite
import HubVault

/// `api_clients`: who may ask `POST /oauth2/token` for tokens, from `client.created|revoked`.
package struct ClientsProjection: Projection {
    package let name = "clients"
    package let version = 1
    package let schema = ProjectionSchema(
        tables: ["api_clients"],
        statements: [
            """
            CREATE TABLE {api_clients} (
                id          TEXT    PRIMARY KEY,
                name        TEXT    NOT NULL,
                scopes      TEXT    NOT NULL,
                secret_salt BLOB    NOT NULL,
                secret_hash BLOB    NOT NULL,
                created_at  INTEGER NOT NULL,
                revoked_at  INTEGER,
                position    INTEGER NOT NULL
            ) STRICT
            """
        ]
    )

    package func apply(_ event: RecordedEvent, _ context: ProjectionContext) throws {
        switch event.type {
        case ClientCreated.type:
            let created = try event.payload(ClientCreated.self)
            guard let salt = created.secretSalt.hexDecoded, let hash = created.secretHash.hexDecoded else {
                throw event.missing("hexadecimal secretSalt and secretHash")
            }
            try context.connection.run(
                sql: """
                    INSERT INTO \(context.table("api_clients")) (id, name, scopes, secret_salt, secret_hash, created_at,
                        position)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                [
                    created.id, created.name, created.scopes.joined(separator: " "), salt, hash, event.recordedAt,
                    event.position,
                ]
            )
        case ClientRevoked.type:
            try context.connection.run(
                sql: "UPDATE \(context.table("api_clients")) SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                [event.recordedAt, try event.payload(ClientRevoked.self).id]
            )
        default: break
        }
    }
}
