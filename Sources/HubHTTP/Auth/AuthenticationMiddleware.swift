import Foundation
import HubCommands
import HubDomain
import HubEventLog
import HubReadModels
import HubVault
import Hummingbird

/// Verifies the bearer token of every request except the open paths, and refuses revoked clients.
///
/// Missing, malformed, expired or revoked → 401 `401-104`. Scope checks happen per route
/// (``RequireScope``), which knows what the route accepts.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = HubRequestContext

    let tokens: TokenService
    let clients: ClientRegistry
    /// Paths anyone may call: the probes and the token endpoint.
    let openPaths: Set<String>

    /// The LivePerson connector's own routes (tokens, the Domain API, CONVERSATION and SEND), which
    /// check LivePerson's credentials themselves (``ConnectorAuth``); the app installations under
    /// `/api/account/{a}/configuration/app-install/` take a hub token like every other route.
    static func isConnectorPath(_ path: String) -> Bool {
        if path.hasPrefix("/sentinel/") { return true }
        return path.hasPrefix("/api/account/") && !path.contains("/configuration/app-install/")
            && !path.hasSuffix("/configuration/app-install")
    }

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        if openPaths.contains(request.uri.path) || Self.isConnectorPath(request.uri.path) {
            return try await next(request, context)
        }
        guard let header = request.headers[.authorization],
            header.utf8.count > 7, header.prefix(7).lowercased() == "bearer ",
            let claims = tokens.verify(header.dropFirst(7).trimmingSpacesAndTabs())
        else { throw APIError.invalidAuthorization }
        if claims.subject != TokenService.operatorSubject {
            // Revocation takes effect at once: the client is looked up on every request.
            guard let client = try await clients.client(id: claims.subject), client.isActive else {
                throw APIError.invalidAuthorization
            }
        }
        var context = context
        context.caller = claims
        return try await next(request, context)
    }
}

/// Refuses a request whose token has none of `scopes` (403 `403-101`).
struct RequireScope: RouterMiddleware {
    typealias Context = HubRequestContext

    let scopes: [Scope]

    init(anyOf scopes: Scope...) {
        self.scopes = scopes
    }

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        guard let caller = context.caller else { throw APIError.invalidAuthorization }
        guard !caller.scopes.isDisjoint(with: scopes) else { throw APIError.insufficientScope(acceptedScopes: scopes) }
        return try await next(request, context)
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs (Foundation's `trimmingCharacters` bridges through
    /// NSString, which showed in profiles of every authenticated request).
    func trimmingSpacesAndTabs() -> String {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isBlank($0) }), let last = lastIndex(where: { !isBlank($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
