import Foundation
import HubSQLite
import Logging
import Metrics
public import ServiceLifecycle
import Synchronization

/// The single writer, with group commit (DESIGN.md §1).
///
/// Callers hand it commands; its `run()` loop drains up to ``EventStoreConfiguration/maxBatchSize``
/// of them, runs each under its own SAVEPOINT inside one `BEGIN IMMEDIATE` transaction, commits
/// once (one fsync for the whole batch), and only then answers every caller. A command that throws
/// fails alone. Run it as a `Service`: on graceful shutdown it refuses new commands, drains the
/// queue, and returns.
public final class LogWriter: Service, Sendable {
    private let pool: DatabasePool
    private let queue: WriteQueue
    private let notifier: CommitNotifier
    private let configuration: EventStoreConfiguration
    private let metrics: StoreMetrics
    private let logger: Logger
    private let tip: Mutex<(position: Int64, hash: [UInt8])>
    private let running = Atomic<Bool>(false)

    init(
        pool: DatabasePool,
        tip: (position: Int64, hash: [UInt8]),
        notifier: CommitNotifier,
        configuration: EventStoreConfiguration,
        metrics: StoreMetrics,
        logger: Logger
    ) {
        self.pool = pool
        self.queue = WriteQueue(capacity: configuration.queueCapacity)
        self.notifier = notifier
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        self.tip = Mutex(tip)
    }

    /// Whether `run()` is taking commands.
    public var isRunning: Bool { running.load(ordering: .relaxed) }

    /// Commands waiting for the writer.
    public var queueDepth: Int { queue.depth }

    /// Runs a command in the next batch and returns its result once the batch has committed.
    ///
    /// - Throws: what the command throws, ``EventStoreError/overloaded(queueCapacity:)`` at once when the
    ///   queue is full, ``EventStoreError/shuttingDown``, or ``EventStoreError/storage(_:)`` when the
    ///   batch's commit failed (then nothing of the command was kept).
    public func perform<Output: Sendable>(
        _ command: @escaping @Sendable (LogTransaction) throws -> Output
    ) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            do {
                try queue.enqueue(Command(body: command, continuation: continuation))
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }

    public func run() async throws {
        running.store(true, ordering: .relaxed)
        defer { running.store(false, ordering: .relaxed) }
        logger.debug("writer started", metadata: ["db.position": "\(tip.withLock { $0.position })"])
        await withGracefulShutdownHandler {
            while let first = await queue.nextBatch(maximum: configuration.maxBatchSize) {
                var batch = first
                if configuration.batchWait > .zero, batch.count < configuration.maxBatchSize {
                    try? await Task.sleep(for: configuration.batchWait)
                    batch += queue.takeMore(maximum: configuration.maxBatchSize - batch.count)
                }
                await commit(batch)
                metrics.queueDepth.record(queue.depth)
            }
        } onGracefulShutdown: {
            self.queue.close()
        }
        logger.debug("writer stopped", metadata: ["db.position": "\(tip.withLock { $0.position })"])
    }

    /// Stops taking commands; `run()` returns once the queue is drained. For use outside a service group.
    public func shutDown() {
        queue.close()
    }

    private func commit(_ batch: [any PendingCommand]) async {
        let started = ContinuousClock.now
        let startTip = tip.withLock { $0 }
        let limits = configuration.limits
        let outcome: Result<(position: Int64, hash: [UInt8], appended: Int), any Error>
        do {
            let recordedAt = Int64(Date().timeIntervalSince1970 * 1000)
            outcome = .success(
                try await pool.writer.perform { connection in
                    let transaction = LogTransaction(
                        connection: connection,
                        recordedAt: recordedAt,
                        tip: startTip,
                        limits: limits
                    )
                    try connection.transaction(.immediate) {
                        for command in batch { command.execute(in: transaction) }
                    }
                    return (transaction.tipPosition, transaction.tipHash, transaction.appendedCount)
                }
            )
        } catch {
            outcome = .failure(error)
        }
        switch outcome {
        case .success(let committed):
            tip.withLock { $0 = (committed.position, committed.hash) }
            metrics.appendedEvents.increment(by: committed.appended)
            metrics.batchSize.record(batch.count)
            metrics.commitDuration.record(duration: started.duration(to: .now))
            if committed.position > startTip.position { notifier.publish(committed.position) }
            for command in batch { command.complete(overridingWith: nil) }
        case .failure(let error):
            // The transaction was rolled back: nothing of the batch is in the log.
            logger.error("batch commit failed", metadata: ["error": "\(error)", "batch.size": "\(batch.count)"])
            metrics.failedCommits.increment()
            let failure = (error as? SQLiteError).map(EventStoreError.storage) ?? error
            for command in batch { command.complete(overridingWith: failure) }
        }
    }
}

/// One queued command and the caller waiting for it.
///
/// `@unchecked Sendable`: `outcome` is written only on the writer's executor while the batch runs,
/// and read by `complete` after the writer's `perform` returned, which orders the two accesses; no
/// other code touches it.
private final class Command<Output: Sendable>: PendingCommand, @unchecked Sendable {
    let body: @Sendable (LogTransaction) throws -> Output
    let continuation: CheckedContinuation<Output, any Error>
    var outcome: Result<Output, any Error>?

    init(
        body: @escaping @Sendable (LogTransaction) throws -> Output,
        continuation: CheckedContinuation<Output, any Error>
    ) {
        self.body = body
        self.continuation = continuation
    }

    func execute(in transaction: LogTransaction) {
        outcome = Result { try transaction.runCommand(body) }
    }

    func complete(overridingWith failure: (any Error)?) {
        if let failure {
            continuation.resume(throwing: failure)
        } else {
            continuation.resume(with: outcome ?? .failure(EventStoreError.shuttingDown))
        }
    }
}
