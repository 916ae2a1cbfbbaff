import HubSQLite
public import Logging
public import ServiceLifecycle

/// Records a signed checkpoint of the log's head (``LogCheckpoint``) every `everyEvents` events or
/// `interval`, whichever comes first (only when the log has moved), and once more at graceful shutdown.
///
/// Each checkpoint is a command of the writer: it is signed inside the writer's transaction, at the
/// tip that transaction sees, and commits or rolls back with its batch. A server lists this service
/// right after the writer, so at shutdown it stops after every service that appends and before the
/// writer: the last checkpoint covers every acknowledged event, and the writer commits it before it
/// drains and the store checkpoints the WAL.
public struct LogCheckpointService: Service, CustomStringConvertible {
    package let store: EventStore
    package let signer: LogHeadSigner
    package let everyEvents: Int64
    package let interval: Duration
    package let logger: Logger

    public init(store: EventStore, signer: LogHeadSigner, everyEvents: Int64, interval: Duration, logger: Logger) {
        self.store = store
        self.signer = signer
        self.everyEvents = min(max(1, everyEvents), 1 << 40)
        self.interval = interval
        self.logger = logger
    }

    /// What the service group logs: never the signer's key.
    public var description: String { "LogCheckpointService(everyEvents: \(everyEvents), interval: \(interval))" }

    public func run() async throws {
        var covered = (try? await store.pool.read { try LogCheckpoints.latest($0) })?.position ?? 0
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            // Graceful shutdown ends the wait rather than the server waiting for it.
            let after = covered
            await cancelWhenGracefulShutdown { await waitForWork(after: after) }
            if Task.isCancelled || Task.isShuttingDownGracefully { break }
            if store.headPosition > covered { covered = await record() ?? covered }
        }
        // Cancelled (not a graceful stop): the writer is stopping too; nothing more to sign.
        guard !Task.isCancelled, store.headPosition > covered else { return }
        if let last = await record() {
            logger.info("log head signed at shutdown", metadata: ["log.position": "\(last)"])
        }
    }

    /// Returns once `everyEvents` events committed after `covered`, or `interval` passed.
    private func waitForWork(after covered: Int64) async {
        let store = store
        let interval = interval
        let target = covered + everyEvents - 1
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // Every commit wakes a waiter; wait on until the target is passed (nil: cancelled).
                while let position = await store.waitForCommit(beyond: target), position <= target {}
            }
            group.addTask { try? await Task.sleep(for: interval) }
            await group.next()
            group.cancelAll()
        }
    }

    /// Signs and records the head; returns the position now covered, or `nil` when it failed.
    private func record() async -> Int64? {
        let signer = signer
        do {
            let checkpoint = try await store.writer.perform { try LogCheckpoints.record($0, signer: signer) }
            if let checkpoint {
                logger.debug("log head signed", metadata: ["log.position": "\(checkpoint.position)"])
                return checkpoint.position
            }
            return nil
        } catch {
            // Retried at the next tick: a checkpoint must never stop the server.
            logger.warning("signing the log head failed", metadata: ["error": "\(error)"])
            return nil
        }
    }
}
