import Foundation
import HTTPTypes
import HubDomain
import HubEventLog
import HubTestSupport
import HubVault
import HummingbirdTesting
import Testing

@testable import HubHTTP

/// Issue 17 items 2–3 and the auth errors of connector spec §2.5, in the documented order.
struct ConnectorTokenTests {
    typealias Connector = ConnectorAuthTests.Connector

    func withConnector(_ body: @Sendable (Connector) async throws -> Void) async throws {
        try await ConnectorAuthTests().withConnector { connector, _ in try await body(connector) }
    }

    @Test func aConnectorLooksUpItsHostsAndGetsItsTokens() async throws {
        try await withConnector { connector in
            // The Domain API lookalike answers this hub for every service, without credentials.
            let (found, service) = try await connector.call(
                .get,
                "/api/account/64467156/service/asyncMessagingEnt/baseURI.json?version=1.0"
            )
            #expect(found == 200 && service?["service"] == "asyncMessagingEnt" && service?["account"] == "64467156")
            #expect(service?["baseURI"]?.stringValue?.isEmpty == false)
            let (_, all) = try await connector.call(.get, "/api/account/64467156/service/baseURI.json?version=1.0")
            let services = all?["baseURIs"]?.arrayValue?.compactMap { $0["service"]?.stringValue } ?? []
            #expect(Set(["sentinel", "idp", "asyncMessagingEnt"]).isSubset(of: Set(services)))

            let app = try await connector.install("64467156")
            // Query-string credentials with an empty body (the demo app), then a form body.
            let appJWT = try await connector.appJWT("64467156", app)
            let (header, claims) = ConnectorAuthTests.claims(appJWT)
            #expect(header?["alg"] == "RS256" && header?["typ"] == "JWT")
            #expect(header?["kid"]?.stringValue?.hasPrefix("appjwt-") == true)
            #expect(claims?["aud"] == "64467156" && claims?["azp"]?.stringValue == app.id)
            #expect(claims?["iss"] == "Sentinel" && claims?["scope"] == "msg.consumer")
            if case .integer(let issued)? = claims?["iat"], case .integer(let expires)? = claims?["exp"] {
                #expect(expires - issued == 3600)
            } else {
                Issue.record("iat and exp are not whole numbers: \(claims?.text ?? "")")
            }
            let (formStatus, form) = try await connector.call(
                .post,
                "/sentinel/api/account/64467156/app/token?v=1.0&grant_type=client_credentials",
                headers: [.contentType: "application/x-www-form-urlencoded"],
                body: "client_id=\(app.id)&client_secret=\(app.secret)"
            )
            #expect(formStatus == 200 && form?["token_type"] == "Bearer" && form?["expires_in"] == .integer(3600))

            // The ConsumerJWS: 201, never expiring, the same consumer for the same external id.
            let (created, first) = try await connector.consumer("64467156", appJWT: appJWT)
            #expect(created == 201, "\(first?.text ?? "")")
            let jws = try #require(first?["token"]?.stringValue)
            let consumer = try #require(ConnectorAuthTests.claims(jws).claims)
            #expect(consumer["exp"] == nil && consumer["account_id"] == "64467156")
            #expect(consumer["ext_consumer_id"] == "sms:+15550100")
            let id = try #require(consumer["lp_consumer_id"]?.stringValue)
            #expect(id.count == 64 && id.allSatisfy(\.isHexDigit))
            #expect(id == ConnectorTokens.consumerId(account: "64467156", externalId: "sms:+15550100"))
            let (_, again) = try await connector.consumer("64467156", appJWT: "Bearer " + appJWT)
            let second = again?["token"]?.stringValue.flatMap { ConnectorAuthTests.claims($0).claims }
            #expect(second?["lp_consumer_id"]?.stringValue == id)
        }
    }

    @Test func eachAuthErrorHasItsStatusAndErrorCode() async throws {
        try await withConnector { connector in
            let app = try await connector.install("64467156")
            let other = try await connector.install("42257269")
            let appJWT = try await connector.appJWT("64467156", app)
            func errorCode(_ answer: ConnectorAuthTests.Answer) -> Int64? {
                if case .integer(let code)? = answer.json?["body"]?["errorCode"] { return code }
                return nil
            }
            // Wrong credentials: OAuth2's own error body.
            let (refused, oauth) = try await connector.call(
                .post,
                "/sentinel/api/account/64467156/app/token?v=1.0&grant_type=client_credentials"
                    + "&client_id=\(app.id)&client_secret=wrong"
            )
            #expect(refused == 401 && oauth?["error"] == "invalid_client")
            // Another account's app cannot get a token here.
            let (elsewhere, _) = try await connector.call(
                .post,
                "/sentinel/api/account/64467156/app/token?v=1.0&grant_type=client_credentials"
                    + "&client_id=\(other.id)&client_secret=\(other.secret)"
            )
            #expect(elsewhere == 401)

            let missing = try await connector.consumer("64467156", appJWT: nil)
            #expect(missing.status == 401 && errorCode(missing) == 40105)
            #expect(missing.json?["kind"] == "resp" && missing.json?["type"] == ".ReqBody$ErrorResp")
            #expect(missing.json?["code"] == .integer(401))
            let garbage = try await connector.consumer("64467156", appJWT: "not-a-token")
            #expect(garbage.status == 401 && errorCode(garbage) == 40102)
            let tampered = try await connector.consumer("64467156", appJWT: String(appJWT.dropLast(4)) + "AAAA")
            #expect(tampered.status == 401 && errorCode(tampered) == 40102)
            // A valid AppJWT of another account.
            let foreign = try await connector.consumer("42257269", appJWT: appJWT)
            #expect(foreign.status == 401 && errorCode(foreign) == 40102)
            let noBody = try await connector.consumer("64467156", appJWT: appJWT, body: "{}")
            #expect(noBody.status == 400 && errorCode(noBody) == 40001)
            let badJSON = try await connector.consumer("64467156", appJWT: appJWT, body: "{")
            #expect(badJSON.status == 400)

            // A disabled or removed installation's tokens stop working at once.
            let admin: HTTPFields = [.authorization: "Bearer \(connector.admin)", .contentType: "application/json"]
            let path = "\(connector.installations("64467156"))/\(app.id)"
            _ = try await connector.call(.put, path, headers: admin, body: #"{"client_name":"x","enabled":false}"#)
            let disabled = try await connector.consumer("64467156", appJWT: appJWT)
            #expect(disabled.status == 401 && errorCode(disabled) == 40102)
            _ = try await connector.call(.delete, path, headers: admin)
            let removed = try await connector.consumer("64467156", appJWT: appJWT)
            #expect(removed.status == 401 && errorCode(removed) == 40102)
        }
    }

    /// What the HTTP API cannot show: expiry after 60 minutes, and claims that fail in the documented order.
    @Test func anAppJWTExpiresAfterAnHourAndNamesItsAccount() throws {
        let tokens = ConnectorTokens(masterKey: MasterKey(bytes: Array(repeating: 7, count: 32)))
        let issued = Date(timeIntervalSince1970: 1_800_000_000)
        let token = try tokens.issueAppJWT(account: "64467156", clientId: "app", now: issued)
        #expect(
            tokens.verifyAppJWT(token, account: "64467156", now: issued + 3599)
                == .success(
                    AppJWTClaims(account: "64467156", clientId: "app", expiresAt: 1_800_003_600)
                )
        )
        #expect(tokens.verifyAppJWT(token, account: "64467156", now: issued + 3600) == .failure(.invalid))
        #expect(tokens.verifyAppJWT(token, account: "42257269", now: issued) == .failure(.otherAccount))
        // Another hub's ConsumerJWS (another master key) is not this hub's.
        let elsewhere = ConnectorTokens(masterKey: MasterKey(bytes: Array(repeating: 9, count: 32)))
        let jws = elsewhere.issueConsumerJWS(account: "64467156", externalId: "x", clientId: "app")
        #expect(tokens.verifyConsumerJWS(jws, account: "64467156") == nil)
        #expect(elsewhere.verifyConsumerJWS(jws, account: "64467156")?.externalId == "x")
        #expect(elsewhere.verifyConsumerJWS(jws, account: "42257269") == nil)
    }
    /// A full write queue or failing storage answers in the connector's body, with `Retry-After`.
    @Test func theStoresRefusalsAreLivePersonErrors() throws {
        let busy = ConnectorError(EventStoreError.overloaded(queueCapacity: 16), reqId: "7")
        #expect(busy.status == .tooManyRequests && busy.json["reqId"] == "7")
        #expect(busy.json["body"]?["errorCode"] == .integer(42901) && busy.json["code"] == .integer(429))
        let stopping = ConnectorError(EventStoreError.shuttingDown, reqId: nil)
        #expect(stopping.status == .serviceUnavailable && stopping.json["reqId"] == nil)
    }
}
