import Synchronization

/// A command waiting for the writer, with the continuation of the caller waiting for its result.
protocol PendingCommand: AnyObject, Sendable {
    /// Runs the command inside the batch's transaction (under its own savepoint) and keeps its outcome.
    func execute(in transaction: LogTransaction)
    /// Answers the caller: with the kept outcome, or with `failure` when the batch did not commit.
    func complete(overridingWith failure: (any Error)?)
}

/// The bounded queue between callers and the writer.
///
/// Callers never wait for room: a full queue refuses at once with ``EventStoreError/overloaded(queueCapacity:)``,
/// so memory stays bounded and the API can answer 503 quickly.
final class WriteQueue: Sendable {
    private struct State {
        var items: [any PendingCommand] = []
        var waiter: CheckedContinuation<Void, Never>?
        var isClosed = false
    }

    private let state = Mutex(State())
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// The number of commands waiting.
    var depth: Int { state.withLock { $0.items.count } }

    func enqueue(_ item: any PendingCommand) throws(EventStoreError) {
        let waiter: CheckedContinuation<Void, Never>? = try state.withLock { (state) throws(EventStoreError) in
            if state.isClosed { throw .shuttingDown }
            if state.items.count >= capacity { throw .overloaded(queueCapacity: capacity) }
            state.items.append(item)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Takes up to `maximum` queued commands, waiting while the queue is empty.
    /// Returns `nil` once the queue is closed and drained.
    /// Runs on the caller's executor (the writer's thread), not on the cooperative pool.
    func nextBatch(maximum: Int, isolation: isolated (any Actor)? = #isolation) async -> [any PendingCommand]? {
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
            case .batch(let batch): return batch
            case .finished: return nil
            case .wait:
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

    /// Takes up to `maximum` more commands without waiting.
    func takeMore(maximum: Int) -> [any PendingCommand] {
        state.withLock { Self.take(maximum, from: &$0.items) }
    }

    /// Refuses new commands; those already queued are still handed out.
    func close() {
        let waiter = state.withLock { state in
            state.isClosed = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
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
