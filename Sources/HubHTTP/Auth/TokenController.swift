import Foundation
import HTTPTypes
import HubCommands
import HubDomain
import HubEventLog
import HubReadModels
import HubVault
import Hummingbird
import Logging
import NIOCore

/// `POST /oauth2/token`: the OAuth2 client-credentials grant (RFC 6749 §4.4).
///
/// Client authentication by form fields (`client_id`, `client_secret`) or HTTP Basic (§2.3.1);
/// `scope` optional (absent or `.default`: every scope the client was granted). Errors use OAuth2's
/// own body, `{"error", "error_description"}` (§5.2).
///
/// Failed authentications are throttled per client id and per address (``TokenThrottle``): 429
/// `temporarily_unavailable` with `Retry-After`, before the secret is checked. Each failure is logged
/// with the client id and the address, never the secret.
struct TokenController: Sendable {
    let tokens: TokenService
    let clients: ClientRegistry
    let lifetime: Duration
    let throttle: TokenThrottle

    /// The controller's routes, mounted with `router.addRoutes(_:)`.
    var endpoints: RouteCollection<HubRequestContext> {
        let router = RouteCollection(context: HubRequestContext.self)
        router.post("/oauth2/token") { request, context in try await issue(request, context: context) }
        return router
    }

    struct OAuthError: HTTPResponseError {
        let status: HTTPResponse.Status
        let error: String
        let description: String
        var headers: HTTPFields = [:]

        func response(from request: Request, context: some RequestContext) throws -> Response {
            let body = try JSONSerialization.data(
                withJSONObject: ["error": error, "error_description": description],
                options: [.sortedKeys]
            )
            var headers = self.headers
            headers[.contentType] = "application/json"
            headers[.cacheControl] = "no-store"
            if status == .unauthorized { headers[.wwwAuthenticate] = #"Basic realm="hubstore""# }
            return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
    }

    private func issue(_ request: Request, context: HubRequestContext) async throws -> TokenGrant {
        guard request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true else {
            throw OAuthError(
                status: .badRequest,
                error: "invalid_request",
                description: "the body must be application/x-www-form-urlencoded"
            )
        }
        let form = try await Self.form(request)
        guard form["grant_type"] == "client_credentials" else {
            throw OAuthError(
                status: .badRequest,
                error: form["grant_type"] == nil ? "invalid_request" : "unsupported_grant_type",
                description: "grant_type must be client_credentials"
            )
        }
        let credentials =
            Self.basicCredentials(request.headers[.authorization])
            ?? form["client_id"].flatMap { id in form["client_secret"].map { (id, $0) } }
        let clientId = String((credentials?.0 ?? "").prefix(128))
        let address = context.remoteAddress ?? "unknown"
        try Self.refuseWhileThrottled(throttle, client: clientId, address: address)
        guard let (id, secret) = credentials, let client = try await clients.authenticate(id: id, secret: secret) else {
            let throttled = throttle.recordFailure(client: clientId, address: address)
            context.logger.warning(
                "token request refused: client authentication failed",
                metadata: [
                    "client_id": .string(clientId), "address": .string(address),
                    "throttled": .stringConvertible(throttled),
                ]
            )
            throw OAuthError(
                status: .unauthorized,
                error: "invalid_client",
                description: "client authentication failed"
            )
        }
        var granted = client.scopes
        if let requested = form["scope"], !requested.isEmpty {
            switch ScopeList.parse(requested, everything: client.scopes) {
            case .failure(let unknown):
                throw OAuthError(status: .badRequest, error: "invalid_scope", description: unknown.description)
            case .success(let list):
                guard list.scopes.isSubset(of: client.scopes) else {
                    throw OAuthError(
                        status: .badRequest,
                        error: "invalid_scope",
                        description: "the client was not granted: "
                            + ScopeList(list.scopes.subtracting(client.scopes)).text
                    )
                }
                granted = list.scopes
            }
        }
        let token = tokens.issue(subject: client.id, scopes: granted, lifetime: lifetime)
        return TokenGrant(token: token, lifetime: lifetime.components.seconds, scope: ScopeList(granted).text)
    }

    /// 200 with the access token (RFC 6749 §5.1), never cached.
    struct TokenGrant: ResponseGenerator {
        var token: String
        var lifetime: Int64
        var scope: String

        func response(from request: Request, context: some RequestContext) -> Response {
            JSONDocument(
                body: .object([
                    "access_token": .string(token), "token_type": "Bearer", "expires_in": .integer(lifetime),
                    "scope": .string(scope),
                ]),
                headers: [.cacheControl: "no-store"]
            ).response(from: request, context: context)
        }
    }

    /// The fields of a form body of at most 16 KiB (413 `invalid_request` beyond).
    static func form(_ request: Request) async throws -> [String: String] {
        do {
            return parseForm(String(buffer: try await request.body.collect(upTo: 16 * 1024)))
        } catch is NIOTooManyBytesError {
            throw OAuthError(status: .contentTooLarge, error: "invalid_request", description: "the body exceeds 16 KiB")
        }
    }

    /// 429 `temporarily_unavailable` with `Retry-After` while failed authentications of this client id
    /// or address are throttled (before the secret is checked).
    static func refuseWhileThrottled(_ throttle: TokenThrottle, client: String, address: String) throws {
        guard let wait = throttle.wait(client: client, address: address) else { return }
        let seconds = max(1, Int((wait / .seconds(1)).rounded(.up)))
        throw OAuthError(
            status: .tooManyRequests,
            error: "temporarily_unavailable",
            description: "too many failed client authentications; retry after \(seconds) s",
            headers: [.retryAfter: String(seconds)]
        )
    }

    /// `a=1&b=x+y` → `["a": "1", "b": "x y"]`.
    static func parseForm(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (part: Substring) in
                part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(part)
            }
            fields[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return fields
    }

    /// `Basic base64(urlencoded id ":" urlencoded secret)` → (id, secret).
    static func basicCredentials(_ header: String?) -> (String, String)? {
        guard let header, header.lowercased().hasPrefix("basic "),
            let data = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
            let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":")
        else { return nil }
        let id = String(text[..<colon]).removingPercentEncoding ?? String(text[..<colon])
        let secret = String(text[text.index(after: colon)...])
        return (id, secret.removingPercentEncoding ?? secret)
    }
}
