import Dispatch
import Synchronization

/// A command waiting for the writer, with the continuation of the caller waiting for its result.
package protocol PendingCommand: AnyObject, Sendable {
    /// When the caller queued it (for the queue-wait metric).
    var enqueued: ContinuousClock.Instant { get }
    /// Runs the command inside the batch's transaction (under its own savepoint when the batch runs
    /// isolated) and keeps its outcome; returns the error it failed with, if it failed.
    func execute(in transaction: LogTransaction) -> (any Error)?
    /// Answers the caller: with the kept outcome, or with `failure` when the batch did not commit.
    func complete(overridingWith failure: (any Error)?)
}

/// The bounded queue between callers and the writer.
///
/// Callers never wait for room: a full queue refuses at once with ``EventStoreError/overloaded(queueCapacity:)``,
/// so memory stays bounded and the API can answer 503 quickly.
package final class WriteQueue: Sendable {
    private struct State {
        var items: [any PendingCommand] = []
        var waiter: CheckedContinuation<Void, Never>?
        /// The writer's thread is blocked in ``waitForArrival(timeout:)``.
        var gathering = false
        var isClosed = false
    }

    private let state = Mutex(State())
    /// Wakes the writer's thread out of ``waitForArrival(timeout:)``.
    private let arrival = DispatchSemaphore(value: 0)
    package let capacity: Int

    package init(capacity: Int) {
        self.capacity = capacity
    }

    /// The number of commands waiting.
    package var depth: Int { state.withLock { $0.items.count } }

    package func enqueue(_ item: any PendingCommand) throws(EventStoreError) {
        let (waiter, gathering) = try state.withLock { (state) throws(EventStoreError) in
            if state.isClosed { throw .shuttingDown }
            if state.items.count >= capacity { throw .overloaded(queueCapacity: capacity) }
            state.items.append(item)
            defer {
                state.waiter = nil
                state.gathering = false
            }
            return (state.waiter, state.gathering)
        }
        waiter?.resume()
        if gathering { arrival.signal() }
    }

    /// Takes up to `maximum` queued commands, waiting while the queue is empty; `waited` tells whether
    /// it had to. Returns `nil` once the queue is closed and drained.
    /// Runs on the caller's executor (the writer's thread), not on the cooperative pool.
    package func nextBatch(
        maximum: Int,
        isolation: isolated (any Actor)? = #isolation
    ) async -> (commands: [any PendingCommand], waited: Bool)? {
        var waited = false
        while true {
            enum Step {
                case batch([any PendingCommand])
                case finished, wait
            }
            let step: Step = state.withLock { state in
                if !state.items.isEmpty { return .batch(Self.take(maximum, from: &state.items)) }
                return state.isClosed ? .finished : .wait
            }
            switch step {
            case .batch(let batch): return (batch, waited)
            case .finished: return nil
            case .wait:
                waited = true
                await withCheckedContinuation { continuation in
                    let resumeNow = state.withLock { state in
                        guard state.items.isEmpty, !state.isClosed else { return true }
                        state.waiter = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            }
        }
    }

    /// Blocks the calling thread until a command is queued or `timeout` has passed; returns whether
    /// commands are waiting. Only for the writer's own thread, for waits far shorter than a thread hop
    /// through a timer (`Task.sleep` of 50 µs takes a millisecond or more here).
    package func waitForArrival(timeout: Duration) -> Bool {
        let queued = state.withLock { state in
            if !state.items.isEmpty || state.isClosed { return true }
            state.gathering = true
            return false
        }
        if queued { return true }
        let nanoseconds = max(0, Int(timeout / .nanoseconds(1)))
        if arrival.wait(timeout: .now() + .nanoseconds(nanoseconds)) == .success { return true }
        let signalled = state.withLock { state in
            defer { state.gathering = false }
            return !state.gathering
        }
        // An enqueue cleared the flag and is signalling (or has): take that signal so the next wait
        // does not return early.
        if signalled { arrival.wait() }
        return signalled
    }

    /// Takes up to `maximum` more commands without waiting.
    package func takeMore(maximum: Int) -> [any PendingCommand] {
        state.withLock { Self.take(maximum, from: &$0.items) }
    }

    /// Refuses new commands; those already queued are still handed out.
    package func close() {
        let (waiter, gathering) = state.withLock { state in
            state.isClosed = true
            defer {
                state.waiter = nil
                state.gathering = false
            }
            return (state.waiter, state.gathering)
        }
        waiter?.resume()
        if gathering { arrival.signal() }
    }

    private static func take(_ maximum: Int, from items: inout [any PendingCommand]) -> [any PendingCommand] {
        if items.count <= maximum {
            defer { items = [] }
            return items
        }
        let batch = Array(items.prefix(maximum))
        items.removeFirst(maximum)
        return batch
    }
}
