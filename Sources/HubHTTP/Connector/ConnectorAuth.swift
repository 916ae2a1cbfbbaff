import Foundation
import HTTPTypes
import HubReadModels
import Hummingbird

/// The connector's request checks, in the order of connector spec §2.5: the AppJWT in
/// `Authorization` (raw, as LivePerson documents it, or `Bearer <token>`), then the ConsumerJWS in
/// `X-LP-ON-BEHALF`. The app must still be installed and enabled in the account.
struct ConnectorAuth: Sendable {
    let tokens: ConnectorTokens
    let apps: ConnectorApps

    static let onBehalf = HTTPField.Name("X-LP-ON-BEHALF")!

    /// The AppJWT's claims, or the error the spec gives for what is wrong with it.
    func app(_ request: Request, account: String) async throws -> AppJWTClaims {
        guard var token = request.headers[.authorization]?.trimmingCharacters(in: .whitespaces), !token.isEmpty else {
            throw ConnectorError.appJWTMissing
        }
        if token.lowercased().hasPrefix("bearer ") { token = token.dropFirst(7).trimmingCharacters(in: .whitespaces) }
        switch tokens.verifyAppJWT(token, account: account) {
        case .failure(.missingClaim):
            throw ConnectorError.missingParameter("the AppJWT lacks its issuer or audience")
        case .failure:
            throw ConnectorError.appJWTInvalid
        case .success(let claims):
            guard let app = try await apps.app(account: account, id: claims.clientId), app.isEnabled else {
                throw ConnectorError.appJWTInvalid
            }
            return claims
        }
    }

    /// The AppJWT's and the ConsumerJWS's claims.
    func consumer(_ request: Request, account: String) async throws -> (app: AppJWTClaims, consumer: ConsumerClaims) {
        let app = try await app(request, account: account)
        guard let token = request.headers[Self.onBehalf]?.trimmingCharacters(in: .whitespaces), !token.isEmpty else {
            throw ConnectorError.consumerJWSMissing
        }
        guard let consumer = tokens.verifyConsumerJWS(token, account: account) else {
            throw ConnectorError.consumerJWSInvalid
        }
        return (app, consumer)
    }
}
