import Foundation
import HubCommands
import HubDomain
import HubEventLog
import HubReadModels
import HubVault
import Hummingbird
import NIOCore

/// `POST /conversations/messages` (202) and `GET /conversations/{id}` (spec §4.1, §4.4).
struct ConversationController: Sendable {
    let conversations: ConversationStore
    let queries: ConversationQueries

    /// The controller's routes, mounted with `router.addRoutes(_:)`.
    var endpoints: RouteCollection<HubRequestContext> {
        let router = RouteCollection(context: HubRequestContext.self)
        let group = router.group(RouterPath(ConfigurationController.basePath + "/conversations"))
        group.group().add(middleware: RequireScope(anyOf: .interactionManage))
            .post("/messages") { request, context in try await send(request, context) }
        group.group().add(middleware: RequireScope(anyOf: .interactionManage, .interactionRead))
            .get(":id") { request, context in try await get(request, context) }
        return router
    }

    private func send(_ request: Request, _ context: HubRequestContext) async throws -> AcceptedMessages {
        try ConfigurationController.refuseQueryParameters(request, allowed: [])
        let body = try RequestMessages.validate(try await ConfigurationController.jsonBody(request))
        // A message's correlation is the caller's `X-Request-Id`. Without one, a request of one message
        // needs none (its event's own id names it); a request of several gets one, to tie them together.
        let requestId =
            ConfigurationController.requestId(request) ?? (body.messages.count > 1 ? EventID.makeV7() : nil)
        let accepted = try await conversations.receive(
            body,
            caller: ConfigurationController.caller(context, correlationId: requestId)
        )
        return AcceptedMessages(accepted: accepted)
    }

    private func get(_ request: Request, _ context: HubRequestContext) async throws -> JSONDocument {
        try ConfigurationController.refuseQueryParameters(request, allowed: [])
        try ConfigurationController.requireAcceptsJSON(request)
        let id = context.parameters.get("id") ?? ""
        guard Schema.isUUID(id) else {
            throw Rejection.invalidValue("id", "a conversation id is a 36-character UUID")
        }
        guard let (state, document) = try await queries.document(id.lowercased()) else {
            throw APIError.conversationNotFound(id)
        }
        guard state == "ended" else {
            throw APIError(
                statusCode: 404,
                code: "404-102",
                developerMessage: "Conversation not completed: \(id) is still \(state).",
                details: [.init(key: "id", value: id)]
            )
        }
        return JSONDocument(body: document)
    }
}
