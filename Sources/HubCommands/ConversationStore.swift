public import HubDomain
public import HubEventLog
package import HubReadModels
public import HubVault

/// What `POST /conversations/messages` answers for one message (spec §4.1 [P]).
public struct AcceptedMessage: Sendable, Equatable {
    /// The hub's id for the message.
    public var id: String
    /// The sender's own `messageId`, echoed.
    public var messageId: String
    public var conversationId: String
    /// A retry of an earlier request: nothing was appended or delivered again.
    public var isReplay: Bool

    /// `{"id","messageId","conversation":{"id"},"status":"accepted"}`.
    public var json: JSONValue {
        .object([
            "id": .string(id), "messageId": .string(messageId),
            "conversation": .object(["id": .string(conversationId)]), "status": "accepted",
        ])
    }
}

/// Conversations as events and their projections (DESIGN.md §3–§4, spec §4–§5).
///
/// One `POST /conversations/messages` is one command in the writer's transaction: every message of
/// it is decided against the projections as they stand there and appended with its routing and its
/// deliveries, or the whole request is refused and nothing is written.
public struct ConversationStore: Sendable {
    public let store: EventStore
    package let vault: SecretVault
    package let contactKeys: ContactKeys
    package let accounts = AccountDirectory()

    public init(store: EventStore, vault: SecretVault, contactKeys: ContactKeys) {
        self.store = store
        self.vault = vault
        self.contactKeys = contactKeys
    }

    /// Accepts a validated request: each message in order, all or none.
    public func receive(
        _ request: RequestMessages,
        caller: ConfigurationStore.Caller
    ) async throws -> [AcceptedMessage] {
        // The hub ids, the idempotency keys' ids, the contact keys and the sealing of the contents are
        // made here, in parallel with other requests, so the writer's serial work per message is smaller.
        let prepared = try request.messages.enumerated().map { index, message in
            try PreparedContent(message, path: "messages.message[\(index)]", vault: vault, contactKeys: contactKeys)
        }
        return try await store.writer.perform { transaction in
            let intake = MessageIntake(
                transaction: transaction,
                accounts: accounts,
                vault: vault,
                contactKeys: contactKeys,
                caller: caller,
                attributes: request.attributes
            )
            return try request.messages.enumerated().map { index, message in
                let path = "messages.message[\(index)]"
                do {
                    return try intake.receive(message, path: path, prepared: prepared[index])
                } catch EventStoreError.eventTooLarge(let size, let limit) {
                    // Which message did not fit, not only that an event did not.
                    throw Rejection.invalidValue(path, "its event data is \(size) bytes, over the limit of \(limit)")
                }
            }
        }
    }
}
