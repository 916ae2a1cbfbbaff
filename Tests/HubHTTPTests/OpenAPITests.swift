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
