import Synchronization

/// A level-triggered wake-up for one waiting loop: `signal()` before `wait` makes the next wait
/// return at once; many signals while nobody waits count as one.
final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.pending = true
            return nil
        }
        waiter?.resume()
    }

    /// Returns after a signal, or when the task is cancelled.
    ///
    /// No timeout of its own: a sleep cancelled at every wake-up churns the dispatch timers of the
    /// Linux runtime; a ticker task signals instead (see ``DeliveryService``).
    func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let immediate = state.withLock { state -> Bool in
                    if state.pending || Task.isCancelled {
                        state.pending = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if immediate { continuation.resume() }
            }
        } onCancel: {
            self.signal()
        }
    }
}
