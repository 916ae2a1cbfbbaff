import Foundation
import HubCommands
import HubDomain
import HubEventLog
import HubReadModels
import HubVault
import Hummingbird
import NIOCore

/// The query API's conversation routes (scope `hubstore.query`, DESIGN.md §5):
/// `GET /v1/conversations` (filters, cursor pagination) and `GET /v1/conversations/{id}/transcript`
/// as JSON, NDJSON (`Accept: application/x-ndjson`) or plain text (`Accept: text/plain`).
struct ConversationQueryController: Sendable {
    let queries: ConversationQueries
    let assets: AssetStore

    /// The controller's routes, mounted with `router.addRoutes(_:)`.
    var endpoints: RouteCollection<HubRequestContext> {
        let router = RouteCollection(context: HubRequestContext.self)
        let group = router.group("/v1").add(middleware: RequireScope(anyOf: .query))
        group.get("/conversations") { request, _ in try await list(request) }
        group.get("/assets") { request, _ in try await listAssets(request) }
        group.get("/conversations/:id/transcript") { request, context in try await transcript(request, context) }
        return router
    }

    static let states = ["active", "escalated", "ended"]

    private func list(_ request: Request) async throws -> ConversationPage {
        let names = ["account", "channelType", "state", "contact", "startedFrom", "startedTo", "cursor", "limit"]
        try ConfigurationController.refuseQueryParameters(request, allowed: Set(names))
        try ConfigurationController.requireAcceptsJSON(request)
        let query = request.decodedQuery
        func text(_ name: String) -> String? { query.text(name) }
        func time(_ name: String) throws -> Int64? { try query.time(name) }
        if let state = text("state"), !Self.states.contains(state) {
            throw Rejection.invalidValue("state", "must be one of " + Self.states.joined(separator: ", "))
        }
        let limit = try ConfigurationController.integer(text("limit"), name: "limit", default: 50, range: 1...500)
        var cursor: (Int64, String)?
        if let token = text("cursor") {
            guard let decoded = Base64URL.decode(token).map({ String(decoding: $0, as: UTF8.self) }),
                let separator = decoded.firstIndex(of: ":"),
                let startedAt = Int64(decoded[..<separator])
            else { throw Rejection.invalidValue("cursor", "not a cursor this API returned") }
            cursor = (startedAt, String(decoded[decoded.index(after: separator)...]))
        }
        let filter = ConversationQueries.Filter(
            account: text("account"),
            channelType: text("channelType"),
            state: text("state"),
            contact: text("contact"),
            startedFrom: try time("startedFrom"),
            startedTo: try time("startedTo")
        )
        let page = try await queries.list(filter, after: cursor, limit: limit)
        return ConversationPage(items: page.items, next: page.next)
    }

    /// `GET /v1/assets?conversation=`: the assets attached to a conversation.
    private func listAssets(_ request: Request) async throws -> AssetList {
        try ConfigurationController.refuseQueryParameters(request, allowed: ["conversation"])
        try ConfigurationController.requireAcceptsJSON(request)
        guard let conversation = request.decodedQuery["conversation"], !conversation.isEmpty
        else { throw Rejection.missingAttribute("conversation") }
        let records = try await assets.list(conversation: conversation)
        return AssetList(records: records)
    }

    private func transcript(_ request: Request, _ context: HubRequestContext) async throws -> TranscriptResponse {
        try ConfigurationController.refuseQueryParameters(request, allowed: [])
        let id = context.parameters.get("id") ?? ""
        let format =
            TranscriptResponse.Format(
                rawValue: try request.negotiate(TranscriptResponse.Format.allCases.map(\.rawValue))
            ) ?? .json
        guard Schema.isUUID(id), let body = try await queries.transcript(id.lowercased(), format: format.written) else {
            throw APIError.conversationNotFound(id)
        }
        return TranscriptResponse(body: body, format: format)
    }
}
