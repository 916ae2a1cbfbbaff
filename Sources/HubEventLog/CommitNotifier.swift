import Synchronization

/// Tells subscribers the log's committed position, after each commit.
///
/// A waiter asks for "a position beyond mine"; the writer publishes after COMMIT returned, so a read
/// transaction begun after the wake-up sees every event up to the published position.
package final class CommitNotifier: Sendable {
    private struct State {
        var committed: Int64
        var isClosed = false
        var nextToken = 0
        var waiters: [Int: CheckedContinuation<Int64?, Never>] = [:]
    }

    private let state: Mutex<State>

    package init(committed: Int64) {
        state = Mutex(State(committed: committed))
    }

    /// The last committed position.
    package var committed: Int64 { state.withLock { $0.committed } }

    /// Records a commit and wakes every waiter.
    package func publish(_ position: Int64) {
        let waiters = state.withLock { state in
            state.committed = max(state.committed, position)
            defer { state.waiters = [:] }
            return state.waiters
        }
        for waiter in waiters.values { waiter.resume(returning: position) }
    }

    /// Wakes every waiter with `nil` and makes later waits return `nil` at once.
    package func close() {
        let waiters = state.withLock { state in
            state.isClosed = true
            defer { state.waiters = [:] }
            return state.waiters
        }
        for waiter in waiters.values { waiter.resume(returning: nil) }
    }

    /// Waits until the committed position is beyond `position`; returns it, or `nil` when the store
    /// closed or the task was cancelled.
    package func wait(beyond position: Int64) async -> Int64? {
        let token = state.withLock { state -> Int in
            state.nextToken += 1
            return state.nextToken
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let immediate: Int64?? = state.withLock { state in
                    if state.committed > position { return .some(state.committed) }
                    if state.isClosed || Task.isCancelled { return .some(nil) }
                    state.waiters[token] = continuation
                    return .none
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: token) }
            waiter?.resume(returning: nil)
        }
    }
}
