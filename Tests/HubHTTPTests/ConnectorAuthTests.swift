import Foundation
import HTTPTypes
import HubCommands
import HubDomain
@_spi(Storage) import HubEventLog
import HubReadModels
import HubTestSupport
import Hummingbird
import HummingbirdTesting
import Testing

@testable import HubHTTP

/// Issue 17 items 1–3: connector app installations, the Domain API lookalike, AppJWT and ConsumerJWS,
/// and the auth errors of connector spec §2.5, driven through the HTTP API as a connector would.
struct ConnectorAuthTests {
    typealias Answer = (status: Int, json: JSONValue?)

    struct Connector {
        let client: any TestClientProtocol
        /// Issues other tokens (`nil` where a test needs none).
        var tokens: TokenService?
        let admin: String

        func call(
            _ method: HTTPRequest.Method,
            _ uri: String,
            headers: HTTPFields = [:],
            body: String? = nil
        ) async throws -> Answer {
            try await client.execute(
                uri: uri,
                method: method,
                headers: headers,
                body: body.map { ByteBuffer(string: $0) }
            ) {
                (Int($0.status.code), try? JSONValue.parse(String(buffer: $0.body)))
            }
        }

        func installations(_ account: String) -> String {
            "/api/account/\(account)/configuration/app-install/installations"
        }

        /// Installs an app in `account` and returns its client id and secret.
        func install(
            _ account: String,
            name: String = "SMS gateway",
            webhooks: String =
                #"{"ms.MessagingEventNotification.ContentEvent":{"endpoint":"https://sms.example/lp","max_retries":3}}"#
        ) async throws -> (id: String, secret: String) {
            let (status, json) = try await call(
                .post,
                installations(account),
                headers: [.authorization: "Bearer \(admin)", .contentType: "application/json"],
                body: #"{"client_name":"\#(name)","capabilities":{"webhooks":\#(webhooks)}}"#
            )
            #expect(status == 201, "\(json?.text ?? "")")
            return (json?["client_id"]?.stringValue ?? "", json?["client_secret"]?.stringValue ?? "")
        }

        /// An AppJWT from query-string credentials and an empty body, as LivePerson's demo app asks.
        func appJWT(_ account: String, _ app: (id: String, secret: String)) async throws -> String {
            let (status, json) = try await call(
                .post,
                "/sentinel/api/account/\(account)/app/token?v=1.0&grant_type=client_credentials"
                    + "&client_id=\(app.id)&client_secret=\(app.secret)"
            )
            #expect(status == 200, "\(json?.text ?? "")")
            return json?["access_token"]?.stringValue ?? ""
        }

        func consumer(
            _ account: String,
            appJWT: String?,
            body: String = #"{"ext_consumer_id":"sms:+15550100"}"#
        )
            async throws -> Answer
        {
            var headers: HTTPFields = [.contentType: "application/json"]
            if let appJWT { headers[.authorization] = appJWT }
            return try await call(.post, "/api/account/\(account)/consumer?v=1.0", headers: headers, body: body)
        }
    }

    func withConnector(_ body: @Sendable (Connector, EventStore) async throws -> Void) async throws {
        try await withTemporaryDirectory { directory in
            try await withHub(directory) { store, tokens, app in
                try await app.test(.router) { client in
                    let admin = tokens.issue(subject: TokenService.operatorSubject, scopes: [.admin])
                    try await body(Connector(client: client, tokens: tokens, admin: admin), store)
                }
            }
        }
    }

    static func claims(_ token: String) -> (header: JSONValue?, claims: JSONValue?) {
        let parts = token.split(separator: ".")
        guard parts.count == 3 else { return (nil, nil) }
        return (
            Base64URL.decode(parts[0]).flatMap { try? JSONValue.parse(bytes: $0) },
            Base64URL.decode(parts[1]).flatMap { try? JSONValue.parse(bytes: $0) }
        )
    }

    @Test func anInstallationIsCreatedReadChangedAndRemovedByAnAdministrator() async throws {
        try await withConnector { connector, store in
            let path = connector.installations("64467156")
            let admin: HTTPFields = [.authorization: "Bearer \(connector.admin)", .contentType: "application/json"]
            let app = try await connector.install("64467156")
            #expect(Schema.isUUID(app.id) && app.secret.count >= 32)

            let (listed, list) = try await connector.call(.get, path, headers: admin)
            #expect(listed == 200 && list?.arrayValue?.count == 1)
            let shown = try #require(list?.arrayValue?.first)
            #expect(shown["client_id"]?.stringValue == app.id && shown["client_secret"] == nil)
            #expect(shown["grant_types"] == .array(["client_credentials"]) && shown["scope"] == "msg.consumer")
            #expect(shown["enabled"] == .bool(true))
            #expect(
                AppInstallation.webhook("ms.MessagingEventNotification.ContentEvent", in: shown)?["max_retries"]
                    == .integer(3)
            )
            // Another account sees none of it.
            #expect(try await connector.call(.get, connector.installations("other"), headers: admin).json == .array([]))
            #expect(
                try await connector.call(.get, "\(connector.installations("other"))/\(app.id)", headers: admin).status
                    == 404
            )

            let (changed, updated) = try await connector.call(
                .put,
                "\(path)/\(app.id)",
                headers: admin,
                body: #"{"client_name":"SMS gateway 2","enabled":false}"#
            )
            #expect(changed == 200 && updated?["client_name"] == "SMS gateway 2" && updated?["enabled"] == .bool(false))
            #expect(
                try await connector.call(.get, "\(path)/\(app.id)", headers: admin).json?["client_name"]
                    == "SMS gateway 2"
            )

            // The secret is sealed in the log, never in the clear.
            let events = try await store.readAll(limit: 1000)
            #expect(
                events.map(\.type).filter { $0.hasPrefix("appInstallation.") } == [
                    "appInstallation.created", "appInstallation.updated",
                ]
            )
            #expect(!events.contains { $0.data.contains(app.secret) })

            #expect(try await connector.call(.delete, "\(path)/\(app.id)", headers: admin).status == 204)
            #expect(try await connector.call(.get, "\(path)/\(app.id)", headers: admin).status == 404)
            #expect(try await connector.call(.delete, "\(path)/\(app.id)", headers: admin).status == 404)
        }
    }

    /// The path's account id is percent-decoded, as a client encodes it, and counted in characters (as the
    /// OpenAPI document's `maxLength` counts), not in the bytes of its encoding.
    @Test func anAccountIdIsPercentDecodedAndCountedInCharacters() async throws {
        try await withConnector { connector, _ in
            let admin: HTTPFields = [.authorization: "Bearer \(connector.admin)"]
            let encoded = try #require("brand é 1".addingPercentEncoding(withAllowedCharacters: .alphanumerics))
            let app = try await connector.install(encoded)
            // The same account however it is encoded: the app's credentials get a token there.
            let (status, listed) = try await connector.call(
                .get,
                connector.installations("brand%20%C3%A9%201"),
                headers: admin
            )
            #expect(status == 200 && listed?.text.contains(app.id) == true, "\(listed?.text ?? "")")
            #expect(try await connector.appJWT("brand%20%c3%a9%201", app).isEmpty == false)
            func listing(_ characters: Int) async throws -> Int {
                let account = String(repeating: "é", count: characters)
                let path = connector.installations(
                    try #require(account.addingPercentEncoding(withAllowedCharacters: .alphanumerics))
                )
                return try await connector.call(.get, path, headers: admin).status
            }
            #expect(try await listing(64) == 200)
            #expect(try await listing(65) == 400)
            #expect(
                try await connector.call(.get, connector.installations("bad%zzencoding"), headers: admin).status == 400
            )
        }
    }

    @Test func badInstallationsAndCallersAreRefused() async throws {
        try await withConnector { connector, _ in
            let path = connector.installations("64467156")
            let admin: HTTPFields = [.authorization: "Bearer \(connector.admin)", .contentType: "application/json"]
            func refused(_ body: String) async throws -> (Int, String) {
                let (status, json) = try await connector.call(.post, path, headers: admin, body: body)
                return (status, json?["developerMessage"]?.stringValue ?? "")
            }
            #expect(try await refused(#"{"enabled":true}"#).0 == 400)
            #expect(try await refused(#"{"client_name":""}"#).0 == 400)
            let webhook = { (settings: String) in
                #"{"client_name":"x","capabilities":{"webhooks":{"cqm.ExConversationChangeNotification":\#(settings)}}}"#
            }
            let plain = try await refused(webhook(#"{"endpoint":"http://sms.example/lp"}"#))
            #expect(plain.0 == 400 && plain.1.contains("https"), "\(plain)")
            #expect(try await refused(webhook(#"{"endpoint":"https://sms.example/lp","max_retries":6}"#)).0 == 400)
            #expect(try await refused(webhook(#"{}"#)).0 == 400)
            #expect(try await refused("not json").0 == 400)
            // A local endpoint may be plain http (a connector under development).
            #expect(try await refused(webhook(#"{"endpoint":"http://localhost:8080/lp"}"#)).0 == 201)

            #expect(try await connector.call(.get, path).status == 401)
            let manager = try #require(connector.tokens).issue(subject: TokenService.operatorSubject, scopes: [.manage])
            #expect(try await connector.call(.get, path, headers: [.authorization: "Bearer \(manager)"]).status == 403)
        }
    }
}
