import HubDomain
@_spi(Storage) package import HubEventLog
import HubSQLite

/// `connector_apps`: the LivePerson connector app installations of each account, from
/// `appInstallation.created|updated|deleted` (a deleted installation's row is gone).
package struct ConnectorAppsProjection: Projection {
    package let name = "connector-apps"
    package let version = 1
    package let schema = ProjectionSchema(
        tables: ["connector_apps"],
        statements: [
            """
            CREATE TABLE {connector_apps} (
                id           TEXT    PRIMARY KEY,
                account      TEXT    NOT NULL,
                installation TEXT    NOT NULL,
                secret       TEXT    NOT NULL,
                created_at   INTEGER NOT NULL,
                updated_at   INTEGER NOT NULL,
                position     INTEGER NOT NULL
            ) STRICT
            """,
            "CREATE INDEX {connector_apps}_by_account ON {connector_apps} (account, created_at)",
        ]
    )

    package func apply(_ event: RecordedEvent, _ context: ProjectionContext) throws {
        let table = context.table("connector_apps")
        switch event.type {
        case AppInstallationCreated.type:
            let created = try event.payload(AppInstallationCreated.self)
            try context.connection.run(
                sql: """
                    INSERT INTO \(table) (id, account, installation, secret, created_at, updated_at, position)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                [
                    created.id, created.account, created.installation.text, created.secret, event.recordedAt,
                    event.recordedAt, event.position,
                ]
            )
        case AppInstallationUpdated.type:
            let updated = try event.payload(AppInstallationUpdated.self)
            try context.connection.run(
                sql: "UPDATE \(table) SET installation = ?, updated_at = ?, position = ? WHERE id = ?",
                [updated.installation.text, event.recordedAt, event.position, updated.id]
            )
        case AppInstallationDeleted.type:
            try context.connection.run(
                sql: "DELETE FROM \(table) WHERE id = ?",
                [try event.payload(AppInstallationDeleted.self).id]
            )
        default: break
        }
    }
}
