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
    private let running = Atomic<Bool>(false)
    private let statistics = Mutex(WriterStatistics())

    init(
        pool: DatabasePool,
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
    }

    /// Whether `run()` is taking commands.
    public var isRunning: Bool { running.load(ordering: .relaxed) }

    /// Commands waiting for the writer.
    public var queueDepth: Int { queue.depth }

    /// Batches and commands committed since the writer was created.
    public var committedStatistics: WriterStatistics { statistics.withLock { $0 } }

    /// Runs a command in the next batch and returns its result once the batch has committed.
    ///
    /// - Throws: what the command throws, ``EventStoreError/overloaded(queueCapacity:)`` at once when the
    ///   queue is full, ``EventStoreError/shuttingDown``, or ``EventStoreError/storage(_:)`` when the
    ///   batch's commit failed (then nothing of the command was kept).
    public func perform<Output: Sendable>(
        _ command: @escaping @Sendable (LogTransaction) throws -> Output
    ) async throws -> Output {
        try await withUnsafeThrowingContinuation { continuation in
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
        logger.debug("writer started", metadata: ["db.position": "\(notifier.committed)"])
        // Graceful shutdown and cancellation both close the queue: what is queued still commits,
        // new commands are refused, and the loop ends once the queue is drained.
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await loop(on: pool.writer)
            } onGracefulShutdown: {
                self.queue.close()
            }
        } onCancel: {
            self.queue.close()
        }
        logger.debug("writer stopped", metadata: ["db.position": "\(notifier.committed)"])
    }

    /// The batch loop, isolated to the writer's connection: waiting for commands, gathering,
    /// executing and committing all happen on the writer's own thread, so the serial section never
    /// queues for the cooperative pool behind request handlers between two batches.
    private func loop(on writer: isolated SerializedConnection) async {
        while let next = await queue.nextBatch(maximum: configuration.maxBatchSize) {
            // Commands that queued while the last batch committed form the next batch as they are: the
            // writer is the bottleneck then, and waiting for more would only lengthen every cycle.
            commit(next.waited ? gatherMore(next.commands) : next.commands, on: writer)
        }
    }

    /// After an idle writer got its first command, lets the batch grow while commands keep arriving:
    /// callers answered by the last commit are re-submitting right now, and one more fsync for a
    /// handful of them would halve throughput. Waits for each next command at most a slice (50 µs),
    /// and stops at the first slice that brings nothing (so a lone caller waits one slice), when the
    /// batch is full, or after ``EventStoreConfiguration/batchWait`` in all.
    ///
    /// The waits block the writer's own thread: they are far shorter than a timer's hop through the
    /// cooperative pool would be.
    private func gatherMore(_ first: [any PendingCommand]) -> [any PendingCommand] {
        var batch = first
        let maximum = configuration.maxBatchSize
        guard configuration.batchWait > .zero, batch.count < maximum else { return batch }
        let clock = ContinuousClock()
        let deadline = clock.now + configuration.batchWait
        let slice = min(configuration.batchWait, .microseconds(50))
        while batch.count < maximum {
            let remaining = clock.now.duration(to: deadline)
            guard remaining > .zero, queue.waitForArrival(timeout: min(slice, remaining)) else { break }
            let more = queue.takeMore(maximum: maximum - batch.count)
            if more.isEmpty { break }
            batch += more
        }
        return batch
    }

    /// Stops taking commands; `run()` returns once the queue is drained. For use outside a service group.
    public func shutDown() {
        queue.close()
    }

    private func commit(_ batch: [any PendingCommand], on writer: isolated SerializedConnection) {
        let started = ContinuousClock.now
        let limits = configuration.limits
        let outcome: Result<(position: Int64, appended: Int), any Error>
        do {
            let recordedAt = Int64(Date().timeIntervalSince1970 * 1000)
            outcome = .success(
                try writer.perform { connection in
                    try connection.transaction(.immediate) {
                        // The tip is read inside the write lock, so a short-lived writer of another
                        // process (`hubstore clients create` beside a server) chains correctly too.
                        let transaction = LogTransaction(
                            connection: connection,
                            recordedAt: recordedAt,
                            tip: try EventLog.tip(connection),
                            limits: limits
                        )
                        for command in batch { command.execute(in: transaction) }
                        return (transaction.tipPosition, transaction.appendedCount)
                    }
                }
            )
        } catch {
            outcome = .failure(error)
        }
        switch outcome {
        case .success(let committed):
            metrics.appendedEvents.increment(by: committed.appended)
            metrics.batchSize.record(batch.count)
            statistics.withLock { $0.record(batchSize: batch.count, events: committed.appended) }
            metrics.commitDuration.record(duration: started.duration(to: .now))
            if committed.appended > 0 { notifier.publish(committed.position) }
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
/// The continuation is resumed exactly once: by `perform` when enqueueing fails, otherwise by
/// `complete`, which the writer calls once per command of a batch (an unsafe continuation saves
/// the checked one's allocation on the hot path).
///
/// `@unchecked Sendable`: `outcome` is written only on the writer's executor while the batch runs,
/// and read by `complete` after the writer's `perform` returned, which orders the two accesses; no
/// other code touches it.
private final class Command<Output: Sendable>: PendingCommand, @unchecked Sendable {
    let body: @Sendable (LogTransaction) throws -> Output
    let continuation: UnsafeContinuation<Output, any Error>
    var outcome: Result<Output, any Error>?

    init(
        body: @escaping @Sendable (LogTransaction) throws -> Output,
        continuation: UnsafeContinuation<Output, any Error>
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

/// Counts of what the writer committed, for benchmarks and diagnostics.
public struct WriterStatistics: Sendable, Equatable {
    public private(set) var batches = 0
    public private(set) var commands = 0
    public private(set) var events = 0
    public private(set) var largestBatch = 0
    public private(set) var smallestBatch = 0

    /// Commands per committed batch.
    public var averageBatchSize: Double { batches == 0 ? 0 : Double(commands) / Double(batches) }

    mutating func record(batchSize: Int, events appended: Int) {
        smallestBatch = batches == 0 ? batchSize : min(smallestBatch, batchSize)
        batches += 1
        commands += batchSize
        events += appended
        largestBatch = max(largestBatch, batchSize)
    }
}
