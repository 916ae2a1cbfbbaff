@_spi(Storage) import HubEventLog
import HubSQLite

/// A delivery row not written yet (``OutboxProjection``).
struct HeldDelivery {
    var id: String
    var conversation: String
    var message: String
    var seq: Int64
    var application: String
    var role: String
    var senderType: String
    var payload: String?
    /// Succeeded or failed in the same append or rebuild chunk: never written.
    var finished = false
    var attempts: Int64 = 0
    var nextAttemptAt: Int64
    var createdAt: Int64
    var lastStatus: Int64?
    var lastError: String?
    var lastLatencyMs: Int64?
    var request: String?

    init(
        id: String,
        conversation: String,
        message: String,
        seq: Int64,
        application: String,
        role: String,
        senderType: String,
        payload: String?,
        createdAt: Int64
    ) {
        (self.id, self.conversation, self.message, self.seq) = (id, conversation, message, seq)
        (self.application, self.role, self.senderType, self.payload) = (application, role, senderType, payload)
        (self.nextAttemptAt, self.createdAt) = (createdAt, createdAt)
    }

    mutating func record(_ outcome: OutboxProjection.Outcome) {
        request = outcome.request
        lastStatus = outcome.status.map(Int64.init)
        lastError = outcome.error
        lastLatencyMs = outcome.latencyMs
    }
}

/// The outbox's delivery rows held back in one append or rebuild chunk, in the order they were made.
final class OutboxScratch {
    var held: [HeldDelivery] = []
    var index: [String: Int] = [:]

    /// Writes the delivery rows held back, as the events so far left them: a delivery that ended in
    /// the same append (or rebuild chunk) is not written at all.
    func write(_ context: ProjectionContext) throws {
        guard !held.isEmpty else { return }
        for row in held where !row.finished {
            try context.connection.run(
                sql: """
                    INSERT INTO \(context.table("deliveries")) (id, conversation, message, seq, application, role,
                        sender_type, payload, attempts, next_attempt_at, created_at, last_status, last_error,
                        last_latency_ms, request)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                [
                    row.id, row.conversation, row.message, row.seq, row.application, row.role, row.senderType,
                    row.payload, row.attempts, row.nextAttemptAt, row.createdAt, row.lastStatus, row.lastError,
                    row.lastLatencyMs, row.request,
                ]
            )
        }
        held.removeAll(keepingCapacity: true)
        index.removeAll(keepingCapacity: true)
    }
}
