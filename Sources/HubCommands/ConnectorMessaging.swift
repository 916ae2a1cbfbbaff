import Foundation
public import HubDomain
public import HubEventLog
package import HubReadModels
public import HubVault

/// Who a CONVERSATION or SEND comes from, as its AppJWT and ConsumerJWS say (connector spec §2).
public struct ConnectorCaller: Sendable {
    /// The LivePerson account id (the path's `{accountId}`).
    public var account: String
    /// The app installation's `client_id`.
    public var app: String
    /// The consumer's `lp_consumer_id`.
    public var consumer: String
    public var externalId: String
    public var correlationId: String

    public init(account: String, app: String, consumer: String, externalId: String, correlationId: String) {
        self.account = account
        self.app = app
        self.consumer = consumer
        self.externalId = externalId
        self.correlationId = correlationId
    }
}

/// One successful response of CONVERSATION or SEND: `{"reqId", "code": "OK", "body"}`.
public struct ConnectorAnswer: Sendable, Equatable {
    public var reqId: String
    public var body: JSONValue

    public var json: JSONValue { .object(["reqId": .string(reqId), "code": "OK", "body": body]) }
}

/// A request of a CONVERSATION or SEND that was refused in the writer: the answers of the requests
/// before it (all rolled back with it), and why.
public struct ConnectorRefusal: Error, Sendable, Equatable {
    public var answered: [ConnectorAnswer]
    public var reqId: String
    public var reason: ConnectorRequest.Invalid
}

/// LivePerson connector conversations as commands (connector spec §5–§7, §9): each CONVERSATION or
/// SEND is one command in the writer's transaction, all of it or nothing. A consumer's published
/// content becomes a customer message of the HubStore account whose address is the LivePerson account
/// (routed to its bot, escalated to its agents, like an eGain customer's), and every messaging event
/// takes its dialog's next sequence there, so sequences have no gaps and no duplicates.
public struct ConnectorMessaging: Sendable {
    public let store: EventStore
    package let vault: SecretVault
    package let contactKeys: ContactKeys
    package let accounts = AccountDirectory()

    public init(store: EventStore, vault: SecretVault, contactKeys: ContactKeys) {
        self.store = store
        self.vault = vault
        self.contactKeys = contactKeys
    }

    /// TTR per `ttrDefName`, in seconds; without one, `PRIORITIZED` (every documented example).
    static let ttrSeconds: [String: Int64] = ["NORMAL": 3600, "URGENT": 300, "PRIORITIZED": 600, "CUSTOM": 3600]

    /// CONVERSATION: `userprofile.SetUserProfile`, `cm.ConsumerRequestConversation`, then optionally one
    /// `ms.PublishEvent`, in that order (spec §6).
    ///
    /// - Throws: ``ConnectorRequest/Invalid`` when the batch's shape is wrong (nothing ran);
    ///   ``ConnectorRefusal`` when a request was refused (nothing was kept).
    public func conversation(_ requests: [ConnectorRequest], caller: ConnectorCaller) async throws -> [ConnectorAnswer]
    {
        try Self.checkOrder(requests, account: caller.account)
        return try await store.writer.perform { transaction in
            var steps = steps(transaction, caller)
            var answers: [ConnectorAnswer] = []
            for request in requests {
                do {
                    answers.append(ConnectorAnswer(reqId: request.id, body: try steps.run(request)))
                } catch let reason as ConnectorRequest.Invalid {
                    throw ConnectorRefusal(answered: answers, reqId: request.id, reason: reason)
                }
            }
            return answers
        }
    }

    /// SEND: one request.
    public func send(_ request: ConnectorRequest, caller: ConnectorCaller) async throws -> ConnectorAnswer {
        if case .requestConversation = request.action {
            throw ConnectorRequest.Invalid("cm.ConsumerRequestConversation is sent with CONVERSATION, not SEND")
        }
        return try await store.writer.perform { transaction in
            var steps = steps(transaction, caller)
            do {
                return ConnectorAnswer(reqId: request.id, body: try steps.run(request))
            } catch let reason as ConnectorRequest.Invalid {
                throw ConnectorRefusal(answered: [], reqId: request.id, reason: reason)
            }
        }
    }

    private func steps(_ transaction: LogTransaction, _ caller: ConnectorCaller) -> ConnectorSteps {
        ConnectorSteps(
            transaction: transaction,
            caller: caller,
            intake: MessageIntake(
                transaction: transaction,
                accounts: accounts,
                vault: vault,
                contactKeys: contactKeys,
                caller: .init(actor: "liveperson:\(caller.app)", correlationId: caller.correlationId),
                attributes: nil
            )
        )
    }

    /// The documented order: a profile, the conversation request (for this account), at most one publish.
    static func checkOrder(_ requests: [ConnectorRequest], account: String) throws(ConnectorRequest.Invalid) {
        guard requests.count >= 2, requests.count <= 3 else {
            throw ConnectorRequest.Invalid(
                "CONVERSATION takes userprofile.SetUserProfile, cm.ConsumerRequestConversation and optionally "
                    + "one ms.PublishEvent, in that order"
            )
        }
        guard case .setUserProfile = requests[0].action else {
            throw ConnectorRequest.Invalid("the first request must be userprofile.SetUserProfile")
        }
        guard case .requestConversation(let conversation) = requests[1].action else {
            throw ConnectorRequest.Invalid("the second request must be cm.ConsumerRequestConversation")
        }
        if let brand = conversation.brandId, brand != account {
            throw ConnectorRequest.Invalid("brandId \(brand) is not the account of the path", errorCode: 40001)
        }
        if requests.count == 3, case .publish = requests[2].action {
        } else if requests.count == 3 {
            throw ConnectorRequest.Invalid("the third request may only be ms.PublishEvent")
        }
    }
}
