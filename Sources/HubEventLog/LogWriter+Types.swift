import HubSQLite

// The writer's smaller types: what it counts, how long a batch's stages took, whether writes are
// failing, and a batch SQLite aborted.

/// Counts of what the writer committed, for benchmarks and diagnostics.
public struct WriterStatistics: Sendable, Equatable {
    public private(set) var batches = 0
    public private(set) var commands = 0
    public private(set) var events = 0
    public private(set) var largestBatch = 0
    public private(set) var smallestBatch = 0
    /// Batches run again with each command under its own savepoint, after a command failed having
    /// written (see ``LogTransaction``).
    public private(set) var isolatedReruns = 0

    /// Commands per committed batch.
    public var averageBatchSize: Double { batches == 0 ? 0 : Double(commands) / Double(batches) }

    package mutating func recordIsolatedRerun() {
        isolatedReruns += 1
    }

    package mutating func record(batchSize: Int, events appended: Int) {
        smallestBatch = batches == 0 ? batchSize : min(smallestBatch, batchSize)
        batches += 1
        commands += batchSize
        events += appended
        largestBatch = max(largestBatch, batchSize)
    }
}

/// How long a batch's stages took (see ``StoreMetrics``).
struct BatchStages {
    var commands: [Duration] = []
    var batchEnd = Duration.zero
    var finished = ContinuousClock.now
    var sync = Duration.zero
}

/// What a batch's transaction left, for its commit: the log's tip, the events appended, and what the
/// writer's ``LogMemory`` takes in once it committed.
struct BatchOutcome {
    var position: Int64
    var hash: [UInt8]
    var appended: Int
    /// `PRAGMA data_version` inside the batch's write lock.
    var dataVersion: Int64
    var learnt: (versions: [String: Int64], names: [String: Int64])
}

/// Whether writes are failing, and when the writer last probed for recovery.
struct WriterHealth {
    package var failure: SQLiteError?
    package var lastProbe: ContinuousClock.Instant?
}

/// A command of a batch run without savepoints failed after it had written: its writes cannot be
/// undone alone, so the batch's transaction is rolled back and the batch runs again, each command
/// under its own savepoint (``LogTransaction/isolatesCommands``).
struct IsolationNeeded: Error {
    /// What the command failed with.
    var cause: any Error
}

/// A batch whose transaction SQLite ended while a command ran.
struct BatchAborted: Error, CustomStringConvertible {
    /// What the command failed with, if it failed (a command that swallowed the error leaves none).
    package var cause: (any Error)?

    package var description: String {
        "the batch's transaction was rolled back by SQLite" + (cause.map { ": \($0)" } ?? "")
    }
}
