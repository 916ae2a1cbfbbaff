import Foundation
import HTTPTypes
import HubDomain
import Hummingbird
import Synchronization

/// Cross-origin resource sharing: off unless origins are configured (`--cors-origin`).
public struct CORSPolicy: Sendable, Equatable {
    /// Origins allowed to call the API from a browser (`https://app.example.com`); `*` allows any.
    public var origins: [String]

    public init(origins: [String] = []) {
        self.origins = origins.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }.filter { !$0.isEmpty }
    }

    /// A comma-separated list of origins (`https://a.example, http://localhost:3000`) or `*`; empty
    /// turns CORS off. `nil` when an entry is not a bare `http(s)://host[:port]` origin.
    public init?(list: String) {
        var origins: [String] = []
        for entry in list.split(separator: ",").map({ $0.trimmingSpacesAndTabs() }) where !entry.isEmpty {
            let origin = entry.hasSuffix("/") ? String(entry.dropLast()) : entry
            if origin != "*" {
                guard let scheme = origin.range(of: "://"),
                    ["http", "https"].contains(origin[..<scheme.lowerBound].lowercased()),
                    !origin[scheme.upperBound...].isEmpty,
                    !origin[scheme.upperBound...].contains(where: { "/?#@ ".contains($0) })
                else { return nil }
            }
            origins.append(origin)
        }
        self.init(origins: origins)
    }

    public var isEnabled: Bool { !origins.isEmpty }

    func allows(_ origin: String) -> Bool {
        origins.contains("*") || origins.contains { $0.caseInsensitiveCompare(origin) == .orderedSame }
    }

    /// The request headers a preflight may ask for.
    static let allowedHeaders = "Authorization, Content-Type, Accept, X-Request-Id, X-egain-error-message"
    /// Response headers a page may read besides the CORS-safelisted ones.
    static let exposedHeaders = "Retry-After, WWW-Authenticate, Allow"
}

/// The methods served on each path, recorded once the routes are registered; answers which methods
/// a path allows when a request's method has no route there.
final class RouteTable: Sendable {
    private let routes = Mutex<[(path: RouterPath, method: HTTPRequest.Method)]>([])

    func record(_ routes: [Router<HubRequestContext>.RouteDescription]) {
        self.routes.withLock { $0 = routes.map { ($0.path, $0.method) } }
    }

    /// The methods `path` answers (HEAD with every GET, OPTIONS with any); empty for an unknown path.
    ///
    /// Only the routes the router resolves `path` to count: it takes a constant segment before a
    /// parameter at the same place, whatever the method, so `assets/download` answers its own GET and
    /// never the DELETE of `assets/{id}` beside it.
    func allowedMethods(_ path: String) -> [String] {
        let segments = path.split(separator: "/")
        var best: [Int] = []
        var methods = Set<String>()
        for route in routes.withLock({ $0 }) {
            guard let rank = Self.rank(route.path, segments) else { continue }
            if rank.lexicographicallyPrecedes(best) { continue }
            if best.lexicographicallyPrecedes(rank) {
                best = rank
                methods = []
            }
            methods.insert(route.method.rawValue)
            if route.method == .get { methods.insert("HEAD") }
        }
        if !methods.isEmpty { methods.insert("OPTIONS") }
        return methods.sorted()
    }

    /// How `path` matches `segments`, segment by segment (2 a constant, 1 a parameter, 0 for what a
    /// trailing `**` takes), for comparing matches as the router would; `nil` when it does not match.
    static func rank(_ path: RouterPath, _ segments: [Substring]) -> [Int]? {
        var rank: [Int] = []
        for element in path.components {
            if element.description == "**" { return rank + Array(repeating: 0, count: segments.count - rank.count) }
            guard rank.count < segments.count, element ~= segments[rank.count] else { return nil }
            rank.append(element == .path(segments[rank.count]) ? 2 : 1)
        }
        return rank.count == segments.count ? rank : nil
    }
}

/// HTTP basics for every request, before authentication:
///
/// - HEAD: no body, errors included (the router generates HEAD from each GET route);
/// - a path and method with no route: 405 with `Allow` when the path has other methods, 404 `404-103`
///   otherwise (both in the API's error format and without a token); OPTIONS: 204 with `Allow`;
/// - CORS (``CORSPolicy``): a configured `Origin` gets `Access-Control-Allow-Origin` on every
///   answer, errors included, and a preflight (OPTIONS with `Access-Control-Request-Method`) the
///   allowed methods and headers.
struct HTTPBasicsMiddleware: RouterMiddleware {
    typealias Context = HubRequestContext

    let routes: RouteTable
    let cors: CORSPolicy

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        let origin = cors.isEnabled ? request.headers[.origin].flatMap { cors.allows($0) ? $0 : nil } : nil
        var response: Response
        do {
            // The router sets the endpoint before its middleware runs; none means no route matched.
            response = try context.endpointPath == nil ? unrouted(request) : try await next(request, context)
        } catch let error as any HTTPResponseError where cors.isEnabled || request.method == .head {
            response = try error.response(from: request, context: context)
        }
        // HEAD (generated for every GET route): the GET's status and headers, errors included, no body.
        if request.method == .head { response = response.createHeadResponse() }
        guard cors.isEnabled else { return response }
        response.headers.append(HTTPField(name: .vary, value: "Origin"))
        guard let origin else { return response }
        response.headers[.accessControlAllowOrigin] = origin
        response.headers[.accessControlExposeHeaders] = CORSPolicy.exposedHeaders
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil,
            let allow = response.headers[.allow]
        {
            response.headers[.accessControlAllowMethods] = allow
            response.headers[.accessControlAllowHeaders] = CORSPolicy.allowedHeaders
            response.headers[.accessControlMaxAge] = "600"
        }
        return response
    }

    private func unrouted(_ request: Request) throws -> Response {
        let allowed = routes.allowedMethods(request.uri.path)
        guard !allowed.isEmpty else {
            throw APIError(
                statusCode: 404,
                code: "404-103",
                developerMessage: "No route for \(request.uri.path.prefix(200)); see /openapi.json.",
                details: [.init(key: "path", value: String(request.uri.path.prefix(255)))]
            )
        }
        let allow = allowed.joined(separator: ", ")
        if request.method == .options { return Response(status: .noContent, headers: [.allow: allow]) }
        throw APIErrorWithHeaders(
            error: APIError(
                statusCode: 405,
                code: "405-101",
                developerMessage: "\(request.method.rawValue) is not allowed here; allowed: \(allow).",
                details: allowed.map { .init(key: "Allow", value: $0) }
            ),
            headers: [.allow: allow]
        )
    }
}
