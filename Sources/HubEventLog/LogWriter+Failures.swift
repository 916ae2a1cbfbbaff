public import HubSQLite
import Logging
import Synchronization

// The writer while writes fail (a full disk, an I/O error): what it reports, how it finds out by
// itself that writes succeed again.
extension LogWriter {
    /// The storage failure the last batch met, while writes keep failing (a full disk, an I/O error);
    /// `nil` once a batch commits again.
    public var storageFailure: SQLiteError? { health.withLock { $0.failure } }

    /// While writes are failing, runs a small write (at most once per `interval`) so that the writer
    /// finds out by itself when space returns, even with no request arriving; returns whether the
    /// store can write now. Readiness probes call it.
    ///
    /// A small write may fit where the writes that failed do not (a nearly full disk), so the probe
    /// only writes once `room()` says the largest write the store accepts would fit as well.
    public func probeWhileFailing(interval: Duration = .seconds(1), room: () -> Bool = { true }) async -> Bool {
        let due = health.withLock { health -> Bool in
            guard health.failure != nil else { return false }
            let now = ContinuousClock.now
            if let last = health.lastProbe, last.duration(to: now) < interval { return false }
            health.lastProbe = now
            return true
        }
        if due, room() {
            // Rewriting the header's user_version with its own value dirties page 1: a real write
            // that appends nothing to the log.
            _ = try? await perform { transaction in
                let version = try transaction.connection.singleInt64(sql: "PRAGMA user_version") ?? 0
                try transaction.connection.execute(sql: "PRAGMA user_version = \(version)")
            }
        }
        return storageFailure == nil
    }

    /// The SQLite error behind a failed batch.
    static func storageError(_ error: any Error) -> SQLiteError {
        switch error {
        case let error as SQLiteError: error
        case let error as BatchAborted: storageError(error.cause ?? SQLiteError(code: .abort, message: "\(error)"))
        case EventStoreError.storage(let error): error
        default: SQLiteError(code: .error, message: "\(error)")
        }
    }

    func failed(_ failure: SQLiteError, batchSize: Int) {
        let first = health.withLock { health in
            defer { health.failure = failure }
            return health.failure == nil
        }
        // Under a full disk every batch fails: one line per second per kind of error, with a count.
        guard let suppressed = throttle.admit("commit.\(failure.extendedCode.rawValue)") else { return }
        logger.error(
            first ? "writes are failing: batch commit failed" : "batch commit failed",
            metadata: [
                "error": "\(failure)", "batch.size": "\(batchSize)", "failures.suppressed": "\(suppressed)",
            ]
        )
    }

    func recovered() {
        let failure = health.withLock { health in
            defer { health.failure = nil }
            return health.failure
        }
        if let failure {
            logger.notice("writes succeed again", metadata: ["error.previous": "\(failure)"])
        }
    }
}
