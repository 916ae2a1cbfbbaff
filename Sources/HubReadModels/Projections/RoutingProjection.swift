import Foundation
package import HubDomain
@_spi(Storage) package import HubEventLog
package import HubSQLite

/// `routing_configurations`: the configuration each account's messages were routed under, per
/// generation (``RoutingConfigured``), which version-2 `message.routed` events name instead of
/// repeating it, and the recipients it routes to, which deliveries written by reference name by type
/// (``MessageRouted/Delivery``). The intake reads it to record a generation once; the audit trail, to
/// show it; the transcripts and the outbox, to resolve deliveries (``resolved(_:_:_:)``).
package struct RoutingProjection: Projection {
    package let name = "routing"
    /// 2: `recipients`.
    package let version = 2
    package let schema = ProjectionSchema(
        tables: ["routing_configurations"],
        statements: [
            """
            CREATE TABLE {routing_configurations} (
                account       TEXT    NOT NULL,
                generation    INTEGER NOT NULL,
                configuration TEXT    NOT NULL CHECK (json_valid(configuration)),
                position      INTEGER NOT NULL,
                recipients    TEXT    CHECK (recipients IS NULL OR json_valid(recipients)),
                PRIMARY KEY (account, generation)
            ) STRICT, WITHOUT ROWID
            """
        ]
    )

    package func apply(_ event: RecordedEvent, _ context: ProjectionContext) throws {
        guard event.type == RoutingConfigured.type else { return }
        let configured = try event.payload(RoutingConfigured.self)
        // The configuration and recipients as the event holds them (checked by the payload's decoding
        // just now).
        let data = try JSONValue.parse(event.data)
        guard let configuration = data["configuration"] else { throw event.missing("configuration") }
        // The first record of a generation stands; a later one (a generation recorded before December
        // 2026, recorded again with its recipients) adds the recipients only.
        try context.connection.run(
            sql: """
                INSERT INTO \(context.table("routing_configurations"))
                    (account, generation, configuration, position, recipients)
                VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (account, generation) DO UPDATE SET recipients = excluded.recipients
                    WHERE recipients IS NULL
                """,
            [configured.account, configured.generation, configuration.text, event.position, data["recipients"]?.text]
        )
    }

    /// What the log recorded of a generation.
    package enum Recorded: Equatable {
        case unrecorded
        /// Recorded before December 2026, without its recipients.
        case withoutRecipients
        /// Its recipients, as ``text(of:)`` writes them.
        case recipients(String)
    }

    /// What is recorded of the account's configuration at `generation`, inside the writer's transaction.
    package static func recorded(account: String, generation: Int64, in transaction: LogTransaction) throws -> Recorded
    {
        let statement = try transaction.connection.cachedStatement(
            sql: "SELECT recipients FROM routing_configurations WHERE account = ? AND generation = ?"
        )
        defer { statement.reset() }
        try statement.bind([account, generation])
        guard try statement.step() else { return .unrecorded }
        return statement.optionalText(at: 0).map(Recorded.recipients) ?? .withoutRecipients
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

    /// Recipients as `routing_configurations` keeps them: the event's JSON for them.
    package static func text(of recipients: [MessageRouted.Delivery]) -> String {
        // Encoding these plain values does not fail.
        (try? EventCatalogue.text(of: recipients)) ?? "[]"
    }

    /// `routed` with its deliveries written by reference resolved from the recipients recorded for its
    /// account and generation (`event`'s account), in a projection's run: the same as the writer's
    /// own payload, which has them all.
    package static func resolved(
        _ routed: MessageRouted,
        _ event: RecordedEvent,
        _ context: ProjectionContext
    ) throws -> MessageRouted {
        guard routed.deliveries.contains(where: \.isUnresolved) else { return routed }
        guard let account = event.account, let generation = routed.configurationGeneration else {
            throw event.missing("the account and configuration generation its deliveries refer to")
        }
        let known = context.state(RecordedRecipients.init)
        let key = RecordedRecipients.Key(account: account, generation: generation)
        let recipients: [MessageRouted.Delivery]
        if let cached = known.recipients[key] {
            recipients = cached
        } else {
            guard
                let text = try context.connection.singleText(
                    sql: """
                        SELECT recipients FROM \(context.table("routing_configurations"))
                        WHERE account = ? AND generation = ?
                        """,
                    [account, generation]
                )
            else { throw event.missing("the recipients of configuration generation \(generation)") }
            recipients = try JSONDecoder().decode([MessageRouted.Delivery].self, from: Data(text.utf8))
            known.recipients[key] = recipients
        }
        var resolved = routed
        do {
            resolved.deliveries = try routed.deliveries.map { try $0.resolved(by: recipients) }
        } catch let error as RecipientReferenceError {
            throw event.missing(error.description)
        }
        return resolved
    }
}

/// The recipients of the generations a projection's run resolved deliveries by: a generation's
/// recipients never change once recorded.
final class RecordedRecipients {
    struct Key: Hashable {
        var account: String
        var generation: Int64
    }

    var recipients: [Key: [MessageRouted.Delivery]] = [:]

    init() {}
}
