import HubSQLite
public import ServiceLifecycle

/// Notices events another process appended (a `hubstore clients …` beside the server) and wakes
/// the subscriptions, which otherwise would learn of them only at this process's next commit.
///
/// Reads the log's head every `interval` on a reader connection; one indexed lookup each time.
public struct ExternalCommitWatcher: Service {
    package let store: EventStore
    package let interval: Duration

    public init(store: EventStore, interval: Duration = .milliseconds(250)) {
        self.store = store
        self.interval = interval
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
            // A failed look is retried at the next tick: the watcher must never stop the server.
            guard let head = try? await store.pool.read({ try EventLog.tip($0).position }) else { continue }
            // The head may be this process's own batch, committed but not yet synced: the writer
            // publishes that one once it is on disk (and another process's commit is seen at a later tick).
            guard !store.writer.hasUndurableBatches else { continue }
            if head > store.notifier.committed { store.notifier.publish(head) }
        }
    }
}
