import CHubSQLite
import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A serial executor that runs jobs on one thread of its own, for the connection that writes.
///
/// The single writer is the hub's serial section (DESIGN.md §1): while it waits for a core, every
/// caller waits. A `DispatchQueue` runs its jobs on whichever worker thread is free, so nothing
/// about the writer can be set per thread. Here one thread runs every job, and it asks the kernel
/// once for a higher scheduling weight (`niceness`, a negative `nice` value). That needs root,
/// `CAP_SYS_NICE`, or a nice limit that allows it (systemd: `LimitNICE=-10`); without it the thread
/// keeps the default weight and ``priorityRaised`` is false.
///
/// The thread ends when the executor is released.
final class ThreadExecutor: SerialExecutor {
    private let state: State

    /// Jobs waiting for the thread, and whether the executor is gone.
    fileprivate final class State: Sendable {
        let queue = Mutex<(jobs: [UnownedJob], stopped: Bool)>(([], false))
        let wake = DispatchSemaphore(value: 0)
        let priorityRaised = Atomic<Bool>(false)
    }

    /// Whether the thread got the higher scheduling weight it asked for: known once the thread has run
    /// its first job (it asks before running any).
    var priorityRaised: Bool { state.priorityRaised.load(ordering: .relaxed) }

    /// Starts the thread, named `name` (at most 15 bytes are kept: `top -H` and `ps -L` show it);
    /// returns without waiting for it. `nil` when the thread cannot be created.
    init?(name: String, niceness: Int32) {
        let state = State()
        self.state = state
        let unowned = UnownedSerialExecutorBox()
        let context = Unmanaged.passRetained(
            ThreadStart(
                state: state,
                name: String(decoding: name.utf8.prefix(15), as: UTF8.self),
                niceness: niceness,
                executor: unowned
            )
        )
        var thread = pthread_t()
        guard pthread_create(&thread, nil, threadExecutorMain, context.toOpaque()) == 0 else {
            context.release()
            return nil
        }
        pthread_detach(thread)
        unowned.executor = UnownedSerialExecutor(ordinary: self)
        unowned.ready.signal()
    }

    deinit {
        state.queue.withLock { $0.stopped = true }
        state.wake.signal()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        state.queue.withLock { $0.jobs.append(job) }
        state.wake.signal()
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// The thread's loop: raise its weight, then run jobs in order until the executor is released.
    fileprivate static func run(_ start: ThreadStart) {
        let state = start.state
        hub_set_current_thread_name(start.name)
        state.priorityRaised.store(
            setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(hub_current_thread_id()), start.niceness) == 0,
            ordering: .relaxed
        )
        start.executor.ready.wait()
        guard let executor = start.executor.executor else { return }
        var jobs: [UnownedJob] = []
        while true {
            state.wake.wait()
            let stopped = state.queue.withLock { queue in
                swap(&jobs, &queue.jobs)
                return queue.stopped
            }
            for job in jobs { job.runSynchronously(on: executor) }
            jobs.removeAll(keepingCapacity: true)
            if stopped { return }
        }
    }
}

/// What the new thread needs: handed over retained, released by the thread.
private final class ThreadStart: @unchecked Sendable {
    let state: ThreadExecutor.State
    let name: String
    let niceness: Int32
    let executor: UnownedSerialExecutorBox

    init(state: ThreadExecutor.State, name: String, niceness: Int32, executor: UnownedSerialExecutorBox) {
        self.state = state
        self.name = name
        self.niceness = niceness
        self.executor = executor
    }
}

/// The executor's unowned reference, set by `init` once `self` exists; `ready` orders the write
/// before the thread's read.
private final class UnownedSerialExecutorBox: @unchecked Sendable {
    var executor: UnownedSerialExecutor?
    let ready = DispatchSemaphore(value: 0)
}

private func threadExecutorMain(_ context: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    guard let context else { return nil }
    let start = Unmanaged<ThreadStart>.fromOpaque(context).takeRetainedValue()
    ThreadExecutor.run(start)
    return nil
}

/// Names the calling thread as the system shows it (`top -H`, profilers; at most 15 bytes are kept).
/// Foundation's `Thread.name`, set before `start()`, does not reach the system's thread on Linux.
package func nameCurrentThread(_ name: String) {
    hub_set_current_thread_name(name)
}
