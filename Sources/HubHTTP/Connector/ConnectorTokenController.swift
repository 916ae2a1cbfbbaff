import Foundation
import HubDomain
import HubReadModels
import Hummingbird
import Logging
import NIOCore

/// The connector's token endpoints (connector spec §2.2, §2.3):
///
/// - `POST /sentinel/api/account/{a}/app/token?v=1.0&grant_type=client_credentials`, with `client_id`
///   and `client_secret` in a form body or in the query string → 200
///   `{"access_token": <AppJWT>, "token_type": "Bearer", "expires_in": 3600}`; bad credentials → 401
///   `{"error": "invalid_client", …}`, throttled like `/oauth2/token`.
/// - `POST /api/account/{a}/consumer?v=1.0` with the AppJWT in `Authorization` and
///   `{"ext_consumer_id": …}` → 201 `{"token": <ConsumerJWS>}`.
struct ConnectorTokenController: Sendable {
    static let appTokenPath = "/sentinel/api/account/:accountId/app/token"
    static let consumerPath = "/api/account/:accountId/consumer"
    let tokens: ConnectorTokens
    let auth: ConnectorAuth
    let apps: ConnectorApps
    let throttle: TokenThrottle

    var endpoints: RouteCollection<HubRequestContext> {
        let router = RouteCollection(context: HubRequestContext.self)
        router.post(RouterPath(Self.appTokenPath)) { request, context in try await appToken(request, context) }
        router.post(RouterPath(Self.consumerPath)) { request, context in try await consumerToken(request, context) }
        return router
    }

    private func appToken(_ request: Request, _ context: HubRequestContext) async throws -> JSONDocument {
        let account = try Self.account(context)
        var fields: [String: String] = [:]
        for (name, value) in request.uri.queryParameters { fields[String(name)] = String(value) }
        if request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true {
            fields.merge(try await TokenController.form(request)) { _, form in form }
        }
        guard fields["grant_type"] == "client_credentials" else {
            throw TokenController.OAuthError(
                status: .badRequest,
                error: fields["grant_type"] == nil ? "invalid_request" : "unsupported_grant_type",
                description: "grant_type must be client_credentials"
            )
        }
        let clientId = String((fields["client_id"] ?? "").prefix(128))
        let address = context.remoteAddress ?? "unknown"
        try TokenController.refuseWhileThrottled(throttle, client: clientId, address: address)
        guard let secret = fields["client_secret"],
            let app = try await apps.authenticate(account: account, clientId: clientId, secret: secret)
        else {
            _ = throttle.recordFailure(client: clientId, address: address)
            context.logger.warning(
                "connector token refused: app authentication failed",
                metadata: ["client_id": .string(clientId), "account": .string(account), "address": .string(address)]
            )
            throw TokenController.OAuthError(
                status: .unauthorized,
                error: "invalid_client",
                description: "client authentication failed"
            )
        }
        let token = try tokens.issueAppJWT(account: account, clientId: app.id)
        return JSONDocument(
            body: .object([
                "access_token": .string(token), "token_type": "Bearer",
                "expires_in": .integer(ConnectorTokens.appJWTLifetime),
            ]),
            headers: [.cacheControl: "no-store"]
        )
    }

    private func consumerToken(_ request: Request, _ context: HubRequestContext) async throws -> JSONDocument {
        let account = try Self.account(context)
        let app = try await auth.app(request, account: account)
        let body = try await Self.jsonBody(request)
        guard let externalId = body["ext_consumer_id"]?.stringValue, !externalId.isEmpty else {
            throw ConnectorError.missingParameter("ext_consumer_id is missing")
        }
        guard externalId.utf8.count <= 256 else {
            throw ConnectorError.badRequest("ext_consumer_id must be at most 256 bytes")
        }
        let token = tokens.issueConsumerJWS(account: account, externalId: externalId, clientId: app.clientId)
        return JSONDocument(status: .created, body: .object(["token": .string(token)]))
    }

    /// The path's account: 1 to 64 characters (40001 "Brand Id is missing" otherwise).
    static func account(_ context: HubRequestContext) throws -> String {
        guard let account = ConnectorAccountPath.account(context) else {
            throw ConnectorError.missingParameter("Brand Id is missing")
        }
        return account
    }

    /// A JSON body of at most `limit` bytes, or a 400 in the connector's format.
    static func jsonBody(_ request: Request, limit: Int = 1 << 20) async throws -> JSONValue {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw ConnectorError(
                title: "Payload too large",
                details: "the body exceeds \(limit) bytes",
                errorCode: 41300
            )
        }
        guard let body = try? JSONValue.parse(bytes: buffer.readableBytesView) else {
            throw ConnectorError.badRequest("the request body is not valid JSON")
        }
        return body
    }
}
