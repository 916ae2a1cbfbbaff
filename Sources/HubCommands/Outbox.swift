import Foundation
import HubDomain
public import HubEventLog
public import HubReadModels
public import HubVault

/// The deliveries outbox (a projection of `message.routed` and `delivery.*`) and the recording of
/// attempts (DESIGN.md §4, §7). Since the outbox is derived from the log in the same transaction, a
/// crash neither loses a pending delivery nor invents one.
public struct Outbox: Sendable {
    public let store: EventStore
    package let vault: SecretVault
    package let accounts = AccountDirectory()
    /// What is due, and where it goes: the outbox read model.
    private let queue: DeliveryQueue

    public init(store: EventStore, vault: SecretVault) {
        self.store = store
        self.vault = vault
        self.queue = DeliveryQueue(store: store, vault: vault)
    }

    /// Pending deliveries due by `now` (``DeliveryQueue/due(now:limit:excludingLanes:)``).
    public func due(
        now: Int64,
        limit: Int,
        excludingLanes busy: Set<String>
    ) async throws -> (deliveries: [PendingDelivery], nextDue: Int64?) {
        try await queue.due(now: now, limit: limit, excludingLanes: busy)
    }

    /// A role's callback (``DeliveryQueue/endpoint(application:role:)``).
    public func endpoint(application: String, role: String) async throws -> CallbackEndpoint? {
        try await queue.endpoint(application: application, role: role)
    }

    /// Records one attempt of a call (one POST), in one command: the outbox rows of the deliveries it
    /// carried move on, one `delivery.succeeded|attempted|failed` event on the call's stream
    /// (`delivery/<X-egain-request-id>`, one version per attempt) lists them, and each message's status
    /// is updated; a message that failed for good makes the hub send its sender an `error` message
    /// (spec §5.1 [P]).
    public func record(_ outcome: DeliveryOutcome) async throws {
        guard !outcome.deliveries.isEmpty else { return }
        try await store.writer.perform { transaction in try record(outcome, transaction) }
    }

    private func record(_ outcome: DeliveryOutcome, _ transaction: LogTransaction) throws {
        // The outbox row moves on only while it is pending; a delivery already finished (a duplicate
        // outcome) changes nothing and is not recorded again.
        var moved: [PendingDelivery] = []
        for delivery in outcome.deliveries where try DeliveryQueue.isPending(delivery.id, in: transaction) {
            moved.append(delivery)
        }
        guard let first = moved.first else { return }
        // The deliveries of a call were all tried as often (a call is retried whole).
        let attempt = (moved.map(\.attempts).max() ?? 0) + 1
        let items = moved.map { DeliveryItem(delivery: $0.id, message: $0.message) }
        let members = DeliveryOutcomeMembers(
            request: outcome.request,
            application: first.application,
            role: first.role,
            attempt: attempt,
            latencyMs: Int64(outcome.latencyMilliseconds),
            status: outcome.status.map { Int($0) },
            error: outcome.error,
            nextAttemptAt: nil,
            deliveries: items
        )
        let event: any DomainEvent
        switch outcome.result {
        case .delivered: event = DeliverySucceeded.make(members)
        case .retry(let at):
            var retried = members
            retried.nextAttemptAt = Timestamp.format(at)
            event = try DeliveryAttempted.make(retried)
        case .failed: event = DeliveryFailed.make(members)
        }
        // A call carries one account's messages (``DeliveryCall/group(_:maximum:)``).
        let account =
            try first.account
            ?? ConversationProjection.account(ofConversation: first.conversation, in: transaction)
        try transaction.append(
            [try EventDraft(event, account: account, actor: "system", causationId: outcome.request)],
            to: "delivery/\(outcome.request)"
        )
        // A kept body holds what the message row does not (a redacted text's original): once it has
        // gone out, no copy of it may stay in the data directory.
        let finished: Bool = if case .retry = outcome.result { false } else { true }
        // (A connector webhook's kept notification holds nothing the transcript does not: no such cost.)
        if finished, moved.contains(where: { $0.storedPayload != nil && !AppInstallation.isWebhookRole($0.role) }) {
            transaction.eraseSecurely()
        }
        // A connector's webhook that failed for good is dropped, as LivePerson drops it (spec §8.2).
        if case .failed = outcome.result {
            for delivery in moved where !AppInstallation.isWebhookRole(delivery.role) {
                try reportFailure(delivery, transaction: transaction)
            }
        }
    }

    /// The hub tells the sender of an undeliverable message with an `error` message (spec §5.1, §5.4).
    private func reportFailure(_ delivery: PendingDelivery, transaction: LogTransaction) throws {
        guard let conversation = try ConversationProjection.conversation(delivery.conversation, in: transaction),
            let message = try ConversationProjection.sender(ofMessage: delivery.message, in: transaction),
            let sender = SenderType(rawValue: message.senderType),
            let account = try accounts.account(id: conversation.account, in: transaction)
        else { return }
        let plan = account.routing.plan
        let recipient: Recipient? =
            switch sender {
            case .customer: plan.customer
            case .customBot, .egainBot: plan.bot
            case .customAgent, .egainAgent: conversation.escalated ? plan.escalationAgent : plan.agent
            }
        guard let recipient else { return }
        let messageId = message.messageId
        var value: [String: JSONValue] = ["code": "delivery_failed"]
        if let messageId { value["messageId"] = .string(messageId) }
        let intake = MessageIntake(
            transaction: transaction,
            accounts: accounts,
            vault: vault,
            contactKeys: nil,
            caller: .init(actor: "system", correlationId: delivery.id),
            attributes: nil
        )
        var current = conversation
        try intake.originate(
            SystemMessage(
                type: "error",
                content: .object([
                    "text": .string("Message \(messageId ?? delivery.message) could not be delivered."),
                    "value": .object(value),
                ]),
                recipient: recipient
            ),
            in: &current,
            account: account,
            causedBy: delivery.message
        )
    }
}
