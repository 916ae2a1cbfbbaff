import Foundation
import HubSQLite

/// Work split over two threads: a producer on a thread of its own makes batches, and the caller
/// consumes them with ``next()``, at most `capacity` batches waiting between them. A producer's
/// failure reaches the consumer after the batches made before it. Batches the consumer is done with
/// can be handed back (``recycle(_:)``) to be freed on the producer's thread.
package final class ProducerThread<Batch: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    /// Guarded by `condition`.
    private var ready: [Batch] = []
    private var spent: [Batch] = []
    private var finished = false
    private var failure: (any Error)?
    private var cancelled = false
    private let capacity: Int

    /// Starts `produce` on a thread named `name`; it hands each batch to `send`, which waits while
    /// `capacity` batches wait and answers `false` once the consumer has cancelled (then `produce`
    /// should return).
    package init(
        name: String,
        capacity: Int = 2,
        _ produce: @escaping @Sendable (_ send: (Batch) -> Bool) throws -> Void
    ) {
        self.capacity = capacity
        let thread = Thread { [self] in
            nameCurrentThread(name)
            let outcome = Result { try produce(send) }
            condition.lock()
            finished = true
            if case .failure(let error) = outcome { failure = error }
            spent.removeAll()
            condition.broadcast()
            condition.unlock()
        }
        thread.start()
    }

    /// The next batch; `nil` once the producer is done, its failure once it failed.
    package func next() throws -> Batch? {
        condition.lock()
        defer { condition.unlock() }
        while ready.isEmpty && !finished { condition.wait() }
        if !ready.isEmpty {
            condition.broadcast()
            return ready.removeFirst()
        }
        if let failure { throw failure }
        return nil
    }

    /// Hands back a batch the consumer is done with: the producer frees it at its next `send` (freeing
    /// thousands of values is work too), or it is freed here once the producer has returned.
    package func recycle(_ batch: consuming Batch) {
        condition.lock()
        defer { condition.unlock() }
        guard !finished else { return }
        spent.append(batch)
    }

    /// Tells the producer to stop (its next `send` answers `false`), and waits for it to return.
    package func cancel() {
        condition.lock()
        cancelled = true
        ready.removeAll()
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }

    private func send(_ batch: Batch) -> Bool {
        var spent: [Batch] = []
        defer { spent.removeAll() }  // outside the lock
        condition.lock()
        defer { condition.unlock() }
        while ready.count >= capacity && !cancelled { condition.wait() }
        guard !cancelled else { return false }
        ready.append(batch)
        swap(&spent, &self.spent)
        condition.broadcast()
        return true
    }
}

/// The producer stopped because the consumer cancelled.
package struct ProducerCancelled: Error {
    package init() {}
}
