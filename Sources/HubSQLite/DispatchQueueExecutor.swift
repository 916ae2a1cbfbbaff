import Dispatch

/// A serial executor that runs jobs on its own `DispatchQueue`.
///
/// SQLite calls block (disk I/O, fsync, busy-timeout sleeps). Swift's cooperative pool has one
/// thread per core, so a connection must never run there: each connection's actor uses one of
/// these executors instead, and every call it makes happens on that queue's thread.
final class DispatchQueueExecutor: SerialExecutor {
    private let queue: DispatchQueue

    init(label: String) {
        self.queue = DispatchQueue(label: label, qos: .userInitiated)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedSerialExecutor()
        queue.async {
            job.runSynchronously(on: executor)
        }
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }
}
