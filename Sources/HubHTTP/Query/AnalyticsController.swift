import Foundation
import HubDomain
import HubEventLog
import HubReadModels
import Hummingbird

/// `GET /v1/analytics/conversations` and `GET /v1/analytics/agents` (scope `hubstore.query`): the
/// conversation metrics (README "Conversation metrics") of a range, per `interval` (`hour`, `day`,
/// `week`; default `day`) or per agent, filtered by `account` (id) and `channel` (type). `since`
/// defaults to 30 days before `until`, which defaults to now. JSON, or CSV with `Accept: text/csv`.
struct AnalyticsController: Sendable {
    let metrics: ConversationMetrics

    var endpoints: RouteCollection<HubRequestContext> {
        let router = RouteCollection(context: HubRequestContext.self)
        let analytics = router.group("/v1/analytics").add(middleware: RequireScope(anyOf: .query))
        analytics.get("/conversations") { request, _ in try await conversations(request) }
        analytics.get("/agents") { request, _ in try await agents(request) }
        return router
    }

    static let formats = ["application/json", "text/csv"]
    static let filterNames: Set<String> = ["account", "channel", "since", "until"]

    private func conversations(_ request: Request) async throws -> Response {
        try ConfigurationController.refuseQueryParameters(request, allowed: Self.filterNames.union(["interval"]))
        let format = try request.negotiate(Self.formats)
        var interval = ConversationMetrics.Interval.day
        if let name = request.decodedQuery.text("interval") {
            guard let chosen = ConversationMetrics.Interval(rawValue: name) else {
                throw Rejection.invalidValue("interval", "must be hour, day or week")
            }
            interval = chosen
        }
        let filter = try Self.filter(request)
        let intervals = (filter.until - interval.start(of: filter.since)) / (interval.next(after: 0))
        guard intervals < ConversationMetrics.maxBuckets else {
            throw Rejection.invalidValue(
                "interval",
                "gives \(intervals) intervals from since to until; at most \(ConversationMetrics.maxBuckets) are allowed"
            )
        }
        let report = try await metrics.conversations(filter, interval: interval)
        return format == "text/csv" ? Self.csv(report.csv) : Self.json(report.json)
    }

    private func agents(_ request: Request) async throws -> Response {
        try ConfigurationController.refuseQueryParameters(request, allowed: Self.filterNames)
        let format = try request.negotiate(Self.formats)
        let filter = try Self.filter(request)
        let rows = try await metrics.agents(filter)
        if format == "text/csv" {
            return Self.csv(CSV.table(ConversationMetrics.AgentRow.csvHeader, rows.map(\.csvFields)))
        }
        return Self.json(
            .object([
                "since": .string(Timestamp.format(filter.since)), "until": .string(Timestamp.format(filter.until)),
                "agents": .array(rows.map(\.json)),
            ])
        )
    }

    static let defaultRange: Int64 = 30 * 86_400_000

    /// The filters and range of a request; `since` must come before `until`.
    static func filter(_ request: Request) throws -> ConversationMetrics.Filter {
        let query = request.decodedQuery
        let until = try query.time("until") ?? Int64(Date().timeIntervalSince1970 * 1000)
        let since = try query.time("since") ?? until - defaultRange
        guard since < until else { throw Rejection.invalidValue("since", "must be before until") }
        return ConversationMetrics.Filter(
            account: query.text("account"),
            channelType: query.text("channel"),
            since: since,
            until: until
        )
    }

    private static func json(_ value: JSONValue) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: value.text))
        )
    }

    private static func csv(_ text: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "text/csv; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: text))
        )
    }
}
