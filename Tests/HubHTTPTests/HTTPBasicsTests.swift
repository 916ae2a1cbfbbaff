import Foundation
import HTTPTypes
import HubCommands
import HubDomain
@_spi(Storage) import HubEventLog
import HubReadModels
import HubTestSupport
import HubVault
import Hummingbird
import HummingbirdTesting
import Testing

@testable import HubHTTP

/// Issue 13 item 15: HEAD, 405 with `Allow`, 404 and 413 in the API's error format, CORS.
struct HTTPBasicsTests {
    typealias Answer = (status: Int, headers: HTTPFields, body: String)

    func call(
        _ client: some TestClientProtocol,
        _ method: HTTPRequest.Method,
        _ path: String,
        token: String? = nil,
        headers: HTTPFields = [:],
        body: String? = nil
    ) async throws -> Answer {
        var headers = headers
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await client.execute(
            uri: path,
            method: method,
            headers: headers,
            body: body.map { ByteBuffer(string: $0) }
        ) { (Int($0.status.code), $0.headers, String(buffer: $0.body)) }
    }

    /// Every GET route of the router, with `{id}` filled in.
    func getRoutes(_ directory: String) async throws -> [String] {
        let store = try await EventStore.open(.init(dataDirectory: directory + "/routes"), readModels: .hub)
        let masterKey = try MasterKey.load(directory: store.directory, environment: [:])
        let router = buildRouter(
            store: store,
            metrics: HubMetrics(),
            tokens: TokenService(masterKey: masterKey),
            masterKey: masterKey
        )
        await store.close()
        let id = UUID().uuidString.lowercased()
        return router.routes.filter { $0.method == .get }.map { "\($0.path)".replacing(/:(\w+)/) { _ in id } }
    }

    @Test func headIsServedOnEveryGetRouteWithTheGetsHeadersAndNoBody() async throws {
        try await withTemporaryDirectory { directory in
            let paths = try await getRoutes(directory)
            #expect(paths.count > 15)
            try await withHub(directory) { _, tokens, app in
                let token = tokens.issue(subject: TokenService.operatorSubject, scopes: Set(Scope.allCases))
                try await app.test(.router) { client in
                    // The live feed's GET never ends (Server-Sent Events): its HEAD answers the headers alone.
                    let live = try await call(client, .head, "/v1/events/live", token: token)
                    #expect(live.status == 200 && live.body.isEmpty)
                    #expect(live.headers[.contentType] == "text/event-stream")
                    for path in paths where path != "/v1/events/live" {
                        let get = try await call(client, .get, path, token: token)
                        let head = try await call(client, .head, path, token: token)
                        #expect(head.status == get.status, "HEAD \(path): \(head.status), GET \(get.status)")
                        #expect(head.body.isEmpty, "HEAD \(path)")
                        #expect(head.headers[.contentType] == get.headers[.contentType], "HEAD \(path)")
                    }
                    let health = try await call(client, .head, "/healthz")
                    #expect(health.status == 200)
                    #expect(health.headers[.contentLength] == "15")  // {"status":"ok"}
                }
            }
        }
    }

    @Test func aKnownPathWithAnotherMethodIs405WithAllowAndAnUnknownPathIsAnAPI404() async throws {
        try await withTemporaryDirectory { directory in
            try await withHub(directory) { _, tokens, app in
                let token = tokens.issue(subject: TokenService.operatorSubject, scopes: Set(Scope.allCases))
                let id = UUID().uuidString
                try await app.test(.router) { client in
                    for (method, path, allow) in [
                        (HTTPRequest.Method.delete, "/v1/conversations", "GET, HEAD, OPTIONS"),
                        (.patch, "/conversation/conversationmgr/v3/channels/\(id)", "DELETE, GET, HEAD, OPTIONS, PUT"),
                        (.get, "/oauth2/token", "OPTIONS, POST"),
                        (.put, "/conversation/conversationmgr/v3/accounts", "GET, HEAD, OPTIONS, POST"),
                        // A path the router resolves to a constant segment answers that route's methods
                        // only, not those of the parameter beside it (`assets/{id}`, `conversations/{id}`).
                        (.delete, "/conversation/conversationmgr/v3/assets/download", "GET, HEAD, OPTIONS"),
                        (.get, "/conversation/conversationmgr/v3/assets/upload", "OPTIONS, POST, PUT"),
                        (.get, "/conversation/conversationmgr/v3/conversations/messages", "OPTIONS, POST"),
                    ] {
                        // With a token or without: the route table is public (/openapi.json).
                        for token in [token, nil] {
                            let answer = try await call(client, method, path, token: token)
                            #expect(answer.status == 405, "\(method) \(path): \(answer.status)")
                            #expect(answer.headers[.allow] == allow, "\(method) \(path)")
                            let body = try JSONValue.parse(answer.body)
                            #expect(body["code"] == "405-101")
                            #expect(body["developerMessage"]?.stringValue?.contains(allow) == true)
                        }
                        let options = try await call(client, .options, path)
                        #expect(options.status == 204)
                        #expect(options.headers[.allow] == allow)
                    }
                    for token in [token, nil] {
                        let missing = try await call(client, .get, "/no/such/route", token: token)
                        #expect(missing.status == 404)
                        #expect(missing.headers[.contentType] == "application/json")
                        let body = try JSONValue.parse(missing.body)
                        #expect(body["code"] == "404-103")
                        #expect(body["developerMessage"]?.stringValue?.isEmpty == false)
                    }
                    // A route's own 404 keeps its code.
                    let unknownChannel = try await call(
                        client,
                        .get,
                        "/conversation/conversationmgr/v3/channels/\(id)",
                        token: token
                    )
                    #expect(unknownChannel.status == 404 && unknownChannel.body.contains("404-101"))
                }
            }
        }
    }

    @Test func aBodyOverTheRoutesLimitIs413InTheAPIsFormat() async throws {
        try await withAPI { api, _, _ in
            let large = #"{"name": ""# + String(repeating: "x", count: 1024 * 1024) + #""}"#
            let (status, json) = try await api.call(.post, "/participants", large)
            #expect(status == 413)
            #expect(json?["code"] == "413-101")
            #expect(json?["developerMessage"]?.stringValue?.contains("1048576") == true)
            // Just under the limit is read, and refused for its content instead.
            let (underStatus, _) = try await api.call(.post, "/participants", #"{"name": 1}"#)
            #expect(underStatus == 400)
            // The token endpoint, in OAuth2's format.
            let answer = try await call(
                api.client,
                .post,
                "/oauth2/token",
                headers: [.contentType: "application/x-www-form-urlencoded"],
                body: "grant_type=client_credentials&x=" + String(repeating: "y", count: 20_000)
            )
            #expect(answer.status == 413)
            #expect(answer.body.contains("invalid_request"))
        }
    }

    @Test func anyRouteReadingTooMuchIs413AndHummingbirdsOwnErrorsUseTheAPIsFormat() async throws {
        let router = Router(context: HubRequestContext.self)
        router.addMiddleware { ErrorMappingMiddleware() }
        router.post("/small") { request, _ -> String in
            _ = try await request.body.collect(upTo: 10)
            return "ok"
        }
        router.get("/teapot") { _, _ -> String in throw HTTPError(.badRequest, message: "no tea") }
        try await Application(router: router).test(.router) { client in
            let large = try await call(client, .post, "/small", body: String(repeating: "x", count: 100))
            #expect(large.status == 413)
            #expect(try JSONValue.parse(large.body)["code"] == "413-101")
            #expect(try await call(client, .post, "/small", body: "tiny").status == 200)
            let teapot = try await call(client, .get, "/teapot")
            #expect(teapot.status == 400)
            let body = try JSONValue.parse(teapot.body)
            #expect(body["code"] == "400-100" && body["developerMessage"] == "no tea")
        }
    }

    @Test func corsIsOffByDefault() async throws {
        try await withTemporaryDirectory { directory in
            try await withHub(directory) { _, _, app in
                try await app.test(.router) { client in
                    let preflight = try await call(
                        client,
                        .options,
                        "/v1/conversations",
                        headers: [.origin: "https://app.example", .accessControlRequestMethod: "GET"]
                    )
                    #expect(preflight.status == 204)
                    #expect(preflight.headers[.accessControlAllowOrigin] == nil)
                    #expect(preflight.headers[.accessControlAllowMethods] == nil)
                    let health = try await call(client, .get, "/healthz", headers: [.origin: "https://app.example"])
                    #expect(health.status == 200)
                    #expect(health.headers[.accessControlAllowOrigin] == nil)
                }
            }
        }
    }

    @Test func configuredOriginsGetAccessControlHeadersAndPreflightsNeedNoToken() async throws {
        try await withTemporaryDirectory { directory in
            let options = APIOptions(
                cors: try #require(CORSPolicy(list: "https://app.example, http://localhost:3000/"))
            )
            let (store, tokens, app) = try await makeHub(directory, options: options)
            let token = tokens.issue(subject: TokenService.operatorSubject, scopes: [.query])
            try await app.test(.router) { client in
                let preflight = try await call(
                    client,
                    .options,
                    "/v1/conversations",
                    headers: [
                        .origin: "https://app.example", .accessControlRequestMethod: "GET",
                        .accessControlRequestHeaders: "authorization",
                    ]
                )
                #expect(preflight.status == 204)
                #expect(preflight.headers[.accessControlAllowOrigin] == "https://app.example")
                #expect(preflight.headers[.accessControlAllowMethods] == "GET, HEAD, OPTIONS")
                #expect(preflight.headers[.accessControlAllowHeaders]?.contains("Authorization") == true)
                #expect(preflight.headers[.accessControlMaxAge] != nil)
                #expect(preflight.headers[values: .vary].contains("Origin"))
                // The actual request, answered or refused: the page may read the answer.
                let origin: HTTPFields = [.origin: "http://localhost:3000"]
                let list = try await call(client, .get, "/v1/conversations", token: token, headers: origin)
                #expect(list.status == 200)
                #expect(list.headers[.accessControlAllowOrigin] == "http://localhost:3000")
                #expect(list.headers[.accessControlExposeHeaders]?.contains("Retry-After") == true)
                let refused = try await call(client, .get, "/v1/conversations", headers: origin)
                #expect(refused.status == 401)
                #expect(refused.headers[.accessControlAllowOrigin] == "http://localhost:3000")
                let missing = try await call(client, .get, "/nowhere", headers: origin)
                #expect(missing.status == 404 && missing.headers[.accessControlAllowOrigin] == "http://localhost:3000")
                // Another origin gets nothing to read.
                let other = try await call(
                    client,
                    .options,
                    "/v1/conversations",
                    headers: [.origin: "https://evil.example", .accessControlRequestMethod: "GET"]
                )
                #expect(other.headers[.accessControlAllowOrigin] == nil)
                #expect(other.headers[.accessControlAllowMethods] == nil)
            }
            await store.close()
            #expect(CORSPolicy(list: "") == CORSPolicy())
            #expect(CORSPolicy(list: "*")?.origins == ["*"])
            #expect(CORSPolicy(list: "app.example") == nil)
            #expect(CORSPolicy(list: "https://app.example/path") == nil)
            #expect(CORSPolicy(list: "ftp://app.example") == nil)
        }
    }
}
