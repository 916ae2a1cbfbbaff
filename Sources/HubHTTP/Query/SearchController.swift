import Foundation
import HubDomain
import HubEventLog
import HubReadModels
import Hummingbird

/// `GET /v1/search` (scope `hubstore.query`): full-text search over what clients wrote, in FTS5's
/// query syntax (words, "phrases", prefix*, AND/OR/NOT, NEAR), with filters: `account`, `channel`
/// (type), `sender` (type), `since`/`until` (of the matching message, RFC 3339), `state`, `escalated`.
/// Answers `{results: [{conversation, message, snippet, score, matchingMessages}], ranking, nextCursor?}`,
/// best first (by relevance, or by recency past 4,096 matching messages); the snippet marks the matched
/// words with `<mark>`…`</mark>`. A query FTS5 cannot parse is a
/// 400 that says where.
struct SearchController: Sendable {
    let search: SearchQueries

    var endpoints: RouteCollection<HubRequestContext> {
        let router = RouteCollection(context: HubRequestContext.self)
        router.group("/v1").add(middleware: RequireScope(anyOf: .query)).get("/search") { request, _ in
            try await find(request)
        }
        return router
    }

    static let names: Set<String> = [
        "q", "account", "channel", "sender", "since", "until", "state", "escalated", "cursor", "limit",
    ]

    private func find(_ request: Request) async throws -> JSONDocument {
        try ConfigurationController.refuseQueryParameters(request, allowed: Self.names)
        try ConfigurationController.requireAcceptsJSON(request)
        let query = request.decodedQuery
        func text(_ name: String) -> String? { query.text(name) }
        func time(_ name: String) throws -> Int64? { try query.time(name) }
        guard let q = text("q") else { throw Rejection.missingAttribute("q") }
        guard q.utf8.count <= 1024 else { throw Rejection.invalidValue("q", "must be at most 1024 bytes") }
        if let state = text("state"), !ConversationQueryController.states.contains(state) {
            throw Rejection.invalidValue(
                "state",
                "must be one of " + ConversationQueryController.states.joined(separator: ", ")
            )
        }
        var escalated: Bool?
        if let value = text("escalated") {
            guard value == "true" || value == "false" else {
                throw Rejection.invalidValue("escalated", "must be true or false")
            }
            escalated = value == "true"
        }
        let limit = try ConfigurationController.integer(text("limit"), name: "limit", default: 20, range: 1...100)
        var offset = 0
        if let cursor = text("cursor") {
            guard let decoded = Base64URL.decode(cursor).map({ String(decoding: $0, as: UTF8.self) }),
                decoded.hasPrefix("offset:"), let value = Int(decoded.dropFirst(7)), value >= 0, value <= 100_000
            else { throw Rejection.invalidValue("cursor", "not a cursor this API returned") }
            offset = value
        }
        let filter = SearchQueries.Filter(
            account: text("account"),
            channelType: text("channel"),
            sender: text("sender"),
            since: try time("since"),
            until: try time("until"),
            state: text("state"),
            escalated: escalated
        )
        do {
            let (hits, more, ranking) = try await search.search(q, filter, offset: offset, limit: limit)
            var body: [String: JSONValue] = ["results": .array(hits), "ranking": .string(ranking.rawValue)]
            if more { body["nextCursor"] = .string(Base64URL.encode(Array("offset:\(offset + limit)".utf8))) }
            return JSONDocument(body: .object(body))
        } catch let error as SearchQueries.SyntaxError {
            // FTS5 says where: `syntax error near "("`, or near "" at the end of the query.
            let reason = error.reason.replacingOccurrences(of: #"near """#, with: "at the end of the query")
            throw Rejection.invalidValue("q", "is not a valid search (\(reason)); see FTS5's query syntax")
        }
    }
}
