package import HubDomain
@_spi(Storage) package import HubEventLog
package import HubSQLite

/// `routing_configurations`: the configuration each account's messages were routed under, per
/// generation (``RoutingConfigured``), which version-2 `message.routed` events name instead of
/// repeating it. The intake reads it to record a generation once; the audit trail, to show it.
package struct RoutingProjection: Projection {
    package let name = "routing"
    package let version = 1
    package let schema = ProjectionSchema(
        tables: ["routing_configurations"],
        statements: [
            """
            CREATE TABLE {routing_configurations} (
                account       TEXT    NOT NULL,
                generation    INTEGER NOT NULL,
                configuration TEXT    NOT NULL CHECK (json_valid(configuration)),
                position      INTEGER NOT NULL,
                PRIMARY KEY (account, generation)
            ) STRICT, WITHOUT ROWID
            """
        ]
    )

    package func apply(_ event: RecordedEvent, _ context: ProjectionContext) throws {
        guard event.type == RoutingConfigured.type else { return }
        let configured = try event.payload(RoutingConfigured.self)
        // The configuration as the event holds it (checked by the payload's decoding just now).
        guard let configuration = try JSONValue.parse(event.data)["configuration"] else {
            throw event.missing("configuration")
        }
        try context.connection.run(
            sql: """
                INSERT OR IGNORE INTO \(context.table("routing_configurations"))
                    (account, generation, configuration, position)
                VALUES (?, ?, ?, ?)
                """,
            [configured.account, configured.generation, configuration.text, event.position]
        )
    }

    /// Whether the account's configuration at `generation` is recorded, inside the writer's transaction.
    package static func isRecorded(account: String, generation: Int64, in transaction: LogTransaction) throws -> Bool {
        let statement = try transaction.connection.cachedStatement(
            sql: "SELECT 1 FROM routing_configurations WHERE account = ? AND generation = ?"
        )
        defer { statement.reset() }
        try statement.bind([account, generation])
        return try statement.step()
    }

    /// The account's configuration at `generation`, as recorded; `nil` when it is not.
    package static func configuration(
        account: String,
        generation: Int64,
        _ connection: Connection
    ) throws -> MessageRouted.Configuration? {
        try connection.singleText(
            sql: "SELECT configuration FROM routing_configurations WHERE account = ? AND generation = ?",
            [account, generation]
        ).map(MessageRouted.Configuration.parse)
    }
}
