import Foundation
import HTTPTypes
import HubCommands
import HubDomain
@_spi(Storage) import HubEventLog
import HubHTTP
import HubReadModels
import HubSQLite
import HubTestSupport
import HubVault
import Hummingbird
import HummingbirdTesting
import Testing

/// A test client for the Conversation Manager API with a token of the given scopes.
struct API {
    let client: any TestClientProtocol
    let token: String

    func call(
        _ method: HTTPRequest.Method,
        _ path: String,
        _ body: String? = nil,
        contentType: String = "application/json"
    )
        async throws -> (status: Int, json: JSONValue?)
    {
        var headers: HTTPFields = [.authorization: "Bearer \(token)"]
        if body != nil { headers[.contentType] = contentType }
        return try await client.execute(
            uri: "/conversation/conversationmgr/v3" + path,
            method: method,
            headers: headers,
            body: body.map { ByteBuffer(string: $0) }
        ) { response in
            let text = String(buffer: response.body)
            return (
                Int(response.status.code),
                text.isEmpty ? nil : try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
            )
        }
    }

    /// POSTs and returns the new id (expecting 201).
    func create(_ segment: String, _ body: String) async throws -> String {
        let (status, json) = try await call(.post, "/" + segment, body)
        #expect(status == 201, "\(segment): \(json?.text ?? "")")
        return try #require(json?["id"]?.stringValue)
    }
}

func withAPI(
    scopes: Set<Scope> = [.manage],
    _ body: @Sendable (API, EventStore, String) async throws -> Void
) async throws {
    try await withTemporaryDirectory { directory in
        try await withHub(directory) { store, tokens, app in
            let (client, _) = try await ClientRegistry(store: store).create(
                name: "integrator",
                scopes: scopes,
                actor: "test"
            )
            let token = tokens.issue(subject: client.id, scopes: scopes)
            try await app.test(.router) { client in try await body(API(client: client, token: token), store, directory)
            }
        }
    }
}

/// The documented setup, in the documented order, with the vendor's published bodies (ids replaced).
struct Setup {
    var authentication = "", customerApp = "", botApp = "", agentApp = "", participant = "", channel = "",
        orchestration = "", orchestrationWithoutBot = "", account = ""

    static let authenticationBody = #"""
        {
            "name": "custom_bot_callback_authentication",
            "type": "oauth2",
            "oauth2": {
              "tokenRequestUrl": "https://example.com/accesstoken",
              "method": "POST",
              "headers": [
                { "name": "Content-Type", "value": "application/json" },
                { "name": "Accept", "value": "application/json" }
              ],
              "payload": "{ \"clientId\": \"74513d54e112464ea8e69d3d639d0c94\",\"clientSecret\": \"nv1GRtTAL1OcKdqKZrQBb5AqQNilgaitr@JYtsdYZvLbCHx8dRjZeCPENmo8\"}",
              "accessTokenPath": "$.accessToken"
            }
        }
        """#

    static func application(_ name: String, role: String, authentication: String?) -> String {
        """
        {"name": "\(name)", "description": "\(role) app", "roles": [{"name": "\(role)", "version": "v3",
          "callback": "https://example.support.com/messaging/callback/\(role)",
          "notificationEmail": "ops@example.com", "headers": [{"name": "X-custom-header", "value": "xyz-secret-\(role)"}]
          \(authentication.map { #", "authentication": {"id": "\#($0)"}"# } ?? "")}]}
        """
    }

    static func make(_ api: API) async throws -> Setup {
        var setup = Setup()
        setup.authentication = try await api.create("authentications", authenticationBody)
        setup.botApp = try await api.create(
            "clientapplications",
            application("custom_bot_client_application_1", role: "custom_bot", authentication: setup.authentication)
        )
        setup.customerApp = try await api.create(
            "clientapplications",
            application("customer_app", role: "customer", authentication: nil)
        )
        setup.agentApp = try await api.create(
            "clientapplications",
            application("agent_app", role: "custom_agent", authentication: nil)
        )
        setup.participant = try await api.create(
            "participants",
            #"""
            {"name": "custom_bot_participant", "type": "custom_bot", "description": "bot",
             "application": {"id": "\#(setup.botApp)"},
             "intents": {"intent": [{"value": "order_complaints", "displayValue": "Order Complaints"}]},
             "options": [{"name": "k", "value": "v"}]}
            """#
        )
        setup.channel = try await api.create(
            "channels",
            #"""
            {"type": "custom_channel", "displayName": "Custom channel", "icon": "iVBORw0KGgo=",
             "restrictions": {"inbound": {"maxTextLength": 140, "features": ["typing_events"],
               "attachmentPolicy": {"enabled": true, "maxSize": 1048576, "type": "allow", "extensions": ["png", "pdf"]}},
               "outbound": {"maxTextLength": 1000, "systemMessages": true, "richMessageTypes": ["quickreply"]}},
             "l10nProperties": [{"language": "en-US", "properties": [{"name": "msg_hub_off_hours", "value": "We are closed."}]}]}
            """#
        )
        setup.orchestration = try await api.create(
            "orchestrations",
            #"""
            {"name": "default_orchestration", "description": "Created for Custom channel", "active": true,
             "applications": {"botConfiguration": {"forwardTranscript": true, "bots": [{"id": "\#(setup.botApp)",
                 "participant": {"id": "\#(setup.participant)"}, "onEscalation": {"agent": {"id": "\#(setup.agentApp)"}}}]},
               "customerConfiguration": {"customer": {"id": "\#(setup.customerApp)"}}}}
            """#
        )
        setup.orchestrationWithoutBot = try await api.create(
            "orchestrations",
            #"""
            {"name": "agent_only_orchestration", "applications": {
               "customerConfiguration": {"customer": {"id": "\#(setup.customerApp)"}},
               "agentConfiguration": {"agents": [{"id": "\#(setup.agentApp)"}]}}}
            """#
        )
        setup.account = try await api.create(
            "accounts",
            #"""
            {"name": "order_account", "address": "123456789", "channel": {"id": "\#(setup.channel)"},
             "chatConfigurations": {"timeout": 30, "defaultLanguage": "en-US", "onAgentUnavailability": "off_hours",
               "orchestration": {"id": "\#(setup.orchestration)"}, "entryPoint": {"id": "1001"}}}
            """#
        )
        return setup
    }
}

struct ConfigurationAPITests {
    @Test func thePublishedExamplesAreAcceptedAndReadBackWithSecretsMasked() async throws {
        try await withAPI { api, store, directory in
            let setup = try await Setup.make(api)
            let (status, authentication) = try await api.call(.get, "/authentications/\(setup.authentication)")
            #expect(status == 200)
            #expect(authentication?["name"]?.stringValue == "custom_bot_callback_authentication")
            #expect(authentication?.value(at: "oauth2.payload")?.stringValue == "********")
            #expect(authentication?.strings(at: "oauth2.headers[].value") == ["********", "********"])
            #expect(authentication?.strings(at: "oauth2.headers[].name") == ["Content-Type", "Accept"])
            #expect(authentication?.value(at: "oauth2.accessTokenPath")?.stringValue == "$.accessToken")
            #expect(authentication?["active"] == .bool(true))
            let created = try #require(authentication?["created"]?.stringValue)
            #expect(created.hasSuffix("Z") && created.count == 24)

            let (_, orchestration) = try await api.call(.get, "/orchestrations/\(setup.orchestration)")
            #expect(
                orchestration?.strings(at: "applications.botConfiguration.bots[].participant.id") == [setup.participant]
            )
            let (_, list) = try await api.call(.get, "/clientapplications?$pagesize=2&$pagenum=2")
            #expect(list?.value(at: "paginationInfo.count") == .integer(3))
            #expect(list?.value(at: "paginationInfo.pagenum") == .integer(2))
            #expect(list?["clientApplication"]?.arrayValue?.count == 1)
            #expect(list?.strings(at: "clientApplication[].roles[].headers[].value") == ["********"])

            // Every change is an event; the log verifies; no secret is in the file in clear.
            let events = try await store.readAll(limit: 100)
            #expect(events.filter { !$0.stream.hasPrefix("client/") && $0.type.hasSuffix(".created") }.count == 9)
            let integrator = try #require(
                events.first { $0.type == "client.created" }?.stream.dropFirst("client/".count)
            )
            #expect(events.allSatisfy { $0.actor == String(integrator) || $0.stream.hasPrefix("client/") })
            #expect(events.allSatisfy { $0.correlationId != nil || $0.stream.hasPrefix("client/") })
            for event in events where event.type == "authentication.created" {
                #expect(!event.data.contains("nv1GRtTAL1OcKdqKZrQBb5AqQNilgaitr"))
            }
            await store.close()
            let bytes =
                try Data(contentsOf: URL(fileURLWithPath: directory + "/hub.sqlite"))
                + ((try? Data(contentsOf: URL(fileURLWithPath: directory + "/hub.sqlite-wal"))) ?? Data())
            for secret in [
                "nv1GRtTAL1OcKdqKZrQBb5AqQNilgaitr", "xyz-secret-custom_bot", "74513d54e112464ea8e69d3d639d0c94",
            ] {
                #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(secret) found in hub.sqlite")
            }
        }
    }

    @Test func updatesKeepMaskedSecretsAndRefuseStaleModified() async throws {
        try await withAPI { api, store, _ in
            let setup = try await Setup.make(api)
            let (_, before) = try await api.call(.get, "/authentications/\(setup.authentication)")
            let modified = try #require(before?["modified"]?.stringValue)
            // PUT without modified on an Authentication: 400-143.
            var (status, error) = try await api.call(
                .put,
                "/authentications/\(setup.authentication)",
                Setup.authenticationBody
            )
            #expect(status == 400)
            #expect(error?["code"]?.stringValue == "400-143")
            // The masked value sent back keeps the secret; the description changes.
            let update = try #require(before).mappingStrings(at: ["description"]) { _, _ in .string("x") }
            guard case .object(var fields) = update else { return }
            fields["description"] = .string("rotated headers")
            (status, error) = try await api.call(
                .put,
                "/authentications/\(setup.authentication)",
                JSONValue.object(fields).text
            )
            #expect(status == 204, "\(error?.text ?? "")")
            let (_, after) = try await api.call(.get, "/authentications/\(setup.authentication)")
            #expect(after?["description"]?.stringValue == "rotated headers")
            #expect(after?["created"] == before?["created"])
            #expect(after?["modified"] != before?["modified"])
            let events = try await store.readStream("authentication/\(setup.authentication)")
            #expect(events.map(\.type) == ["authentication.created", "authentication.updated"])
            #expect(
                try JSONDecoder().decode(JSONValue.self, from: Data(events[0].data.utf8)).value(at: "oauth2.payload")
                    == JSONDecoder().decode(JSONValue.self, from: Data(events[1].data.utf8)).value(at: "oauth2.payload")
            )
            // The old modified is now stale.
            fields["modified"] = .string(modified)
            (status, error) = try await api.call(
                .put,
                "/authentications/\(setup.authentication)",
                JSONValue.object(fields).text
            )
            #expect(status == 400)
            #expect(error?["code"]?.stringValue == "400-150")
        }
    }

    @Test func eachErrorClassGetsItsStatusAndCode() async throws {
        try await withAPI { api, _, _ in
            let setup = try await Setup.make(api)
            let missingId = "00000000-0000-4000-8000-000000000000"
            let cases: [(HTTPRequest.Method, String, String?, Int, String)] = [
                (
                    .post, "/authentications", #"{"type": "basic", "basicAuth": {"username": "u", "password": "p"}}"#,
                    400, "400-143"
                ),
                (.post, "/authentications", #"{"name": "b", "type": "basic"}"#, 400, "400-143"),
                (
                    .post, "/authentications",
                    #"{"name": "b", "type": "digest", "basicAuth": {"username": "u", "password": "p"}}"#, 400, "400-102"
                ),
                (
                    .post, "/authentications",
                    #"{"name": 5, "type": "basic", "basicAuth": {"username": "u", "password": "p"}}"#, 400, "400-102"
                ),
                (
                    .post, "/authentications",
                    #"{"name": "\#(String(repeating: "n", count: 256))", "type": "basic", "basicAuth": {"username": "u", "password": "p"}}"#,
                    400, "400-102"
                ),
                (.post, "/authentications", Setup.authenticationBody, 400, "400-144"),
                (.post, "/authentications", "{not json", 400, "400-102"),
                (.post, "/authentications?x=1", Setup.authenticationBody, 400, "400-101"),
                (.get, "/authentications?$pagesize=500", nil, 400, "400-102"),
                (.get, "/authentications?$filter=a", nil, 400, "400-101"),
                (.get, "/authentications/\(missingId)", nil, 404, "404-101"),
                (.get, "/authentications/not-a-uuid", nil, 404, "404-101"),
                (.delete, "/authentications/\(setup.authentication)", nil, 400, "400-146"),
                (
                    .post, "/clientapplications", Setup.application("x", role: "customer", authentication: missingId),
                    400, "400-145"
                ),
                (
                    .post, "/clientapplications",
                    Setup.application("customer_app", role: "customer", authentication: nil), 400, "400-144"
                ),
                (.post, "/clientapplications", #"{"name": "r", "roles": []}"#, 400, "400-102"),
                (.delete, "/clientapplications/\(setup.botApp)", nil, 400, "400-146"),
                (
                    .post, "/participants",
                    #"{"name": "p2", "type": "custom_bot", "application": {"id": "\#(setup.customerApp)"}}"#, 400,
                    "400-102"
                ),
                (.post, "/participants", #"{"name": "p2", "type": "custom_bot"}"#, 400, "400-143"),
                (.delete, "/participants/\(setup.participant)", nil, 400, "400-146"),
                (.post, "/channels", #"{"type": "custom_channel", "displayName": "d", "icon": "i"}"#, 400, "400-144"),
                (.post, "/channels", #"{"type": "c2", "displayName": "d"}"#, 400, "400-143"),
                (.delete, "/channels/\(setup.channel)", nil, 400, "400-146"),
                (.put, "/channels/\(missingId)", #"{"type": "c3", "displayName": "d", "icon": "i"}"#, 404, "404-101"),
                (.post, "/orchestrations", #"{"name": "o2", "applications": {}}"#, 400, "400-143"),
                (
                    .post, "/orchestrations",
                    #"{"name": "o2", "applications": {"agentConfiguration": {"agents": [{"id": "\#(missingId)"}]}}}"#,
                    400, "400-145"
                ),
                (.delete, "/orchestrations/\(setup.orchestration)", nil, 400, "400-146"),
                (
                    .post, "/accounts",
                    #"{"name": "a2", "address": "1", "channel": {"id": "\#(missingId)"}, "chatConfigurations": {"orchestration": {"id": "\#(setup.orchestration)"}, "entryPoint": {"id": "1"}}}"#,
                    400, "400-145"
                ),
                (
                    .post, "/accounts",
                    #"{"name": "a2", "address": "123456789", "channel": {"id": "\#(setup.channel)"}, "chatConfigurations": {"orchestration": {"id": "\#(setup.orchestration)"}, "entryPoint": {"id": "1"}}}"#,
                    400, "400-144"
                ),
                (
                    .post, "/accounts", #"{"name": "a2", "address": "1", "channel": {"id": "\#(setup.channel)"}}"#, 400,
                    "400-143"
                ),
                (.delete, "/accounts/\(missingId)", nil, 404, "404-101"),
            ]
            for (method, path, body, status, code) in cases {
                let (actual, json) = try await api.call(method, path, body)
                #expect(actual == status, "\(method) \(path): \(json?.text ?? "")")
                #expect(json?["code"]?.stringValue == code, "\(method) \(path): \(json?.text ?? "")")
                #expect(json?["developerMessage"]?.stringValue?.isEmpty == false)
            }
            // The attribute is named.
            let (_, missing) = try await api.call(.post, "/channels", #"{"type": "c2", "displayName": "d"}"#)
            #expect(
                missing?["developerMessage"]?.stringValue == "Required attribute is missing in the request body: icon"
            )
            let (wrongType, _) = try await api.call(.post, "/channels", "{}", contentType: "text/plain")
            #expect(wrongType == 400)
            // Deleting in reverse order works.
            for path in [
                "/accounts/\(setup.account)", "/orchestrations/\(setup.orchestration)",
                "/orchestrations/\(setup.orchestrationWithoutBot)",
                "/participants/\(setup.participant)", "/channels/\(setup.channel)",
                "/clientapplications/\(setup.botApp)",
                "/authentications/\(setup.authentication)",
            ] {
                #expect(try await api.call(.delete, path).status == 204, "\(path)")
            }
            #expect(try await api.call(.get, "/accounts/\(setup.account)").status == 404)
        }
    }

    @Test func aGetThatDoesNotAcceptJSONGets406() async throws {
        try await withAPI { api, _, _ in
            for (accept, status) in [
                ("text/html", 406), ("application/json", 200), ("*/*", 200), ("text/html, application/*;q=0.5", 200),
            ] {
                try await api.client.execute(
                    uri: "/conversation/conversationmgr/v3/channels",
                    method: .get,
                    headers: [.authorization: "Bearer \(api.token)", .accept: accept]
                ) { #expect(Int($0.status.code) == status, "\(accept)") }
            }
        }
    }

    @Test func readScopeReadsButCannotWrite() async throws {
        try await withAPI(scopes: [.read]) { api, _, _ in
            #expect(try await api.call(.get, "/channels").status == 200)
            let (status, json) = try await api.call(
                .post,
                "/channels",
                #"{"type": "c", "displayName": "d", "icon": "i"}"#
            )
            #expect(status == 403)
            #expect(json?["code"]?.stringValue == "403-101")
        }
    }

    @Test func concurrentDeletesRacingCreatesNeverLeaveADanglingReference() async throws {
        try await withAPI { api, store, _ in
            for round in 0..<10 {
                let authentication = try await api.create(
                    "authentications",
                    #"{"name": "race-\#(round)", "type": "basic", "basicAuth": {"username": "u", "password": "p"}}"#
                )
                async let deleted = api.call(.delete, "/authentications/\(authentication)")
                async let created = api.call(
                    .post,
                    "/clientapplications",
                    Setup.application("race-app-\(round)", role: "customer", authentication: authentication)
                )
                let (deleteStatus, createStatus) = try await (deleted.status, created.status)
                // Exactly one of them wins.
                #expect(
                    (deleteStatus == 204) != (createStatus == 201),
                    "round \(round): \(deleteStatus) \(createStatus)"
                )
            }
            let dangling = try await store.pool.read { connection in
                try connection.singleInt64(
                    sql: """
                        SELECT count(*) FROM config_references r WHERE NOT EXISTS
                        (SELECT 1 FROM config_resources c WHERE c.kind = r.target_kind AND c.id = r.target_id)
                        """
                )
            }
            #expect(dangling == 0)
        }
    }
}

struct ConfigurationErrorsPerKindTests {
    @Test(arguments: ResourceKind.allCases)
    func theGenericErrorClassesHoldForEveryKind(_ kind: ResourceKind) async throws {
        try await withAPI { api, _, _ in
            let setup = try await Setup.make(api)
            let existing = [
                ResourceKind.authentication: setup.authentication, .clientApplication: setup.customerApp,
                .participant: setup.participant, .channel: setup.channel, .orchestration: setup.orchestration,
                .account: setup.account,
            ][kind]!
            let missing = "00000000-0000-4000-8000-00000000abcd"
            let path = "/" + kind.pathSegment
            let cases: [(HTTPRequest.Method, String, String?, Int, String)] = [
                (.post, path, "{}", 400, "400-143"),
                (.post, path, "[1, 2]", 400, "400-102"),
                (.post, path, "{\"name\": ", 400, "400-102"),
                (.post, path + "?debug=1", "{}", 400, "400-101"),
                (.get, path + "?$pagenum=0", nil, 400, "400-102"),
                (.get, path + "?sort=name", nil, 400, "400-101"),
                (.get, path + "/" + missing, nil, 404, "404-101"),
                (.put, path + "/" + missing, "{}", 400, "400-143"),
                (.delete, path + "/" + missing, nil, 404, "404-101"),
                (.get, path + "/" + existing + "?x=y", nil, 400, "400-101"),
            ]
            for (method, uri, body, status, code) in cases {
                let (actual, json) = try await api.call(method, uri, body)
                #expect(actual == status, "\(method) \(uri): \(json?.text ?? "")")
                #expect(json?["code"]?.stringValue == code, "\(method) \(uri): \(json?.text ?? "")")
            }
            // A stale `modified` on PUT: read, change nothing but `modified`.
            let (_, current) = try await api.call(.get, path + "/" + existing)
            guard case .object(var fields) = try #require(current) else { return }
            fields["modified"] = .string("2001-01-01T00:00:00.000Z")
            let (status, json) = try await api.call(.put, path + "/" + existing, JSONValue.object(fields).text)
            #expect(status == 400)
            #expect(json?["code"]?.stringValue == "400-150")
            // Sent back as read, it is accepted.
            fields["modified"] = current?["modified"]
            #expect(try await api.call(.put, path + "/" + existing, JSONValue.object(fields).text).status == 204)
            // The list shows it.
            let (_, list) = try await api.call(.get, path)
            #expect(list?[kind.itemName]?.arrayValue?.contains { $0["id"]?.stringValue == existing } == true)
        }
    }
}
