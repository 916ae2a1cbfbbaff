import Dispatch
import Foundation
import HubSQLite
import Synchronization

/// Makes the writer's batches durable off the writer's thread (DESIGN.md §1, pipelining): the writer
/// commits a batch with its WAL fsync deferred, hands it here, and starts the next batch while this
/// thread syncs. Batches are finished in commit order, each only after a sync that covers it: no
/// caller hears "accepted" before its own commit is on disk.
///
/// Syncs are grouped: one fsync covers every batch committed before it, so batches that queued while
/// the last sync ran share the next one.
final class WALSyncer: Sendable {
    /// What a batch's callers are answered with: the fsync's duration (zero when another sync
    /// covered it), or its failure.
    typealias Completion = @Sendable (Result<Duration, SQLiteError>) -> Void

    private struct Pending {
        /// `nil` when the batch was durable at commit already (a checkpoint synced the WAL).
        var sync: DeferredWALSync?
        var completion: Completion
    }

    private struct State {
        var pending: [Pending] = []
        var isClosed = false
        var isRunning = false
        var finished: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())
    private let arrival = DispatchSemaphore(value: 0)
    private let beforeSync: (@Sendable () throws(SQLiteError) -> Void)?

    init(beforeSync: (@Sendable () throws(SQLiteError) -> Void)? = nil) {
        self.beforeSync = beforeSync
    }

    /// Starts the thread (once).
    func start() {
        let start = state.withLock { state -> Bool in
            guard !state.isRunning, !state.isClosed else { return false }
            state.isRunning = true
            return true
        }
        guard start else { return }
        Thread { [self] in
            nameCurrentThread("hubstore-wal-sync")
            run()
        }.start()
    }

    /// Queues a committed batch; `completion` runs on the sync thread once it is durable.
    func submit(_ sync: DeferredWALSync?, _ completion: @escaping Completion) {
        state.withLock { $0.pending.append(Pending(sync: sync, completion: completion)) }
        arrival.signal()
    }

    /// Finishes what was submitted, then stops the thread; returns once it has.
    func finish() async {
        await withCheckedContinuation { continuation in
            let running = state.withLock { state -> Bool in
                state.isClosed = true
                if state.isRunning { state.finished.append(continuation) }
                return state.isRunning
            }
            if running { arrival.signal() } else { continuation.resume() }
        }
    }

    private func run() {
        while true {
            arrival.wait()
            let (batches, closing) = state.withLock { state in
                defer { state.pending.removeAll(keepingCapacity: true) }
                return (state.pending, state.isClosed)
            }
            if !batches.isEmpty { finish(batches) }
            if closing {
                let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>]? in
                    // Submitted while the last ones synced: another round.
                    guard state.pending.isEmpty else { return nil }
                    state.isRunning = false
                    defer { state.finished.removeAll() }
                    return state.finished
                }
                guard let waiters else {
                    arrival.signal()
                    continue
                }
                for waiter in waiters { waiter.resume() }
                return
            }
        }
    }

    /// Syncs the latest of `batches` (which covers the earlier ones of the same WAL file), any not
    /// covered by it, then answers them in order.
    private func finish(_ batches: [Pending]) {
        var synced: [DeferredWALSync] = []
        var outcomes: [Result<Duration, SQLiteError>] = []
        for batch in batches.reversed() {
            guard let sync = batch.sync else {
                outcomes.append(.success(.zero))
                continue
            }
            if synced.contains(where: { sync.isCovered(by: $0) }) {
                outcomes.append(.success(.zero))
                continue
            }
            let started = ContinuousClock.now
            do throws(SQLiteError) {
                try beforeSync?()
                try sync.sync()
                synced.append(sync)
                outcomes.append(.success(started.duration(to: .now)))
            } catch {
                outcomes.append(.failure(error))
            }
        }
        for (batch, outcome) in zip(batches, outcomes.reversed()) { batch.completion(outcome) }
    }
}
