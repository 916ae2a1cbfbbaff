import ArgumentParser
import Foundation
import HubCommands
import HubDomain
import HubEventLog
import HubReadModels
import HubVault

extension HubStoreCommand {
    struct Clients: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Manage the API clients that may ask POST /oauth2/token for tokens.",
            discussion: "Safe beside a running server on the same data directory: each change is an event.",
            subcommands: [Create.self, List.self, Revoke.self]
        )
    }
}

/// Opens the data directory beside a possibly running server and runs its writer around `body`.
private func withClientRegistry<T: Sendable>(
    _ options: DataOptions,
    _ body: @Sendable (ClientRegistry) async throws -> T
) async throws -> T {
    try await failingClearly {
        let store = try await EventStore.open(
            EventStoreConfiguration(dataDirectory: try options.resolvedData()),
            exclusive: false,
            readModels: .hub
        )
        do {
            let result = try await store.withWriter { try await body(ClientRegistry(store: $0)) }
            await store.close()
            return result
        } catch {
            await store.close()
            throw error
        }
    }
}

/// Parses `--scope` text, failing with the list of known scopes.
func parseScopes(_ text: String) throws -> Set<Scope> {
    switch ScopeList.parse(text) {
    case .success(let list) where !list.scopes.isEmpty: return list.scopes
    case .success: throw ValidationError("--scope needs at least one scope")
    case .failure(let unknown): throw ValidationError("\(unknown)")
    }
}

extension HubStoreCommand.Clients {
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a client; prints its id and secret (the secret is shown only this once)."
        )

        @OptionGroup var dataOptions: DataOptions

        @Option(help: "A name for the client (1 to 255 characters).")
        var name: String

        @Option(
            help: """
                Space-separated scopes: app.conversation.conversationmgr.manage, .read, .interaction.manage, \
                .interaction.read (bare or with a URL prefix ending in /), hubstore.query, hubstore.admin, \
                hubstore.audit, hubstore.audit.content; \
                .default for all.
                """
        )
        var scope: String

        func run() async throws {
            let scopes = try parseScopes(scope)
            let name = self.name
            let (client, secret) = try await withClientRegistry(dataOptions) {
                try await $0.create(name: name, scopes: scopes, actor: "cli")
            }
            print("client_id: \(client.id)")
            print("client_secret: \(secret)")
            print("scope: \(ScopeList(client.scopes).text)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the clients (never their secrets).")

        @OptionGroup var dataOptions: DataOptions

        func run() async throws {
            let clients = try await withClientRegistry(dataOptions) { try await $0.list() }
            let formatter = ISO8601DateFormatter()
            for client in clients {
                let created = formatter.string(from: Date(timeIntervalSince1970: Double(client.createdAt) / 1000))
                let state =
                    client.revokedAt.map {
                        "revoked " + formatter.string(from: Date(timeIntervalSince1970: Double($0) / 1000))
                    } ?? "active"
                print([client.id, client.name, created, state, ScopeList(client.scopes).text].joined(separator: "\t"))
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a client: its tokens stop working at once, and it gets no new ones."
        )

        @OptionGroup var dataOptions: DataOptions

        @Argument(help: "The client id.")
        var id: String

        func run() async throws {
            let id = self.id
            try await withClientRegistry(dataOptions) { try await $0.revoke(id: id, actor: "cli") }
            print("revoked \(id)")
        }
    }
}
