@_spi(Storage) public import HubEventLog
import HubReadModels
import HubSQLite
public import Logging
public import ServiceLifecycle

/// Merges the search index when a `delete.permanent` asked for it: FTS5 (before SQLite 3.42's
/// secure-delete) only marks a text it takes out, and its words stay in the index's segments until
/// those are merged (DESIGN.md §6: the plaintext is gone from every file). A merge rewrites the whole
/// index, seconds of the writer's time at a million messages: the deletion only asks for one (a row of
/// `maintenance_requests`, in its own transaction), and this service does it every `interval`, once
/// for every request made since. It looks once at start too: a request a stopped process left is
/// done then. Runs as a `Service`.
public struct SearchIndexMerge: Service {
    package static let task = "search.merge"

    package let store: EventStore
    package let interval: Duration
    package let logger: Logger

    public init(store: EventStore, interval: Duration = .seconds(10), logger: Logger) {
        self.store = store
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                _ = try await mergeIfRequested()
            } catch EventStoreError.shuttingDown {
                return
            } catch {
                // Tried again at the next tick: the request stays until a merge commits.
                logger.warning("search index merge failed", metadata: ["error": "\(error)"])
            }
            do {
                // Graceful shutdown ends the wait rather than the server waiting for it.
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
        }
    }

    /// Merges the index if a merge was asked for; whether it did. The request is dropped in the merge's
    /// transaction, which erases securely (the old segments' pages are zeroed and leave the WAL).
    package func mergeIfRequested() async throws -> Bool {
        guard try await store.pool.read({ try Self.requestedAt($0) }) != nil else { return false }
        let started = ContinuousClock.now
        let requestedAt = try await store.writer.perform { transaction -> Int64? in
            guard let requestedAt = try Self.requestedAt(transaction.connection) else { return nil }
            try transaction.connection.run(sql: "DELETE FROM maintenance_requests WHERE task = ?", [Self.task])
            transaction.eraseSecurely()
            // After the batch's own held-back deletions from the index: a request made in this batch
            // before this command is served by this merge; one made after it stays for the next.
            SearchProjection.mergeAtBatchEnd(transaction.projectionContext)
            return requestedAt
        }
        guard let requestedAt else { return false }
        logger.info(
            "merged the search index",
            metadata: [
                "duration": "\(started.duration(to: .now))",
                // Since the first deletion the merge served (0: migration 0016's).
                "requested_at": "\(requestedAt == 0 ? "migration" : Timestamp.format(requestedAt))",
            ]
        )
        return true
    }

    /// Asks for a merge, in the transaction of the deletion that needs it.
    package static func request(in transaction: LogTransaction, at time: Int64) throws {
        try transaction.connection.run(
            sql: """
                INSERT INTO maintenance_requests (task, requested_at) VALUES (?, ?)
                ON CONFLICT (task) DO NOTHING
                """,
            [task, time]
        )
    }

    /// When the pending request was made (milliseconds since 1970), if there is one.
    private static func requestedAt(_ connection: Connection) throws -> Int64? {
        try connection.singleInt64(sql: "SELECT requested_at FROM maintenance_requests WHERE task = ?", [task])
    }
}
