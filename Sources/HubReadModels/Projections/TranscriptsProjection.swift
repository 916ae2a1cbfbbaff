import HubDomain
@_spi(Storage) package import HubEventLog
import HubSQLite
import HubVault

/// The transcripts: `conversations`, `messages` and the customers' contact keys
/// (`customer_contacts`), from the conversation streams' events and the delivery outcomes.
///
/// Message content and customer identity are sealed in the log; this read model holds them opened,
/// through the vault (DESIGN.md §6). A message whose key was shredded (`delete.permanent`) has no
/// content here, as its `message.erased` leaves it.
package struct TranscriptsProjection: Projection {
    package let name = "transcripts"
    /// Still 1 with `conversations.erased`: migration 0011 added the column to existing stores, whose
    /// logs hold no erasure, so their tables are what a rebuild would make. 2: a message's rowid is the
    /// position of the event that made it, by which the search projection's index names it. 3: a
    /// message's `outcomes` are the positions of the events that finished its deliveries (the outbox
    /// keeps pending ones only). 4: `text` is read from `content` (a virtual column), not stored twice.
    /// 5: a message's `recipients` are a reference into `message_recipients`, where each list of
    /// recipients (an account's few bots, agents and customer applications) is said once. 6: a
    /// message's `conversation` is its conversation's `number` (the position of its
    /// `conversation.started`), not its id again in every row and in the key's index.
    package let version = 6
    package let schema = ProjectionSchema(
        tables: ["conversations", "messages", "customer_contacts", "message_recipients"],
        statements: TranscriptsSchema.statements
    )
    /// A delivery written by reference names its recipient in `routing_configurations`.
    package let dependencies = ["routing"]

    package func settle(_ context: ProjectionContext) throws {
        try TranscriptRows.settle(context)
    }

    /// A conversation's customer identity and a message's content: what most events here open.
    package func sealedValues(in event: RecordedEvent) -> [SealedReference] {
        switch event.typedPayload {
        case let started as ConversationStarted:
            [SealedReference(started.customer.identity, record: "customer/\(started.customer.id)")]
        case let received as MessageReceived: [SealedReference(received.content, record: "message/\(received.id)")]
        default: []
        }
    }

    package func apply(_ event: RecordedEvent, _ context: ProjectionContext) throws {
        switch event.type {
        case MessageRouted.type: break
        // What only adds rows, or changes held ones in memory, leaves the held rows held …
        case MessageReceived.type, DeliveryAttempted.type, DeliverySucceeded.type, DeliveryFailed.type,
            ConversationStarted.type, CustomerContactsLinked.type:
            TranscriptRows.closeAwaiting(context)
        // … anything else may read or change them in SQL: they are written first.
        default: try TranscriptRows.writeHeld(context)
        }
        let rows = TranscriptRows(context: context, event: event)
        switch event.type {
        case ConversationStarted.type: try rows.start(try event.payload(ConversationStarted.self))
        case ConversationEscalated.type:
            try rows.updateConversation("state = 'escalated', escalated = 1", of: event.stream)
        case ConversationAssigned.type:
            let assigned = try event.payload(ConversationAssigned.self)
            try rows.updateConversation(
                "assigned_agent = ?, queue = ?",
                [assigned.agent, assigned.queue],
                of: event.stream
            )
        case ConversationEnded.type:
            try rows.updateConversation("state = 'ended', ended_at = ?", [event.recordedAt], of: event.stream)
        case CustomerContactsLinked.type:
            let linked = try event.payload(CustomerContactsLinked.self)
            try rows.link(account: linked.account, customer: linked.customer, keys: linked.contactKeys)
        case MessageReceived.type: try rows.received(try event.payload(MessageReceived.self))
        case MessageOriginated.type: try rows.originated(try event.payload(MessageOriginated.self))
        case MessageRouted.type:
            try rows.routed(try RoutingProjection.resolved(try event.payload(MessageRouted.self), event, context))
        case MessageSoftDeleted.type:
            try rows.updateMessage("hidden = 1", try event.payload(MessageSoftDeleted.self).message)
        case MessageRestored.type:
            try rows.updateMessage("hidden = 0", try event.payload(MessageRestored.self).message)
        case MessageErased.type:
            try rows.erase(message: try event.payload(MessageErased.self).message)
        case ErasurePerformed.type: try rows.erase(try event.payload(ErasurePerformed.self))
        case DeliverySucceeded.type:
            try rows.delivered(try event.payload(DeliverySucceeded.self).deliveries, succeeded: true)
        case DeliveryFailed.type:
            try rows.delivered(try event.payload(DeliveryFailed.self).deliveries, succeeded: false)
        default: break
        }
    }
}

/// The tables' SQL, as migrations 0004, 0008 and 0011 left them, and versions 3 to 6 of the projection.
package enum TranscriptsSchema {
    package static let statements = [
        """
        CREATE TABLE {customer_contacts} (
            account     TEXT NOT NULL,
            contact_key TEXT NOT NULL,
            customer    TEXT NOT NULL,
            PRIMARY KEY (account, contact_key)
        ) STRICT
        """,
        "CREATE INDEX {customer_contacts}_by_key ON {customer_contacts} (contact_key)",
        """
        CREATE TABLE {conversations} (
            id              TEXT    PRIMARY KEY,
            number          INTEGER NOT NULL UNIQUE,
            account         TEXT    NOT NULL,
            account_address TEXT    NOT NULL,
            channel_type    TEXT    NOT NULL,
            entry_point     TEXT,
            customer        TEXT    NOT NULL,
            customer_state  TEXT    CHECK (customer_state IS NULL OR json_valid(customer_state)),
            contact         TEXT,
            origin          TEXT    NOT NULL,
            state           TEXT    NOT NULL CHECK (state = 'active' OR state = 'escalated' OR state = 'ended'),
            escalated       INTEGER NOT NULL DEFAULT 0,
            assigned_agent  TEXT,
            queue           TEXT,
            started_at      INTEGER NOT NULL,
            ended_at        INTEGER,
            last_activity   INTEGER NOT NULL,
            message_count   INTEGER NOT NULL DEFAULT 0,
            position        INTEGER NOT NULL,
            erased          INTEGER NOT NULL DEFAULT 0
        ) STRICT, WITHOUT ROWID
        """,
        "CREATE INDEX {conversations}_by_started ON {conversations} (started_at, id)",
        "CREATE INDEX {conversations}_by_account ON {conversations} (account, started_at, id)",
        "CREATE INDEX {conversations}_by_customer ON {conversations} (customer, started_at)",
        """
        CREATE TABLE {message_recipients} (
            id   INTEGER PRIMARY KEY,
            json TEXT    NOT NULL UNIQUE CHECK (json_valid(json))
        ) STRICT
        """,
        """
        CREATE TABLE {messages} (
            conversation INTEGER NOT NULL,
            seq          INTEGER NOT NULL,
            id           TEXT    NOT NULL UNIQUE,
            message_id   TEXT,
            type         TEXT    NOT NULL,
            sender_type  TEXT    NOT NULL,
            sender       TEXT    NOT NULL CHECK (json_valid(sender)),
            recipients   INTEGER,
            content      TEXT    NOT NULL CHECK (json_valid(content)),
            text         TEXT    GENERATED ALWAYS AS (
                CASE WHEN json_type(content, '$.text') = 'text' THEN json_extract(content, '$.text') END
            ) VIRTUAL,
            attributes   TEXT    CHECK (attributes IS NULL OR json_valid(attributes)),
            transcript   INTEGER NOT NULL,
            status       TEXT    NOT NULL
                CHECK (status = 'accepted' OR status = 'sent' OR status = 'failed' OR status = 'discarded'),
            created_at   INTEGER NOT NULL,
            sent_at      INTEGER,
            hidden       INTEGER NOT NULL DEFAULT 0,
            erased       INTEGER NOT NULL DEFAULT 0,
            deliveries_pending INTEGER NOT NULL DEFAULT 0,
            position     INTEGER NOT NULL,
            outcomes     TEXT,
            PRIMARY KEY (conversation, seq)
        ) STRICT
        """,
    ]
}
