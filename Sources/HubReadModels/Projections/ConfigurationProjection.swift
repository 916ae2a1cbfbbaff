import HubDomain
@_spi(Storage) package import HubEventLog
import HubSQLite
import HubVault

/// The configuration read model: current resources (`config_resources`, with the unique key the API
/// enforces), what each refers to (`config_references`, for in-use checks), and every version
/// (`config_history`, for "as of" queries), from `<kind>.created|updated|deleted`, whose data is the
/// resource's full new state with its secrets sealed.
package struct ConfigurationProjection: Projection {
    package let name = "configuration"
    package let version = 1
    package let schema = ProjectionSchema(
        tables: ["config_resources", "config_references", "config_history"],
        statements: [
            """
            CREATE TABLE {config_resources} (
                kind        TEXT    NOT NULL,
                id          TEXT    NOT NULL,
                unique_key  TEXT    NOT NULL,
                state       TEXT    NOT NULL CHECK (json_valid(state)),
                created_at  INTEGER NOT NULL,
                modified_at INTEGER NOT NULL,
                position    INTEGER NOT NULL,
                PRIMARY KEY (kind, id)
            ) STRICT
            """,
            "CREATE UNIQUE INDEX {config_resources}_by_unique_key ON {config_resources} (kind, unique_key)",
            "CREATE INDEX {config_resources}_by_created ON {config_resources} (kind, created_at, id)",
            """
            CREATE TABLE {config_references} (
                kind        TEXT NOT NULL,
                id          TEXT NOT NULL,
                target_kind TEXT NOT NULL,
                target_id   TEXT NOT NULL,
                PRIMARY KEY (kind, id, target_kind, target_id)
            ) STRICT
            """,
            "CREATE INDEX {config_references}_by_target ON {config_references} (target_kind, target_id)",
            """
            CREATE TABLE {config_history} (
                kind        TEXT    NOT NULL,
                id          TEXT    NOT NULL,
                position    INTEGER NOT NULL,
                recorded_at INTEGER NOT NULL,
                actor       TEXT    NOT NULL,
                change      TEXT    NOT NULL CHECK (change = 'created' OR change = 'updated' OR change = 'deleted'),
                state       TEXT,
                PRIMARY KEY (kind, id, position)
            ) STRICT
            """,
            "CREATE INDEX {config_history}_by_position ON {config_history} (position)",
        ]
    )

    package func apply(_ event: RecordedEvent, _ context: ProjectionContext) throws {
        // Configuration events are named after their resource kind: only those go further.
        guard let dot = event.type.lastIndex(of: "."), ResourceKind(rawValue: String(event.type[..<dot])) != nil
        else { return }
        let kind: ResourceKind
        let id: String
        let change: String
        var state: JSONValue?
        switch try event.payload() {
        case let changed as ConfigurationChanged:
            guard let stateId = changed.state["id"]?.stringValue else { throw event.missing("id") }
            (kind, id, change, state) = (changed.kind, stateId, changed.change.rawValue, changed.state)
        case let deleted as ConfigurationDeleted:
            (kind, id, change) = (deleted.kind, deleted.id, "deleted")
        default: return
        }
        let connection = context.connection
        let resources = context.table("config_resources")
        let references = context.table("config_references")
        try connection.run(sql: "DELETE FROM \(references) WHERE kind = ? AND id = ?", [kind.rawValue, id])
        if let state {
            let uniqueKey = (state[kind.uniqueField]?.stringValue ?? "").lowercased()
            try connection.run(
                sql: """
                    INSERT INTO \(resources) (kind, id, unique_key, state, created_at, modified_at, position)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (kind, id) DO UPDATE SET unique_key = excluded.unique_key, state = excluded.state,
                        modified_at = excluded.modified_at, position = excluded.position
                    """,
                // The state as the log holds it, byte for byte.
                [kind.rawValue, id, uniqueKey, event.data, event.recordedAt, event.recordedAt, event.position]
            )
            var targets: Set<[String]> = []
            for (path, target) in kind.references {
                for targetId in state.strings(at: path) { targets.insert([target.rawValue, targetId]) }
            }
            for target in targets {
                try connection.run(
                    sql: "INSERT INTO \(references) (kind, id, target_kind, target_id) VALUES (?, ?, ?, ?)",
                    [kind.rawValue, id, target[0], target[1]]
                )
            }
        } else {
            try connection.run(sql: "DELETE FROM \(resources) WHERE kind = ? AND id = ?", [kind.rawValue, id])
        }
        try connection.run(
            sql: """
                INSERT INTO \(context.table("config_history")) (kind, id, position, recorded_at, actor, change, state)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
            [kind.rawValue, id, event.position, event.recordedAt, event.actor, change, state == nil ? nil : event.data]
        )
        // The newest row: the account directory's generation (in the writer).
        context.carriedState(ConfigurationGeneration.init)?.text = "\(event.position):\(event.id)"
    }
}
