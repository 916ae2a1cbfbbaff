import Foundation
public import HubSQLite

/// How an ``EventStore`` is opened and how its writer batches.
public struct EventStoreConfiguration: Sendable {
    /// Size limits on what may be appended.
    public struct Limits: Sendable {
        /// The largest `data` of one event, in bytes (default 2 MiB: a message's largest content,
        /// `RequestMessages.maxContentBytes`, sealed, with the rest of its event).
        public var maxEventDataBytes: Int
        /// The longest stream name or event type, in bytes.
        public var maxNameBytes: Int

        public init(maxEventDataBytes: Int = 2 << 20, maxNameBytes: Int = 512) {
            self.maxEventDataBytes = maxEventDataBytes
            self.maxNameBytes = maxNameBytes
        }
    }

    /// The data directory (holds `hub.sqlite` and the lock file).
    public var dataDirectory: String
    /// `synchronous=FULL` (every acknowledged append survives power loss) or `NORMAL`.
    public var synchronous: ConnectionConfiguration.Synchronous
    /// Read-only connections in the pool.
    public var readerCount: Int
    /// The most commands one transaction takes.
    public var maxBatchSize: Int
    /// The longest the writer, after waiting idle for a first command, lets the batch grow while commands
    /// keep arriving (0: commit what is queued). A writer that finds commands queued does not wait.
    public var batchWait: Duration
    /// The most commands that may wait for the writer; more are refused as overloaded.
    public var queueCapacity: Int
    public var limits: Limits
    /// The registered SQLite VFS the database is opened through; `nil` for the default (tests name a
    /// fault-injecting one).
    public var vfs: String?
    /// The time each transaction records for its events, in milliseconds since 1970 UTC: the system
    /// clock; tests inject one to script times (the metrics' durations).
    public var clock: @Sendable () -> Int64
    /// With `synchronous` `.full`: the writer's commits leave the WAL's fsync to a thread of its own,
    /// and the writer goes on with the next batch meanwhile; a batch's callers are still answered only
    /// once its fsync is done (DESIGN.md §1). Off: the writer waits for each fsync itself.
    public var syncsOffWriterThread = true
    /// A batch (from the writer taking it to its commit) or a WAL fsync that takes at least this long is
    /// logged as a warning, with what its time went to, at most once per second.
    public var slowBatchThreshold: Duration = .milliseconds(500)
    /// Counts every statement the writer's connection runs, with SQLite's time for it
    /// (`bench ingest --sql-profile`); `nil`, the default, counts nothing.
    public var writerStatementProfile: StatementProfile?
    /// Runs on the sync thread before each fsync: tests hold a sync back with it, or fail it by throwing.
    package var beforeWALSync: (@Sendable () throws(SQLiteError) -> Void)?

    public init(
        dataDirectory: String,
        synchronous: ConnectionConfiguration.Synchronous = .full,
        readerCount: Int = 4,
        maxBatchSize: Int = 1024,
        batchWait: Duration = .microseconds(250),
        queueCapacity: Int = 16_384,
        limits: Limits = .init(),
        vfs: String? = nil,
        clock: @escaping @Sendable () -> Int64 = EventStoreConfiguration.systemClock
    ) {
        self.dataDirectory = dataDirectory
        self.synchronous = synchronous
        self.readerCount = readerCount
        self.maxBatchSize = maxBatchSize
        self.batchWait = batchWait
        self.queueCapacity = queueCapacity
        self.limits = limits
        self.vfs = vfs
        self.clock = clock
    }

    /// Milliseconds since 1970 UTC, from the system clock.
    public static let systemClock: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
}
