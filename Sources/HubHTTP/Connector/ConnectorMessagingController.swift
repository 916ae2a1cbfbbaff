import Foundation
import HubCommands
import HubDomain
import HubEventLog
import Hummingbird

/// CONVERSATION and SEND of LivePerson's Connector (Send) API (connector spec §3–§6):
///
/// - `POST /api/account/{a}/messaging/consumer/conversation?v=3`: a JSON array
///   (`userprofile.SetUserProfile`, `cm.ConsumerRequestConversation`, optionally `ms.PublishEvent`) →
///   200 with one response per request, in order, each with its `reqId`; `conversationId` only on the
///   conversation request's.
/// - `POST /api/account/{a}/messaging/consumer/conversation/send?v=3`: one request object → 200 with
///   its response.
///
/// Both need the AppJWT (`Authorization`) and the ConsumerJWS (`X-LP-ON-BEHALF`). A malformed body
/// or batch is a 400 with one `ErrorResp`; a request refused while running is a 400 (401 `40103` for
/// a conversation that is not the consumer's) — for CONVERSATION, an array with the answers before it
/// and its error last, and nothing of the batch kept.
struct ConnectorMessagingController: Sendable {
    static let conversationPath = "/api/account/:accountId/messaging/consumer/conversation"
    static let sendPath = "/api/account/:accountId/messaging/consumer/conversation/send"
    /// A ContentEvent's text may be 1 MiB; its JSON escapes may make the body larger.
    static let maxBody = 4 << 20
    let messaging: ConnectorMessaging
    let auth: ConnectorAuth

    var endpoints: RouteCollection<HubRequestContext> {
        let router = RouteCollection(context: HubRequestContext.self)
        router.post(RouterPath(Self.conversationPath)) { request, context in try await conversation(request, context) }
        router.post(RouterPath(Self.sendPath)) { request, context in try await send(request, context) }
        return router
    }

    private func conversation(_ request: Request, _ context: HubRequestContext) async throws -> JSONDocument {
        let caller = try await self.caller(request, context)
        let body = try await ConnectorTokenController.jsonBody(request, limit: Self.maxBody)
        guard let items = body.arrayValue else {
            throw ConnectorError.badRequest("CONVERSATION takes a JSON array of requests")
        }
        let requests = try items.map { item in try Self.parse(item) }
        do {
            let answers = try await messaging.conversation(requests, caller: caller)
            return JSONDocument(body: .array(answers.map(\.json)))
        } catch let invalid as ConnectorRequest.Invalid {
            throw ConnectorError(invalid)
        } catch let error as EventStoreError {
            throw ConnectorError(error, reqId: nil)
        } catch let refusal as ConnectorRefusal {
            let failed = ConnectorError(refusal.reason).json(reqId: refusal.reqId)
            return JSONDocument(
                status: ConnectorError(refusal.reason).status,
                body: .array(refusal.answered.map(\.json) + [failed])
            )
        }
    }

    private func send(_ request: Request, _ context: HubRequestContext) async throws -> JSONDocument {
        let caller = try await self.caller(request, context)
        let body = try await ConnectorTokenController.jsonBody(request, limit: Self.maxBody)
        guard body.objectValue != nil else { throw ConnectorError.badRequest("SEND takes one request object") }
        let parsed = try Self.parse(body)
        do {
            return JSONDocument(body: try await messaging.send(parsed, caller: caller).json)
        } catch let invalid as ConnectorRequest.Invalid {
            throw ConnectorError(invalid, reqId: parsed.id)
        } catch let refusal as ConnectorRefusal {
            throw ConnectorError(refusal.reason, reqId: refusal.reqId)
        } catch let error as EventStoreError {
            throw ConnectorError(error, reqId: parsed.id)
        }
    }

    /// The account, `v` (3 or absent), the AppJWT and the ConsumerJWS, checked in the spec's order.
    private func caller(_ request: Request, _ context: HubRequestContext) async throws -> ConnectorCaller {
        let account = try ConnectorTokenController.account(context)
        if let version = request.uri.queryParameters["v"], version != "3" {
            throw ConnectorError.badRequest("v must be 3")
        }
        let (app, consumer) = try await auth.consumer(request, account: account)
        return ConnectorCaller(
            account: account,
            app: app.clientId,
            consumer: consumer.consumerId,
            externalId: consumer.externalId,
            correlationId: EventID.makeV7()
        )
    }

    private static func parse(_ value: JSONValue) throws -> ConnectorRequest {
        do {
            return try ConnectorRequest.parse(value)
        } catch {
            throw ConnectorError(error, reqId: ConnectorRequest.requestId(of: value))
        }
    }
}

extension ConnectorError {
    /// A refused request: `Bad request` (or `Missing parameter` for `400xx` code 40001), or the auth
    /// error its code names.
    init(_ invalid: ConnectorRequest.Invalid, reqId: String? = nil) {
        let title =
            switch invalid.errorCode {
            case 40001: "Missing parameter"
            case 40103: "Invalid ConsumerJWS"
            default: "Bad request"
            }
        self.init(title: title, details: invalid.details, errorCode: invalid.errorCode, reqId: reqId)
    }
}
