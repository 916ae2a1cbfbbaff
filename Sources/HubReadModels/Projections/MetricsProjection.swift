import HubDomain
@_spi(Storage) package import HubEventLog
import HubSQLite

/// Conversation metrics (README "Conversation metrics"), kept as a rollup from the conversations' events
/// and the delivery outcomes, at the time each event was recorded:
/// - `metrics_hourly`: counts per account, channel type and hour (conversations started and ended,
///   messages by sender group, escalations, bot containment, abandonment, deliveries failed);
/// - `metrics_conversations`: one row per conversation with the times the durations are measured
///   between (first customer message, first answer, first agent message, escalation, end), so that
///   p50/p90 over any range are exact. A message changes its conversation's row only when it is one of
///   those firsts: whether the customer's last message went unanswered is read from the transcript
///   when the conversation ends;
/// - `metrics_agents`: one row per agent and conversation the agent wrote in (handled).
///
/// It holds no personal data: ids, types, times and counts. An erasure leaves it as it is.
package struct MetricsProjection: Projection {
    package let name = "metrics"
    /// 2: no `awaiting_answer` in `metrics_conversations`, which every message updated; the end of a
    /// conversation reads its last counted message instead.
    package let version = 2
    /// A failed delivery's conversation is its message's, and an ended conversation's last message is
    /// its transcript's: both read from the transcripts.
    package let dependencies = ["transcripts"]
    package let schema = ProjectionSchema(
        tables: ["metrics_conversations", "metrics_hourly", "metrics_agents"],
        statements: [
            """
            CREATE TABLE {metrics_conversations} (
                conversation      TEXT    PRIMARY KEY,
                account           TEXT    NOT NULL,
                channel_type      TEXT    NOT NULL,
                started_at        INTEGER NOT NULL,
                first_customer_at INTEGER,
                first_response_at INTEGER,
                first_agent_at    INTEGER,
                escalated_at      INTEGER,
                ended_at          INTEGER
            ) STRICT, WITHOUT ROWID
            """,
            "CREATE INDEX {metrics_conversations}_by_started ON {metrics_conversations} (started_at)",
            """
            CREATE INDEX {metrics_conversations}_by_ended ON {metrics_conversations} (ended_at)
            WHERE ended_at IS NOT NULL
            """,
            """
            CREATE TABLE {metrics_hourly} (
                hour              INTEGER NOT NULL,
                account           TEXT    NOT NULL,
                channel_type      TEXT    NOT NULL,
                started           INTEGER NOT NULL DEFAULT 0,
                ended             INTEGER NOT NULL DEFAULT 0,
                escalated         INTEGER NOT NULL DEFAULT 0,
                contained         INTEGER NOT NULL DEFAULT 0,
                abandoned         INTEGER NOT NULL DEFAULT 0,
                customer_messages INTEGER NOT NULL DEFAULT 0,
                bot_messages      INTEGER NOT NULL DEFAULT 0,
                agent_messages    INTEGER NOT NULL DEFAULT 0,
                system_messages   INTEGER NOT NULL DEFAULT 0,
                deliveries_failed INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (hour, account, channel_type)
            ) STRICT, WITHOUT ROWID
            """,
            """
            CREATE TABLE {metrics_agents} (
                agent        TEXT    NOT NULL,
                conversation TEXT    NOT NULL,
                name         TEXT,
                first_at     INTEGER NOT NULL,
                messages     INTEGER NOT NULL,
                PRIMARY KEY (agent, conversation)
            ) STRICT, WITHOUT ROWID
            """,
            "CREATE INDEX {metrics_agents}_by_first ON {metrics_agents} (first_at)",
        ]
    )

    package static let hour: Int64 = 3_600_000

    package func settle(_ context: ProjectionContext) throws {
        try context.state(MetricsScratch.init).write(context)
    }

    package func apply(_ event: RecordedEvent, _ context: ProjectionContext) throws {
        let rows = MetricsRows(context: context, at: event.recordedAt)
        switch event.type {
        case ConversationStarted.type:
            let started = try event.payload(ConversationStarted.self)
            try rows.start(started.id, account: started.account.id, channel: started.channel.type)
        case MessageReceived.type:
            let received = try event.payload(MessageReceived.self)
            guard let group = SenderGroup(received.sender["type"]?.stringValue),
                MetricsRows.counts(messageType: received.type.value)
            else { return }
            try rows.message(in: received.conversation, from: group, participant: received.sender["participant"])
        case MessageOriginated.type:
            try rows.bump(["system_messages"], conversation: try event.payload(MessageOriginated.self).conversation)
        case ConversationEscalated.type:
            try rows.escalate(try Self.conversation(of: event))
        case ConversationEnded.type:
            try rows.end(try Self.conversation(of: event))
        case DeliveryFailed.type:
            // The message's conversation, from its transcript row when the event does not name it.
            let items = try event.payload(DeliveryFailed.self).deliveries
            if items.contains(where: { $0.conversation == nil }) { try TranscriptRows.writeHeld(context) }
            for item in items {
                guard
                    let conversation = try item.conversation
                        ?? context.connection.singleText(
                            sql: """
                                SELECT \(ConversationProjection.conversationId(context.table("conversations")))
                                FROM \(context.table("messages")) WHERE id = ?
                                """,
                            [item.message]
                        )
                else { continue }
                try rows.bump(["deliveries_failed"], conversation: conversation)
            }
        default:
            break
        }
    }

    private static func conversation(of event: RecordedEvent) throws -> String {
        guard event.stream.hasPrefix("conversation/") else {
            throw ProjectionError.malformed(
                position: event.position,
                type: event.type,
                reason: "not a conversation stream"
            )
        }
        return String(event.stream.dropFirst("conversation/".count))
    }
}

/// Who wrote a message, as the metrics count it.
package enum SenderGroup: String, Sendable {
    case customer, bot, agent

    init?(_ senderType: String?) {
        switch senderType {
        case "customer": self = .customer
        case "custom_bot", "egain_bot": self = .bot
        case "custom_agent", "egain_agent": self = .agent
        default: return nil
        }
    }
}

/// The metrics projection's writes for one event recorded at `time`.
struct MetricsRows {
    let context: ProjectionContext
    let time: Int64
    var connection: Connection { context.connection }
    var scratch: MetricsScratch { context.state(MetricsScratch.init) }

    init(context: ProjectionContext, at time: Int64) {
        self.context = context
        self.time = time
    }

    /// Whether a message of `type` is one the metrics count: one that says something (`text`, a rich
    /// message), not a typing notice, a state change or a control message.
    static func counts(messageType type: String) -> Bool {
        type == "text" || type.hasPrefix("richMessage.")
    }

    func start(_ conversation: String, account: String, channel: String) throws {
        try scratch.start(conversation, account: account, channel: channel, at: time)
        try bump(["started"], conversation: conversation)
    }

    /// A customer's message awaits an answer; a bot's or agent's answers it (the first answer after the
    /// customer's first message is the first response), and an agent's is counted for that agent.
    func message(in conversation: String, from group: SenderGroup, participant: JSONValue?) throws {
        guard var row = try scratch.row(conversation, context) else { return }
        switch group {
        case .customer:
            row.firstCustomerAt = row.firstCustomerAt ?? time
        case .bot, .agent:
            let agent = group == .agent
            if row.firstCustomerAt != nil { row.firstResponseAt = row.firstResponseAt ?? time }
            if agent { row.firstAgentAt = row.firstAgentAt ?? time }
            if agent {
                // An agent is its participant id, else its name; an agent that gave neither is one
                // anonymous agent of its sender type.
                let id = participant?["id"]?.stringValue
                let name = participant?["name"]?.stringValue
                try connection.run(
                    sql: """
                        INSERT INTO \(context.table("metrics_agents")) (agent, conversation, name, first_at, messages)
                        VALUES (?, ?, ?, ?, 1)
                        ON CONFLICT (agent, conversation) DO UPDATE SET messages = messages + 1,
                            name = coalesce(excluded.name, name)
                        """,
                    [id ?? name ?? "", conversation, name, time]
                )
            }
        }
        scratch.update(row)
        bump(["\(group.rawValue)_messages"], row)
    }

    /// The first escalation of a conversation counts (a bypass starts it escalated).
    func escalate(_ conversation: String) throws {
        guard var row = try scratch.row(conversation, context), row.escalatedAt == nil else { return }
        row.escalatedAt = time
        scratch.update(row)
        bump(["escalated"], row)
    }

    /// Ended: contained when never escalated, abandoned when the customer's last message had no answer.
    func end(_ conversation: String) throws {
        guard var row = try scratch.row(conversation, context), row.endedAt == nil else { return }
        row.endedAt = time
        scratch.update(row)
        let abandoned: Int64 = try lastCountedSender(of: conversation) == .customer ? 1 : 0
        bump(["ended", "contained", "abandoned"], by: [1, row.escalatedAt == nil ? 1 : 0, abandoned], row)
    }

    /// The sender group of the conversation's last message the metrics count (``counts(messageType:)``,
    /// from a ``SenderGroup``), from its transcript, latest first (its rows still held in memory written
    /// first).
    private func lastCountedSender(of conversation: String) throws -> SenderGroup? {
        try TranscriptRows.writeHeld(context)
        let statement = try connection.cachedStatement(
            sql: """
                SELECT type, sender_type FROM \(context.table("messages"))
                WHERE \(ConversationProjection.ofConversation(context.table("conversations"))) ORDER BY seq DESC
                """
        )
        defer { statement.reset() }
        try statement.bind([conversation])
        while try statement.step() {
            if Self.counts(messageType: statement.text(at: 0)), let group = SenderGroup(statement.text(at: 1)) {
                return group
            }
        }
        return nil
    }

    /// Adds to `columns` of the hour's row of the conversation's account and channel.
    func bump(_ columns: [String], by amounts: [Int64]? = nil, conversation: String) throws {
        guard let row = try scratch.row(conversation, context) else { return }
        bump(columns, by: amounts, row)
    }

    /// Adds to `columns` of the hour's row of the conversation's account and channel, at the end of
    /// the batch (summed with the batch's other additions to the row: one upsert a row a batch).
    private func bump(_ columns: [String], by amounts: [Int64]? = nil, _ row: MetricsConversation) {
        let hour = time - time % MetricsProjection.hour
        context.incrementAtBatchEnd(
            context.table("metrics_hourly"),
            keyColumns: ["hour", "account", "channel_type"],
            key: [hour, row.account, row.channel],
            keyText: "\(hour)\u{1}\(row.account)\u{1}\(row.channel)",
            columns: columns,
            by: amounts ?? columns.map { _ in 1 }
        )
    }
}
