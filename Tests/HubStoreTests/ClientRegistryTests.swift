import Foundation
import HubCommands
import HubDomain
@_spi(Storage) import HubEventLog
import HubReadModels
import HubTestSupport
import HubVault
import Testing

struct ClientRegistryTests {
    @Test func clientsAreCreatedAuthenticatedListedAndRevokedAsEvents() async throws {
        try await withTemporaryDirectory { directory in
            let secret = try await withStore(directory) { store in
                let registry = ClientRegistry(store: store)
                let (client, secret) = try await registry.create(name: "bot", scopes: [.manage, .query], actor: "test")
                #expect(secret.count == 43)
                #expect(try await registry.authenticate(id: client.id, secret: secret)?.scopes == [.manage, .query])
                #expect(try await registry.authenticate(id: client.id, secret: secret + "x") == nil)
                #expect(try await registry.authenticate(id: "nobody", secret: secret) == nil)
                #expect(try await registry.list().map(\.name) == ["bot"])

                try await registry.revoke(id: client.id, actor: "test")
                #expect(try await registry.authenticate(id: client.id, secret: secret) == nil)
                #expect(try await registry.client(id: client.id)?.isActive == false)
                await #expect(throws: ClientRegistryError.alreadyRevoked(client.id)) {
                    try await registry.revoke(id: client.id, actor: "test")
                }
                await #expect(throws: ClientRegistryError.notFound("nope")) {
                    try await registry.revoke(id: "nope", actor: "test")
                }
                await #expect(throws: ClientRegistryError.noScopes) {
                    try await registry.create(name: "x", scopes: [], actor: "test")
                }
                let events = try await store.readAll(filter: .init(streamPrefix: "client/"))
                #expect(events.map(\.type) == ["client.created", "client.revoked"])
                #expect(events.allSatisfy { $0.actor == "test" && $0.stream == "client/\(client.id)" })
                return secret
            }
            // The secret is nowhere in the data directory's files, only its salted hash.
            for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
                let bytes = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name))
                #expect(bytes.range(of: Data(secret.utf8)) == nil, "secret found in \(name)")
            }
        }
    }

    @Test func theMasterKeyIsCreatedPrivateAndStable() async throws {
        try await withTemporaryDirectory { directory in
            let data = DataDirectory(path: directory)
            let first = try MasterKey.load(directory: data, environment: [:])
            let again = try MasterKey.load(directory: data, environment: [:])
            #expect(first.derivedKey(purpose: "p") == again.derivedKey(purpose: "p"))
            #expect(first.derivedKey(purpose: "p") != first.derivedKey(purpose: "q"))
            let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/master.key")
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            let hex = String(repeating: "ab", count: 32)
            let fromEnvironment = try MasterKey.load(directory: data, environment: ["HUBSTORE_MASTER_KEY": hex])
            #expect(fromEnvironment.derivedKey(purpose: "p") != first.derivedKey(purpose: "p"))
            #expect(throws: MasterKeyError.self) {
                try MasterKey.load(directory: data, environment: ["HUBSTORE_MASTER_KEY": "short"])
            }
        }
    }
}
