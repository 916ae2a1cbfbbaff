import HubDomain
@_spi(Storage) package import HubEventLog
import HubSQLite

/// The LivePerson connector's view of its conversations (connector spec §7, §9), from the `connector.*`
/// and `consumer.profileSet` events:
/// - `connector_conversations`: each connector conversation's consumer, app, `state`/`stage`, the MAIN
///   dialog's next sequence, TTR, CSAT, close reason and assigned agent;
/// - `connector_events`: every messaging event with its dialog sequence (a ContentEvent's text is the
///   transcript's message it names);
/// - `connector_consumers`: each consumer's profile, sealed.
package struct ConnectorProjection: Projection {
    package let name = "connector"
    package let version = 1
    package let schema = ProjectionSchema(
        tables: ["connector_conversations", "connector_events", "connector_consumers"],
        statements: [
            """
            CREATE TABLE {connector_conversations} (
                conversation  TEXT    PRIMARY KEY,
                account       TEXT    NOT NULL,
                consumer      TEXT    NOT NULL,
                app           TEXT    NOT NULL,
                state         TEXT    NOT NULL,
                stage         TEXT    NOT NULL,
                next_sequence INTEGER NOT NULL,
                skill         TEXT,
                ttr_type      TEXT    NOT NULL,
                ttr_value     INTEGER NOT NULL,
                csat          TEXT,
                close_reason  TEXT,
                assigned      TEXT,
                started_at    INTEGER NOT NULL,
                ended_at      INTEGER,
                updated_at    INTEGER NOT NULL
            ) STRICT
            """,
            """
            CREATE INDEX {connector_conversations}_open ON {connector_conversations} (account, consumer)
                WHERE state = 'OPEN'
            """,
            """
            CREATE TABLE {connector_events} (
                position     INTEGER PRIMARY KEY,
                conversation TEXT    NOT NULL,
                dialog       TEXT    NOT NULL,
                sequence     INTEGER,
                originator   TEXT    NOT NULL,
                role         TEXT    NOT NULL,
                event        TEXT    NOT NULL,
                message      TEXT,
                metadata     TEXT,
                recorded_at  INTEGER NOT NULL
            ) STRICT
            """,
            "CREATE INDEX {connector_events}_by_conversation ON {connector_events} (conversation, position)",
            """
            CREATE TABLE {connector_consumers} (
                account     TEXT    NOT NULL,
                consumer    TEXT    NOT NULL,
                external_id TEXT    NOT NULL,
                app         TEXT    NOT NULL,
                profile     TEXT    NOT NULL,
                updated_at  INTEGER NOT NULL,
                PRIMARY KEY (account, consumer)
            ) STRICT
            """,
        ]
    )

    package func apply(_ event: RecordedEvent, _ context: ProjectionContext) throws {
        let conversations = context.table("connector_conversations")
        switch event.type {
        case ConnectorConversationOpened.type:
            let opened = try event.payload(ConnectorConversationOpened.self)
            try context.connection.run(
                sql: """
                    INSERT INTO \(conversations) (conversation, account, consumer, app, state, stage, next_sequence,
                        skill, ttr_type, ttr_value, started_at, updated_at)
                    VALUES (?, ?, ?, ?, 'OPEN', 'OPEN', 0, ?, ?, ?, ?, ?)
                    """,
                [
                    opened.conversation, opened.account, opened.consumer, opened.app, opened.skillId, opened.ttrType,
                    opened.ttrValue, event.recordedAt, event.recordedAt,
                ]
            )
        case ConnectorEventPublished.type:
            let published = try event.payload(ConnectorEventPublished.self)
            try context.connection.run(
                sql: """
                    INSERT INTO \(context.table("connector_events")) (position, conversation, dialog, sequence,
                        originator, role, event, message, metadata, recorded_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                [
                    event.position, published.conversation, published.dialog, published.sequence,
                    published.originator.id, published.originator.role, published.event.text, published.message,
                    published.metadata?.text, event.recordedAt,
                ]
            )
            if let sequence = published.sequence {
                try context.connection.run(
                    sql: "UPDATE \(conversations) SET next_sequence = ?, updated_at = ? WHERE conversation = ?",
                    [sequence + 1, event.recordedAt, published.conversation]
                )
            }
        case ConnectorConversationChanged.type:
            try changed(try event.payload(ConnectorConversationChanged.self), event, conversations, context)
        case ConsumerProfileSet.type:
            let set = try event.payload(ConsumerProfileSet.self)
            try context.connection.run(
                sql: """
                    INSERT INTO \(context.table("connector_consumers")) (account, consumer, external_id, app, profile,
                        updated_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (account, consumer) DO UPDATE SET app = excluded.app, profile = excluded.profile,
                        updated_at = excluded.updated_at
                    """,
                [set.account, set.consumer, set.externalId, set.app, set.profile, event.recordedAt]
            )
        case ErasurePerformed.type:
            // A consumer whose key is gone has no profile left to keep.
            for record in try event.payload(ErasurePerformed.self).shredded where record.hasPrefix("consumer/") {
                let rest = record.dropFirst("consumer/".count)
                guard let slash = rest.firstIndex(of: "/") else { continue }
                try context.connection.run(
                    sql: "DELETE FROM \(context.table("connector_consumers")) WHERE account = ? AND consumer = ?",
                    [String(rest[..<slash]), String(rest[rest.index(after: slash)...])]
                )
            }
        default:
            break
        }
    }

    private func changed(
        _ change: ConnectorConversationChanged,
        _ event: RecordedEvent,
        _ table: String,
        _ context: ProjectionContext
    ) throws {
        switch change.change {
        case .close, .closeDialog:
            try context.connection.run(
                sql: """
                    UPDATE \(table) SET state = 'CLOSE', stage = 'CLOSE', close_reason = ?, ended_at = ?, updated_at = ?
                    WHERE conversation = ? AND state = 'OPEN'
                    """,
                [change.closeReason ?? "CONSUMER", event.recordedAt, event.recordedAt, change.conversation]
            )
        case .csat:
            try context.connection.run(
                sql: "UPDATE \(table) SET csat = ?, updated_at = ? WHERE conversation = ?",
                [change.csat?.text, event.recordedAt, change.conversation]
            )
        case .ttr:
            try context.connection.run(
                sql: "UPDATE \(table) SET ttr_type = ?, ttr_value = ?, updated_at = ? WHERE conversation = ?",
                [change.ttrType ?? "NORMAL", change.ttrValue ?? 0, event.recordedAt, change.conversation]
            )
        case .assign:
            let assigned = change.participant.map {
                JSONValue.object(["id": .string($0.id), "role": .string($0.role)])
            }
            try context.connection.run(
                sql: "UPDATE \(table) SET assigned = ?, updated_at = ? WHERE conversation = ?",
                [assigned?.text, event.recordedAt, change.conversation]
            )
        }
    }
}
