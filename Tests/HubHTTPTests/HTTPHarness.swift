import HubHTTP
import HubStore
import HubTestSupport
import Hummingbird
import HummingbirdTesting
import Logging

/// A store with its writer running and the application over it, for `app.test(...)`.
func withHub<T: Sendable>(
    _ directory: String,
    _ body: @Sendable (EventStore, TokenService, any ApplicationProtocol) async throws -> T
) async throws -> T {
    let metrics = HubMetrics()
    let store = try await EventStore.open(.init(dataDirectory: directory), metricsFactory: metrics.factory)
    let tokens = TokenService(masterKey: try MasterKey.load(directory: store.directory, environment: [:]))
    let app = buildApplication(
        store: store,
        metrics: metrics,
        tokens: tokens,
        vault: SecretVault(masterKey: try MasterKey.load(directory: store.directory, environment: [:])),
        host: "127.0.0.1",
        port: 0,
        logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    )
    do {
        let result = try await store.withWriter { store in try await body(store, tokens, app) }
        await store.close()
        return result
    } catch {
        await store.close()
        throw error
    }
}
