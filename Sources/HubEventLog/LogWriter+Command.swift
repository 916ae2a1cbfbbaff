/// One queued command and the caller waiting for it.
///
/// The continuation is resumed exactly once: by `perform` when enqueueing fails, otherwise by
/// `complete`, which the writer calls once per command of a batch (an unsafe continuation saves
/// the checked one's allocation on the hot path).
///
/// `@unchecked Sendable`: `outcome` is written only on the writer's executor while the batch runs,
/// and read by `complete` after the writer's `perform` returned, which orders the two accesses; no
/// other code touches it.
final class Command<Output: Sendable>: PendingCommand, @unchecked Sendable {
    package let body: @Sendable (LogTransaction) throws -> Output
    package let continuation: UnsafeContinuation<Output, any Error>
    package var outcome: Result<Output, any Error>?
    package let enqueued = ContinuousClock.now

    package init(
        body: @escaping @Sendable (LogTransaction) throws -> Output,
        continuation: UnsafeContinuation<Output, any Error>
    ) {
        self.body = body
        self.continuation = continuation
    }

    package func execute(in transaction: LogTransaction) -> (any Error)? {
        do {
            outcome = .success(try transaction.runCommand(body))
            return nil
        } catch {
            outcome = .failure(error)
            return error
        }
    }

    package func complete(overridingWith failure: (any Error)?) {
        if let failure {
            continuation.resume(throwing: failure)
        } else {
            continuation.resume(with: outcome ?? .failure(EventStoreError.shuttingDown))
        }
    }
}
