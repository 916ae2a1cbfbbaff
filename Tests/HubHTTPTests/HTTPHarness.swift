import HubCommands
@_spi(Storage) import HubEventLog
import HubHTTP
import HubReadModels
import HubTestSupport
import HubVault
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

/// A store (writer not running) and the application over it, as `hubstore serve` builds them.
func makeHub(
    _ directory: String,
    queueCapacity: Int = 16_384,
    vfs: String? = nil,
    options: APIOptions = .init(),
    logger: Logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
    maxUploadBytes: Int64 = 25 << 20,
    clock: @escaping @Sendable () -> Int64 = EventStoreConfiguration.systemClock
) async throws -> (EventStore, TokenService, some ApplicationProtocol) {
    let metrics = HubMetrics()
    let store = try await EventStore.open(
        .init(dataDirectory: directory, queueCapacity: queueCapacity, vfs: vfs, clock: clock),
        metricsFactory: metrics.factory,
        readModels: .hub
    )
    let masterKey = try MasterKey.load(directory: store.directory, environment: [:])
    let tokens = TokenService(masterKey: masterKey)
    let app = buildApplication(
        store: store,
        metrics: metrics,
        tokens: tokens,
        masterKey: masterKey,
        host: "127.0.0.1",
        port: 0,
        logger: logger,
        options: options,
        maxUploadBytes: maxUploadBytes
    )
    return (store, tokens, app)
}

/// A store with its writer running and the application over it, for `app.test(...)`.
func withHub<T: Sendable>(
    _ directory: String,
    vfs: String? = nil,
    _ body: @Sendable (EventStore, TokenService, any ApplicationProtocol) async throws -> T
) async throws -> T {
    let (store, tokens, app) = try await makeHub(directory, vfs: vfs)
    do {
        let result = try await store.withWriter { store in try await body(store, tokens, app) }
        // Whatever the test did, the read models are what a rebuild of its log gives.
        #expect(try await projectionMismatches(store) == [])
        await store.close()
        return result
    } catch {
        await store.close()
        throw error
    }
}
