import Foundation
import HubSQLite
import Logging
import Metrics
public import ServiceLifecycle
import Synchronization

/// The single writer, with group commit (DESIGN.md §1).
///
/// Callers hand it commands; its `run()` loop drains up to ``EventStoreConfiguration/maxBatchSize``
/// of them, runs them inside one `BEGIN IMMEDIATE` transaction, commits once (one fsync for the
/// whole batch), and only then answers every caller. A command that throws fails alone: when it
/// had written, the batch runs again with a SAVEPOINT per command (see ``LogTransaction``). Run it
/// as a `Service`: on graceful shutdown it refuses new commands, drains the queue, and returns.
public final class LogWriter: Service, Sendable {
    private let pool: DatabasePool
    private let queue: WriteQueue
    private let notifier: CommitNotifier
    let configuration: EventStoreConfiguration
    private let projections: ProjectionRegistry
    private let metrics: StoreMetrics
    let logger: Logger
    private let running = Atomic<Bool>(false)
    private let statistics = Mutex(WriterStatistics())
    let health = Mutex(WriterHealth())
    /// An erasure committed whose WAL truncation has not completed yet.
    private let erasurePending = Atomic<Bool>(false)
    let throttle = LogThrottle()
    /// Syncs committed batches off the writer's thread (``EventStoreConfiguration/syncsOffWriterThread``).
    private let syncer: WALSyncer
    /// Batches from the start of their transaction until they are durable (or failed).
    private let undurable = Atomic<Int>(0)
    /// Batches still to run isolated from the start (a savepoint per command) since one was run again:
    /// commands that fail after writing, sent over and over, then cost savepoints, not a second run of
    /// every batch.
    private let isolatedBatchesLeft = Atomic<Int>(0)
    /// How many batches run isolated from the start after one was run again.
    static let isolatedBatchesAfterRerun = 64
    /// Stream versions and name ids as of the last commit, carried from batch to batch.
    private let memory = LogMemory()

    init(
        pool: DatabasePool,
        notifier: CommitNotifier,
        configuration: EventStoreConfiguration,
        projections: ProjectionRegistry,
        metrics: StoreMetrics,
        logger: Logger
    ) {
        self.projections = projections
        self.pool = pool
        self.queue = WriteQueue(capacity: configuration.queueCapacity)
        self.notifier = notifier
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        self.syncer = WALSyncer(beforeSync: configuration.beforeWALSync)
    }

    /// Whether batches leave their fsync to ``syncer``.
    private var syncsOffThread: Bool { configuration.synchronous == .full && configuration.syncsOffWriterThread }

    /// Whether `run()` is taking commands.
    public var isRunning: Bool { running.load(ordering: .relaxed) }

    /// Whether a batch of this writer may be committed but not yet synced: its events may be in the
    /// database already, and must not be published before the writer publishes them.
    public var hasUndurableBatches: Bool { undurable.load(ordering: .acquiring) > 0 }

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
        if syncsOffThread { syncer.start() }
        // Graceful shutdown and cancellation both close the queue: what is queued still commits,
        // new commands are refused, and the loop ends once the queue is drained.
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await withDiscardingTaskGroup { group in
                    group.addTask { await self.finishErasuresWhileIdle() }
                    await loop(on: pool.writer)
                    group.cancelAll()
                }
            } onGracefulShutdown: {
                self.queue.close()
            }
        } onCancel: {
            self.queue.close()
        }
        // The last batches' callers are answered once their syncs are done.
        await syncer.finish()
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

    /// Runs the batch's commands and the batch's end in the open transaction; returns the tip and the
    /// events appended. Throws ``IsolationNeeded`` when, not `isolating`, a command failed after it wrote.
    private func runBatch(
        _ batch: [any PendingCommand],
        isolating: Bool,
        recordedAt: Int64,
        _ connection: Connection,
        _ stages: inout BatchStages,
        erasesSecurely: inout Bool
    ) throws -> BatchOutcome {
        // The tip is read inside the write lock, so a short-lived writer of another process
        // (`hubstore clients create` beside a server) chains correctly too; it also tells whether the
        // writer's memory of the log is still the log's.
        let tip = try EventLog.tip(connection)
        let dataVersion = try connection.singleInt64(sql: "PRAGMA data_version") ?? 0
        memory.begin(
            .init(position: tip.position, hash: tip.hash, changes: connection.totalChanges, dataVersion: dataVersion)
        )
        let transaction = LogTransaction(
            connection: connection,
            recordedAt: recordedAt,
            tip: tip,
            limits: configuration.limits,
            projections: projections,
            isolatesCommands: isolating,
            memory: memory
        )
        // Set by either run: the setting made for it is undone once the batch is over.
        defer { erasesSecurely = erasesSecurely || transaction.erasesSecurely }
        for command in batch {
            let commandStarted = ContinuousClock.now
            let failure = command.execute(in: transaction)
            stages.commands.append(commandStarted.duration(to: .now))
            // SQLite ends the whole transaction itself on some errors (disk full, I/O error, ...): then
            // the batch is over, and nothing of it may be kept or acknowledged. Whatever ran next would
            // commit on its own.
            guard connection.isInTransaction else {
                throw BatchAborted(cause: (failure as? IsolationNeeded)?.cause ?? failure)
            }
            if let failure = failure as? IsolationNeeded { throw failure }
        }
        let finishing = ContinuousClock.now
        try transaction.finish()
        stages.finished = .now
        stages.batchEnd = finishing.duration(to: stages.finished)
        return BatchOutcome(
            position: transaction.tipPosition,
            hash: transaction.tipHash,
            appended: transaction.appendedCount,
            dataVersion: dataVersion,
            learnt: transaction.learnt
        )
    }

    private func commit(_ batch: [any PendingCommand], on writer: isolated SerializedConnection) {
        let started = ContinuousClock.now
        let outcome: Result<(position: Int64, appended: Int), any Error>
        var erasesSecurely = false
        var stages = BatchStages()
        for command in batch { metrics.queueWait.record(duration: command.enqueued.duration(to: started)) }
        // Counted before the transaction can commit: whoever reads the head afterwards and then finds
        // no batch undurable knows the head it read is on disk.
        undurable.add(1, ordering: .sequentiallyConsistent)
        let offThread = syncsOffThread
        var durability: DeferredWALSync?
        do {
            let recordedAt = configuration.clock()
            outcome = .success(
                try writer.perform { connection in
                    // Only this transaction's commit defers its sync: whatever else commits on the
                    // connection (a rebuild's swap, a probe) syncs as configured.
                    let deferring = offThread && connection.deferWALSyncs(true)
                    defer { if deferring { _ = connection.deferWALSyncs(false) } }
                    // First without savepoints; when a command fails after it wrote, the whole batch
                    // runs again with each command under its own (see ``LogTransaction``), and so do
                    // the next batches from the start.
                    var isolating = isolatedBatchesLeft.load(ordering: .relaxed) > 0
                    if isolating { isolatedBatchesLeft.subtract(1, ordering: .relaxed) }
                    while true {
                        do {
                            let committed = try connection.transaction(.immediate) {
                                try runBatch(
                                    batch,
                                    isolating: isolating,
                                    recordedAt: recordedAt,
                                    connection,
                                    &stages,
                                    erasesSecurely: &erasesSecurely
                                )
                            }
                            if deferring { durability = connection.takeDeferredWALSync() }
                            memory.absorb(
                                versions: committed.learnt.versions,
                                names: committed.learnt.names,
                                // Its own commit does not move the connection's data_version.
                                mark: .init(
                                    position: committed.position,
                                    hash: committed.hash,
                                    changes: connection.totalChanges,
                                    dataVersion: committed.dataVersion
                                )
                            )
                            return (committed.position, committed.appended)
                        } catch is IsolationNeeded where !isolating {
                            // The first run was rolled back: what it carried goes with it.
                            memory.forget()
                            metrics.isolatedReruns.increment()
                            statistics.withLock { $0.recordIsolatedRerun() }
                            stages = BatchStages()
                            isolating = true
                            isolatedBatchesLeft.store(Self.isolatedBatchesAfterRerun, ordering: .relaxed)
                        }
                    }
                }
            )
            stages.sync = stages.finished.duration(to: .now)
        } catch {
            outcome = .failure(error)
        }
        switch outcome {
        case .success(let committed):
            metrics.appendedEvents.increment(by: committed.appended)
            metrics.batchSize.record(batch.count)
            statistics.withLock { $0.record(batchSize: batch.count, events: committed.appended) }
            metrics.commitDuration.record(duration: started.duration(to: .now))
            for duration in stages.commands { metrics.commandDuration.record(duration: duration) }
            metrics.batchEndDuration.record(duration: stages.batchEnd)
            metrics.syncDuration.record(duration: stages.sync)
            if erasesSecurely { erasurePending.store(true, ordering: .relaxed) }
            if erasurePending.load(ordering: .relaxed) {
                // Before the callers are answered: an erasure is done when its answer arrives.
                do {
                    try writer.perform { truncateWALAfterErasure($0) }
                } catch {
                    logger.warning("WAL truncation after an erasure failed", metadata: ["error": "\(error)"])
                }
            }
            reportIfSlow(stages, took: started.duration(to: .now), commands: batch.count, events: committed.appended)
            guard offThread else {
                durable(batch, committed, fsync: nil)
                return
            }
            syncer.submit(durability) { [self] outcome in
                switch outcome {
                case .success(let fsync): durable(batch, committed, fsync: fsync)
                case .failure(let failure):
                    // Committed, but not known to be on disk: its callers are not told it was accepted.
                    undurable.subtract(1, ordering: .sequentiallyConsistent)
                    self.failed(failure, batchSize: batch.count)
                    metrics.failedCommits.increment()
                    for command in batch { command.complete(overridingWith: EventStoreError.storage(failure)) }
                }
            }
        case .failure(let error):
            // Nothing of the batch was kept; the memory starts over, to be safe whatever failed.
            memory.forget()
            undurable.subtract(1, ordering: .sequentiallyConsistent)
            // The transaction was rolled back: nothing of the batch is in the log, and the next batch
            // reads the tip afresh.
            let failure = Self.storageError(error)
            failed(failure, batchSize: batch.count)
            metrics.failedCommits.increment()
            for command in batch { command.complete(overridingWith: EventStoreError.storage(failure)) }
        }
    }

    /// A committed batch is on disk: the log's new head is published and its callers are answered.
    private func durable(
        _ batch: [any PendingCommand],
        _ committed: (position: Int64, appended: Int),
        fsync: Duration?
    ) {
        if let fsync {
            metrics.fsyncDuration.record(duration: fsync)
            reportIfSlow(fsync: fsync, commands: batch.count)
        }
        if committed.appended > 0 { notifier.publish(committed.position) }
        undurable.subtract(1, ordering: .sequentiallyConsistent)
        recovered()
        for command in batch { command.complete(overridingWith: nil) }
    }

    /// While a truncation after an erasure is pending (a reader held it off) and no command is queued to
    /// try it again after its batch, queues an empty one every 100 ms: an idle hub would otherwise keep
    /// the erased pages in the WAL until its next write.
    private func finishErasuresWhileIdle() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: .milliseconds(100))
            } catch {
                return
            }
            guard erasurePending.load(ordering: .relaxed), queue.depth == 0 else { continue }
            // Its outcome needs no answer here: a batch that fails is logged and counted by the writer
            // (``failed(_:batchSize:)``), and a closed queue ends the loop with the task group.
            _ = try? await perform { _ in }
        }
    }

    /// After an erasure committed, copies the WAL (which still holds the pages as they were before
    /// it) into `hub.sqlite` and truncates it. A reader holding an older snapshot keeps the truncation
    /// from completing: then it is tried again after the next batches (``finishErasuresWhileIdle()``
    /// makes one when none comes), without waiting for readers (the writer must not stall).
    private func truncateWALAfterErasure(_ connection: Connection) {
        do {
            let done = try connection.withBusyTimeout(.zero) {
                let statement = try connection.prepare(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
                return try statement.step() && statement.int64(at: 0) == 0
            }
            if done { erasurePending.store(false, ordering: .relaxed) }
        } catch {
            logger.warning(
                "WAL truncation after an erasure failed; tried again after the next batch",
                metadata: ["error": "\(error)"]
            )
        }
    }
}
