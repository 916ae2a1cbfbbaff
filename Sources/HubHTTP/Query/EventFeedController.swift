import Foundation
import HTTPTypes
import HubDomain
import HubEventLog
import HubReadModels
import Hummingbird
import NIOCore
import ServiceLifecycle

/// The event feed (scope `hubstore.audit`, DESIGN.md §3, §5): the log in its export form.
///
/// - `GET /v1/events`: pages as JSON (`{events, head, nextCursor?}`) or NDJSON
///   (`Accept: application/x-ndjson`), with `Link: <…>; rel="next"` while there may be more.
/// - `GET /v1/events/live`: the same feed as Server-Sent Events, one event per message with its
///   position as the `id`. It catches up from `from` (or after `Last-Event-ID`, as a reconnecting
///   `EventSource` sends it; or from the head when neither is given), then follows each commit, with
///   no gap and no duplicate; a `: heartbeat` comment keeps an idle stream alive.
///
/// Filters: `stream` (a stream, or a prefix when it ends in `/`), `type` (comma-separated),
/// `account`, `since`/`until` (RFC 3339, on the time recorded). Sealed content stays sealed unless
/// the caller also has `hubstore.audit.content`.
struct EventFeedController: Sendable {
    let feed: EventFeed
    /// Shared by every live subscriber of this server.
    let pages = SharedLivePages()

    var endpoints: RouteCollection<HubRequestContext> {
        let router = RouteCollection(context: HubRequestContext.self)
        let group = router.group("/v1/events").add(middleware: RequireScope(anyOf: .audit))
        group.get { request, context in try await page(request, context) }
        group.get("/live") { request, context in try live(request, context) }
        return router
    }

    static let lastEventID = HTTPField.Name("Last-Event-ID")!
    static let link = HTTPField.Name("Link")!
    static let filterNames: Set<String> = ["stream", "type", "account", "since", "until"]
    static let pageFormats = ["application/json", "application/x-ndjson"]

    /// What a request asks for.
    struct Query: Sendable {
        var after: Int64
        var filter: EventFilter
        var limit: Int
        var openContent: Bool
    }

    static func query(_ request: Request, _ context: HubRequestContext, live: Bool) throws -> Query {
        let query = request.decodedQuery
        func text(_ name: String) -> String? { query.text(name) }
        func time(_ name: String) throws -> Int64? { try query.time(name) }
        var filter = EventFilter(
            account: text("account"),
            recordedFrom: try time("since"),
            recordedTo: try time("until")
        )
        if let stream = text("stream") {
            if stream.hasSuffix("/") { filter.streamPrefix = stream } else { filter.stream = stream }
        }
        if let types = text("type") {
            filter.types = types.split(separator: ",").map { $0.trimmingSpacesAndTabs() }.filter { !$0.isEmpty }
        }
        var after: Int64 = live ? -1 : 0
        if let from = text("from") {
            guard let position = Int64(from), position >= 1 else {
                throw Rejection.invalidValue("from", "must be a log position, 1 or more")
            }
            after = position - 1
        }
        if let cursor = text("cursor") {
            guard let decoded = Base64URL.decode(cursor).map({ String(decoding: $0, as: UTF8.self) }),
                decoded.hasPrefix("after:"), let position = Int64(decoded.dropFirst(6)), position >= 0
            else { throw Rejection.invalidValue("cursor", "not a cursor this API returned") }
            after = position
        }
        if live, let last = request.headers[Self.lastEventID] {
            guard let position = Int64(last.trimmingCharacters(in: .whitespaces)), position >= 0 else {
                throw Rejection.invalidValue("Last-Event-ID", "must be a log position")
            }
            after = position
        }
        let limit = try ConfigurationController.integer(text("limit"), name: "limit", default: 100, range: 1...1000)
        let openContent = context.caller?.scopes.contains(.auditContent) ?? false
        return Query(after: after, filter: filter, limit: limit, openContent: openContent)
    }

    // MARK: - Pages

    private func page(_ request: Request, _ context: HubRequestContext) async throws -> Response {
        try ConfigurationController.refuseQueryParameters(
            request,
            allowed: Self.filterNames.union(["from", "cursor", "limit"])
        )
        let format = try request.negotiate(Self.pageFormats)
        let query = try Self.query(request, context, live: false)
        let page = try await feed.page(
            after: query.after,
            filter: query.filter,
            limit: query.limit,
            openContent: query.openContent
        )
        // Full: there may be more after what was read. Not full: the page reached the head.
        let next = page.events.count == query.limit ? Base64URL.encode(Array("after:\(page.scanned)".utf8)) : nil
        var headers: HTTPFields = [:]
        if let next { headers[Self.link] = "<\(Self.nextURL(request, cursor: next))>; rel=\"next\"" }
        var body: [UInt8] = []
        if format == "application/x-ndjson" {
            headers[.contentType] = "application/x-ndjson"
            for event in page.events { event.writeExportForm(to: &body) }
        } else {
            headers[.contentType] = "application/json"
            body.append(contentsOf: #"{"events":["#.utf8)
            for (index, event) in page.events.enumerated() {
                if index > 0 { body.append(UInt8(ascii: ",")) }
                event.writeExportForm(to: &body)
                body.removeLast()  // its newline
            }
            body.append(contentsOf: #"],"head":\#(page.head)"#.utf8)
            if let next { body.append(contentsOf: #","nextCursor":"\#(next)""#.utf8) }
            body.append(UInt8(ascii: "}"))
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// The request's own path and filters, with the cursor of the next page.
    static func nextURL(_ request: Request, cursor: String) -> String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+;")
        var parts: [String] = []
        for name in (filterNames.union(["limit"])).sorted() {
            guard let value = request.decodedQuery[name], !value.isEmpty else { continue }
            parts.append("\(name)=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value)")
        }
        parts.append("cursor=\(cursor)")
        return request.uri.path + "?" + parts.joined(separator: "&")
    }

    // MARK: - Live

    private func live(_ request: Request, _ context: HubRequestContext) throws -> Response {
        try ConfigurationController.refuseQueryParameters(
            request,
            allowed: Self.filterNames.union(["from", "heartbeat"])
        )
        _ = try request.negotiate(["text/event-stream"])
        var query = try Self.query(request, context, live: true)
        let heartbeat = try ConfigurationController.integer(
            request.decodedQuery["heartbeat"],
            name: "heartbeat",
            default: 15,
            range: 1...300
        )
        query.limit = 500
        let headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache"]
        // HEAD answers the headers of a stream that would never end.
        if request.method == .head { return Response(status: .ok, headers: headers) }
        let follower = LiveFeed(feed: feed, query: query, heartbeat: .seconds(heartbeat), pages: pages)
        return Response(
            status: .ok,
            headers: headers,
            body: ResponseBody { writer in try await follower.run(&writer) }
        )
    }
}

/// One live subscriber: catches up page by page, then waits for commits.
struct LiveFeed: Sendable {
    let feed: EventFeed
    let query: EventFeedController.Query
    let heartbeat: Duration
    let pages: SharedLivePages

    func run(_ writer: inout any ResponseBodyWriter) async throws {
        // A stopping server ends the stream (a reconnecting client resumes with Last-Event-ID).
        let stopping = ShutdownSignal()
        try await withGracefulShutdownHandler {
            try await follow(&writer, until: stopping)
        } onGracefulShutdown: {
            stopping.set()
        }
        try await writer.finish(nil)
    }

    private func follow(_ writer: inout any ResponseBodyWriter, until stopping: ShutdownSignal) async throws {
        var after = query.after
        if after < 0 { after = feed.store.notifier.committed }
        // Tells a reconnecting `EventSource` to come back after two seconds.
        try await writer.write(ByteBuffer(string: "retry: 2000\n\n"))
        while !Task.isCancelled, !stopping.isSet {
            // Up to what has committed: the same page for every subscriber at this position.
            let through = feed.store.notifier.committed
            let (feed, query, from) = (feed, query, after)
            let read: @Sendable () async throws -> SharedLivePages.Encoded = {
                try await SharedLivePages.read(
                    feed,
                    after: from,
                    through: through,
                    filter: query.filter,
                    limit: query.limit,
                    openContent: query.openContent
                )
            }
            let page =
                query.openContent
                ? try await read()
                : try await pages.page(
                    .init(after: after, filter: query.filter, limit: query.limit),
                    through: through,
                    read: read
                )
            if page.count > 0 { try await writer.write(page.bytes) }
            after = page.scanned
            if page.count == query.limit { continue }
            switch await wake(beyond: after, stopping) {
            case .commit: continue
            case .timeout: try await writer.write(ByteBuffer(string: ": heartbeat\n\n"))
            case .closed: return
            }
        }
    }

    enum Wake: Sendable {
        case commit, timeout, closed
    }

    /// A commit beyond `position`, the heartbeat's interval passing, or the store or server stopping.
    private func wake(beyond position: Int64, _ stopping: ShutdownSignal) async -> Wake {
        let store = feed.store
        let heartbeat = heartbeat
        return await withTaskGroup(of: Wake.self) { group in
            group.addTask {
                let committed = await store.waitForCommit(beyond: position)
                return committed != nil ? .commit : (Task.isCancelled ? .timeout : .closed)
            }
            group.addTask {
                try? await Task.sleep(for: heartbeat)
                return .timeout
            }
            group.addTask {
                await stopping.wait()
                return Task.isCancelled ? .timeout : .closed
            }
            let first = await group.next() ?? .closed
            group.cancelAll()
            return first
        }
    }
}
