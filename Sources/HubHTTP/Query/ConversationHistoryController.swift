import HubDomain
import HubReadModels
import Hummingbird

/// `GET /v1/conversations/{id}/history` (scope `hubstore.audit` or `hubstore.query`): a conversation's
/// audit trail — every event of its stream in the export form, and per message the configuration
/// versions it was routed under and each delivery attempt — with the log's head position and hash,
/// for `hubstore verify --expect-head`. Sealed content stays sealed unless the caller has
/// `hubstore.audit.content`.
struct ConversationHistoryController: Sendable {
    let trail: ConversationAuditTrail

    var endpoints: RouteCollection<HubRequestContext> {
        let router = RouteCollection(context: HubRequestContext.self)
        router.group("/v1/conversations").add(middleware: RequireScope(anyOf: .audit, .query))
            .get("/:id/history") { request, context in
                try ConfigurationController.refuseQueryParameters(request, allowed: [])
                try ConfigurationController.requireAcceptsJSON(request)
                let id = context.parameters.get("id") ?? ""
                let openContent = context.caller?.scopes.contains(.auditContent) ?? false
                guard Schema.isUUID(id), let trail = try await trail.trail(id.lowercased(), openContent: openContent)
                else {
                    throw APIError.conversationNotFound(id)
                }
                return JSONDocument(body: trail)
            }
        return router
    }
}
