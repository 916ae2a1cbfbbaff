import Foundation
import HubDelivery
@_spi(Storage) import HubEventLog
import HubHTTP
import HubSQLite
import Logging
import NIOCore
import Synchronization

extension IngestBenchmark {
    /// The benchmark's data directory: `given`, or a new temporary one (`temporary`) named after `name`.
    static func workDirectory(_ given: String?, name: String) -> (path: String, temporary: Bool) {
        guard let given else {
            let path = FileManager.default.temporaryDirectory
                .appendingPathComponent("hubstore-bench-\(name)-\(UUID().uuidString)").path
            return (path, true)
        }
        return (given, false)
    }

    /// Runs `body` with a hub in this process on `directory` (no logs) and a callback receiver that
    /// answers 200 and counts the messages delivered to it.
    ///
    /// A callback body carries one or more messages (spec §5.3): the receiver counts messages by their
    /// `"recipients":` keys (one per message item) rather than parsing every body, which would make the
    /// load generator's share of the two cores larger than a real receiver's.
    static func withHub<T: Sendable>(
        directory: String,
        synchronous: ConnectionConfiguration.Synchronous,
        syncsOnWriterThread: Bool = false,
        statementProfile: StatementProfile? = nil,
        _ body: @escaping @Sendable (InProcessHub, CallbackReceiver, Counter) async throws -> T
    ) async throws -> T {
        var configuration = ServerConfiguration(
            port: 0,
            store: EventStoreConfiguration(dataDirectory: directory, synchronous: synchronous)
        )
        configuration.delivery.maxConcurrentPerEndpoint = 64
        configuration.store.syncsOffWriterThread = !syncsOnWriterThread
        configuration.store.writerStatementProfile = statementProfile
        let server = configuration
        let logger = Logger(label: "hubstore", factory: { _ in SwiftLogNoOpLogHandler() })
        let delivered = Counter(0)
        return try await CallbackReceiver.run(counting(into: delivered)) { receiver in
            try await InProcessHub.run(server, logger: logger) { hub in try await body(hub, receiver, delivered) }
        }
    }

    /// A receiver's handler that answers 200 and counts the messages delivered into `delivered`.
    static func counting(into delivered: Counter) -> CallbackReceiver.Handler {
        { _, _, _, body in
            delivered.value.add(Self.occurrences(of: #""recipients":"#, in: body), ordering: .relaxed)
            return (200, "{}")
        }
    }
}
