import Dispatch
import Foundation
@_spi(Storage) import HubEventLog
import HubSQLite
import HubTestSupport
import Synchronization
import Testing

/// The writer leaves each batch's fsync to a thread of its own and runs the next batch meanwhile;
/// no caller hears "accepted", and no subscriber sees the new head, before its own commit is synced.
@Suite(.timeLimit(.minutes(5)))
struct PipelinedSyncTests {
    /// Stands before each fsync: holds it while closed, fails it while failing.
    final class Gate: Sendable {
        let entered = Atomic<Int>(0)
        let failing = Atomic<Bool>(false)
        private let closed = Mutex(false)
        private let opened = DispatchSemaphore(value: 0)

        func pass() throws(SQLiteError) {
            entered.add(1, ordering: .relaxed)
            while closed.withLock({ $0 }) { _ = opened.wait(timeout: .now() + .milliseconds(5)) }
            if failing.load(ordering: .relaxed) {
                // SQLITE_IOERR_FSYNC
                throw SQLiteError(code: ResultCode(rawValue: 10 | (4 << 8)), message: "injected fsync failure")
            }
        }

        func close() { closed.withLock { $0 = true } }

        func open() {
            closed.withLock { $0 = false }
            opened.signal()
        }
    }

    final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    /// A store whose syncs pass `gate`, after a first append (the store's first commits may sync
    /// through SQLite itself).
    static func withGatedStore(_ body: @escaping @Sendable (EventStore, Gate) async throws -> Void) async throws {
        try await withTemporaryDirectory { directory in
            let gate = Gate()
            try await withStore(
                directory,
                configure: { $0.beforeWALSync = { () throws(SQLiteError) in try gate.pass() } }
            ) { store in
                _ = try await store.append([draft()], to: "warm/1")
                // A test that ends (or fails) with the gate closed would hold the syncer, and the
                // store's shutdown with it, for ever: let it go.
                defer {
                    gate.failing.store(false, ordering: .relaxed)
                    gate.open()
                }
                try await body(store, gate)
            }
        }
    }

    static func waitUntil(_ what: String, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out waiting for \(what)")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Appends one event in its own batch, counting when its command ran.
    static func append(_ store: EventStore, _ stream: String, _ ran: Counter) -> Task<AppendResult, any Error> {
        Task {
            try await store.writer.perform { transaction in
                ran.value.add(1, ordering: .relaxed)
                return try transaction.append([draft()], to: stream)
            }
        }
    }

    @Test func theNextBatchRunsWhileTheLastOneSyncsAndCallersWaitForTheirSync() async throws {
        try await Self.withGatedStore { store, gate in
            let head = store.headPosition
            let ran = Counter()
            gate.close()
            let syncsBefore = gate.entered.load(ordering: .relaxed)
            let first = Self.append(store, "p/1", ran)
            try await Self.waitUntil("the first batch's sync") {
                gate.entered.load(ordering: .relaxed) > syncsBefore
            }
            // Committed, not yet synced: its caller waits, and the head is not published.
            let second = Self.append(store, "p/2", ran)
            try await Self.waitUntil("the second batch's command") { ran.value.load(ordering: .relaxed) == 2 }
            // Not even the watcher for other processes' commits, which finds the batches in the
            // database, publishes them before their sync.
            let watcher = Task { try await ExternalCommitWatcher(store: store, interval: .milliseconds(5)).run() }
            try await Task.sleep(for: .milliseconds(100))
            watcher.cancel()
            #expect(store.headPosition == head)
            #expect(store.writer.hasUndurableBatches)
            gate.open()
            #expect(try await first.value.positions == [head + 1])
            #expect(try await second.value.positions == [head + 2])
            #expect(store.headPosition == head + 2)
        }
    }

    /// A failed fsync: the batch is in the file but not known to be on disk, so its callers get the
    /// storage error (a retry with the same idempotency key finds it), and the writer says writes are
    /// failing until a batch syncs again.
    @Test func aFailedSyncIsAStorageErrorForItsCallers() async throws {
        try await Self.withGatedStore { store, gate in
            gate.failing.store(true, ordering: .relaxed)
            await #expect {
                try await store.append([draft()], to: "f/1", idempotencyKey: "k-1")
            } throws: { error in
                guard case EventStoreError.storage(let failure) = error else { return false }
                return failure.description.contains("injected fsync failure")
            }
            #expect(store.writer.storageFailure != nil)
            gate.failing.store(false, ordering: .relaxed)
            let retried = try await store.append([draft()], to: "f/1", idempotencyKey: "k-1")
            #expect(retried.isReplay)
            #expect(store.writer.storageFailure == nil)
        }
    }
}
