import Foundation
import HTTPTypes
import HubCommands
import HubDomain
@_spi(Storage) import HubEventLog
import HubHTTP
import HubReadModels
import HubTestSupport
import HubVault
import Hummingbird
import HummingbirdTesting
import Testing

struct AuthenticationTests {
    static let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]

    func json(_ buffer: ByteBuffer) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(String(buffer: buffer).utf8)) as? [String: Any]) ?? [:]
    }

    @Test func clientCredentialsGiveATokenThatOpensWhatItsScopesAllow() async throws {
        try await withTemporaryDirectory { directory in
            try await withHub(directory) { store, _, app in
                let registry = ClientRegistry(store: store)
                let (client, secret) = try await registry.create(name: "ops", scopes: [.admin, .query], actor: "test")
                try await app.test(.router) { http in
                    // Form fields, all granted scopes.
                    let token = try await http.execute(
                        uri: "/oauth2/token",
                        method: .post,
                        headers: Self.form,
                        body: ByteBuffer(
                            string: "grant_type=client_credentials&client_id=\(client.id)&client_secret=\(secret)"
                        )
                    ) { response in
                        #expect(response.status == .ok)
                        #expect(response.headers[.cacheControl] == "no-store")
                        let body = json(response.body)
                        #expect(body["token_type"] as? String == "Bearer")
                        #expect(body["expires_in"] as? Int == 3600)
                        #expect(body["scope"] as? String == "hubstore.admin hubstore.query")
                        return try #require(body["access_token"] as? String)
                    }
                    try await http.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer \(token)"])
                    {
                        #expect($0.status == .ok)
                    }
                    // HTTP Basic client authentication, narrowed scope (with a URL prefix): 403 on /metrics.
                    let basic = Data("\(client.id):\(secret)".utf8).base64EncodedString()
                    var headers = Self.form
                    headers[.authorization] = "Basic \(basic)"
                    let narrow = try await http.execute(
                        uri: "/oauth2/token",
                        method: .post,
                        headers: headers,
                        body: ByteBuffer(
                            string: "grant_type=client_credentials&scope=https%3A%2F%2Fx.test%2Fauth%2Fhubstore.query"
                        )
                    ) { response in
                        #expect(response.status == .ok)
                        #expect(json(response.body)["scope"] as? String == "hubstore.query")
                        return try #require(json(response.body)["access_token"] as? String)
                    }
                    try await http.execute(
                        uri: "/metrics",
                        method: .get,
                        headers: [.authorization: "Bearer \(narrow)", HTTPField.Name("X-egain-error-message")!: "yes"]
                    ) { response in
                        #expect(response.status == .forbidden)
                        let body = json(response.body)
                        #expect(body["code"] as? String == "403-101")
                        #expect(body["userMessage"] as? String != nil)
                    }
                    // Revoking the client stops its tokens at once.
                    try await registry.revoke(id: client.id, actor: "test")
                    try await http.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer \(token)"])
                    {
                        #expect($0.status == .unauthorized)
                        #expect(json($0.body)["code"] as? String == "401-104")
                    }
                    try await http.execute(
                        uri: "/oauth2/token",
                        method: .post,
                        headers: headers,
                        body: ByteBuffer(string: "grant_type=client_credentials")
                    ) { response in
                        #expect(response.status == .unauthorized)
                        #expect(json(response.body)["error"] as? String == "invalid_client")
                    }
                }
            }
        }
    }

    @Test(arguments: [
        ("grant_type=password&client_id=a&client_secret=b", 400, "unsupported_grant_type"),
        ("client_id=a&client_secret=b", 400, "invalid_request"),
        ("grant_type=client_credentials&client_id=a&client_secret=b", 401, "invalid_client"),
        ("grant_type=client_credentials", 401, "invalid_client"),
    ])
    func badTokenRequestsGetOAuthErrors(_ body: String, _ status: Int, _ error: String) async throws {
        try await withTemporaryDirectory { directory in
            try await withHub(directory) { _, _, app in
                try await app.test(.router) { http in
                    try await http.execute(
                        uri: "/oauth2/token",
                        method: .post,
                        headers: Self.form,
                        body: ByteBuffer(string: body)
                    ) {
                        #expect($0.status.code == status)
                        #expect(json($0.body)["error"] as? String == error)
                    }
                }
            }
        }
    }

    @Test func scopesBeyondTheGrantAndUnknownScopesAreRefused() async throws {
        try await withTemporaryDirectory { directory in
            try await withHub(directory) { store, _, app in
                let (client, secret) = try await ClientRegistry(store: store).create(
                    name: "q",
                    scopes: [.query],
                    actor: "t"
                )
                try await app.test(.router) { http in
                    for scope in ["hubstore.admin", "no.such.scope"] {
                        try await http.execute(
                            uri: "/oauth2/token",
                            method: .post,
                            headers: Self.form,
                            body: ByteBuffer(
                                string:
                                    "grant_type=client_credentials&client_id=\(client.id)&client_secret=\(secret)&scope=\(scope)"
                            )
                        ) { response in
                            #expect(response.status == .badRequest)
                            #expect(json(response.body)["error"] as? String == "invalid_scope")
                        }
                    }
                    try await http.execute(
                        uri: "/oauth2/token",
                        method: .post,
                        headers: [.contentType: "application/json"],
                        body: ByteBuffer(string: "{}")
                    ) { #expect($0.status == .badRequest) }
                }
            }
        }
    }

    @Test func missingMalformedForgedAndExpiredTokensGet401104() async throws {
        try await withTemporaryDirectory { directory in
            try await withHub(directory) { _, tokens, app in
                let forger = TokenService(
                    masterKey: try MasterKey.load(
                        directory: DataDirectory(path: directory),
                        environment: ["HUBSTORE_MASTER_KEY": String(repeating: "7", count: 64)]
                    )
                )
                let expired = tokens.issue(
                    subject: TokenService.operatorSubject,
                    scopes: [.admin],
                    lifetime: .seconds(60),
                    now: Date().addingTimeInterval(-120)
                )
                let forged = forger.issue(subject: TokenService.operatorSubject, scopes: [.admin])
                let valid = tokens.issue(subject: TokenService.operatorSubject, scopes: [.admin])
                var tampered = Array(valid)
                tampered[tampered.count / 2] = tampered[tampered.count / 2] == "A" ? "B" : "A"
                let headers: [HTTPFields] = [
                    [:], [.authorization: "Bearer"], [.authorization: "Bearer not.a.token"],
                    [.authorization: "Basic abc"], [.authorization: "Bearer \(expired)"],
                    [.authorization: "Bearer \(forged)"], [.authorization: "Bearer \(String(tampered))"],
                ]
                try await app.test(.router) { http in
                    for header in headers {
                        try await http.execute(uri: "/metrics", method: .get, headers: header) { response in
                            #expect(response.status == .unauthorized, "\(header)")
                            #expect(json(response.body)["code"] as? String == "401-104")
                            #expect(
                                json(response.body)["developerMessage"] as? String
                                    == "Invalid or missing 'Authorization' header value."
                            )
                            #expect(json(response.body)["userMessage"] == nil)
                        }
                    }
                    // The scheme is case-insensitive; blanks around the token are ignored.
                    for header in ["Bearer \(valid)", "bEaReR \t \(valid)  "] {
                        try await http.execute(uri: "/metrics", method: .get, headers: [.authorization: header]) {
                            #expect($0.status == .ok, "\(header)")
                        }
                    }
                    // Probes stay open.
                    try await http.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
                }
            }
        }
    }
}
