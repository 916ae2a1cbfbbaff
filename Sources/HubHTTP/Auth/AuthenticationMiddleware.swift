import Foundation
import HubDomain
import HubStore
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

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        if openPaths.contains(request.uri.path) { return try await next(request, context) }
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer "),
            let claims = tokens.verify(String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces))
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
