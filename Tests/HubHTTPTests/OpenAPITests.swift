import Foundation
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

struct OpenAPITests {
    @Test func theDocumentDescribesExactlyTheRoutesTheRouterServes() async throws {
        try await withTemporaryDirectory { directory in
            let store = try await EventStore.open(.init(dataDirectory: directory), readModels: .hub)
            let masterKey = try MasterKey.load(directory: store.directory, environment: [:])
            let router = buildRouter(
                store: store,
                metrics: HubMetrics(),
                tokens: TokenService(masterKey: masterKey),
                masterKey: masterKey
            )
            let served = Set(
                router.routes.map { route in
                    "\(route.method.rawValue) " + "\(route.path)".replacing(/:(\w+)/) { "{\($0.1)}" }
                }
            )
            let app = Application(router: router)
            let token = TokenService(masterKey: masterKey).issue(subject: TokenService.operatorSubject, scopes: [.read])
            let document = try await app.test(.router) { client in
                try await client.execute(uri: "/openapi.json", method: .get) { #expect($0.status == .unauthorized) }
                return try await client.execute(
                    uri: "/openapi.json",
                    method: .get,
                    headers: [.authorization: "Bearer \(token)"]
                ) { response in
                    #expect(response.status == .ok)
                    return try JSONDecoder().decode(JSONValue.self, from: Data(String(buffer: response.body).utf8))
                }
            }
            await store.close()
            #expect(document["openapi"] == "3.1.0")
            var documented = Set<String>()
            for (path, methods) in try #require(document["paths"]?.objectValue) {
                for method in try #require(methods.objectValue).keys {
                    documented.insert("\(method.uppercased()) \(path)")
                }
            }
            #expect(
                documented == served,
                "only documented: \(documented.subtracting(served)); only served: \(served.subtracting(documented))"
            )
            // The connector: 5 installation routes, 3 Domain API, 2 tokens, 2 Send API.
            let expectedCount = 6 * 5 + 26 + 12
            #expect(documented.count == expectedCount)
            // The resource schemas come from the validators' own definitions.
            #expect(
                document.value(at: "components.schemas.authentication.properties.oauth2.properties.payload.description")
                    == "Secret: sealed at rest, read back as ********"
            )
            #expect(
                document.value(at: "components.schemas.account.required")
                    == .array(["name", "address", "channel", "chatConfigurations"])
            )
        }
    }
}

/// The document's parameter schemas say what the server enforces: a client generated from it (or a
/// fuzzer such as schemathesis) is neither refused a value the document allows nor let through one it
/// forbids.
struct OpenAPIParameterTests {
    @Test func everyIntegerQueryParameterIsRefusedJustOutsideItsDocumentedRangeAndTakenAtItsEdges() async throws {
        let checked = try await withTemporaryDirectory { directory in
            try await withHub(directory) { _, tokens, app in
                let token = tokens.issue(subject: TokenService.operatorSubject, scopes: Set(Scope.allCases))
                return try await app.test(.router) { client in
                    var checked: [String] = []
                    let document = try await client.execute(
                        uri: "/openapi.json",
                        method: .get,
                        headers: [.authorization: "Bearer \(token)"]
                    ) { try JSONValue.parse(String(buffer: $0.body)) }
                    for (path, methods) in try #require(document["paths"]?.objectValue) where !path.contains("{") {
                        guard let parameters = methods["get"]?["parameters"]?.arrayValue else { continue }
                        for parameter in parameters where parameter["schema"]?["type"] == "integer" {
                            let name = try #require(parameter["name"]?.stringValue)
                            guard case .integer(let minimum)? = parameter["schema"]?["minimum"],
                                case .integer(let maximum)? = parameter["schema"]?["maximum"]
                            else {
                                Issue.record("\(path) \(name): an integer without its range")
                                continue
                            }
                            // The search needs its query; the rest take their parameter alone.
                            let base = path + (path == "/v1/search" ? "?q=hello&" : "?")
                            func status(_ value: String) async throws -> Int {
                                // HEAD: the live feed's headers, not a stream that never ends.
                                try await client.execute(
                                    uri: base + "\(name)=\(value)",
                                    method: .head,
                                    headers: [.authorization: "Bearer \(token)"]
                                ) { Int($0.status.code) }
                            }
                            let below = minimum == .min ? nil : "\(minimum - 1)"
                            let above = maximum == .max ? "9\(maximum)" : "\(maximum + 1)"
                            for value in [below, above, "x"].compactMap({ $0 }) {
                                #expect(try await status(value) == 400, "\(path) \(name)=\(value)")
                            }
                            for value in [minimum, maximum] {
                                #expect(try await status("\(value)") == 200, "\(path) \(name)=\(value)")
                            }
                            checked.append("\(path) \(name)")
                        }
                    }
                    return checked
                }
            }
        }
        // Every list of the configuration API (page number and size); the limits of the conversations,
        // the search and the event feed; the feeds' `from`, and the live feed's heartbeat.
        #expect(checked.count == 6 * 2 + 6, "\(checked)")
    }
}
