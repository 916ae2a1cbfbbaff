import Foundation
public import HubSQLite
public import Logging
public import Metrics

/// The event log on SQLite: appends through the group-commit ``LogWriter``, reads through the
/// reader pool, live subscriptions through the commit notifier.
///
/// ```swift
/// let store = try await EventStore.open(EventStoreConfiguration(dataDirectory: "hubstore-data"), readModels: .none)
/// // run store.writer as a Service (or call store.writer.run() in a task group), then:
/// let result = try await store.append([EventDraft(type: "note.added", data: "{}")], to: "note/1")
/// ```
///
/// Every append is applied to the store's read models (``ReadModels``) in the same transaction, and
/// `open` first rebuilds those whose tables do not stand at the log's tip under their code's version.
public final class EventStore: Sendable {
    public let configuration: EventStoreConfiguration
    public let directory: DataDirectory
    /// The connections: for the read models' queries and the log's tools (`@_spi(Storage)`), not for
    /// commands or handlers.
    @_spi(Storage) public let pool: DatabasePool
    /// The writer; must be running (as a `Service`) for appends to complete.
    public let writer: LogWriter
    /// The read models every append is applied to.
    public let projections: ProjectionRegistry
    package let notifier: CommitNotifier
    /// Held for a store opened exclusively (a server); `nil` for a short-lived tool beside one.
    private let lock: DataDirectoryLock?
    private let logger: Logger

    private init(
        configuration: EventStoreConfiguration,
        directory: DataDirectory,
        pool: DatabasePool,
        writer: LogWriter,
        projections: ProjectionRegistry,
        notifier: CommitNotifier,
        lock: DataDirectoryLock?,
        logger: Logger
    ) {
        self.projections = projections
        self.configuration = configuration
        self.directory = directory
        self.pool = pool
        self.writer = writer
        self.notifier = notifier
        self.lock = lock
        self.logger = logger
    }

    /// Prepares the data directory, takes its lock, opens the pool and applies pending migrations.
    ///
    /// - Parameter exclusive: take the directory's lock (a server, a benchmark). `false` lets a
    ///   short-lived tool (`hubstore clients create`) append beside a running server: each batch reads
    ///   the chain's tip inside SQLite's write lock, so both processes chain correctly.
    ///
    /// - Throws: ``DataDirectoryError`` (not writable, in use by another process), ``MigrationError``,
    ///   or ``EventStoreOpenError`` for a file that is not a HubStore database.
    public static func open(
        _ configuration: EventStoreConfiguration,
        logger: Logger = Logger(label: "hubstore.store", factory: { _ in SwiftLogNoOpLogHandler() }),
        metricsFactory: any MetricsFactory = NOOPMetricsHandler.instance,
        exclusive: Bool = true,
        readModels: ReadModels
    ) async throws -> EventStore {
        let directory = DataDirectory(path: configuration.dataDirectory)
        try directory.prepare()
        let lock = exclusive ? try directory.lock() : nil
        let projections = try readModels.registry(directory)
        let pool: DatabasePool
        do {
            pool = try await DatabasePool(
                path: directory.databasePath,
                configuration: .init(
                    readerCount: configuration.readerCount,
                    synchronous: configuration.synchronous,
                    vfs: configuration.vfs,
                    writerStatementProfile: configuration.writerStatementProfile
                )
            )
        } catch {
            throw EventStoreOpenError(path: directory.databasePath, underlying: error)
        }
        do {
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            // Said before they run: one that rewrites the log (0014) takes tens of seconds on a large one.
            let pending = try await pool.writer.perform { try EventStoreSchema.migrator.pendingMigrations($0) }
            if !pending.isEmpty {
                logger.info("applying migrations", metadata: ["migrations": "\(pending.joined(separator: ", "))"])
            }
            let (applied, tip) = try await pool.writer.perform { connection in
                let applied = try EventStoreSchema.migrator.migrate(connection, recordedAt: now)
                // From here on the writer's connection commits only whole transactions, and what they
                // delete or overwrite leaves no copy in the pages' free space (an erasure could not
                // reach it there; DESIGN.md §6). SQLite's default is off, Debian's build's on.
                connection.refuseImplicitCommits()
                try connection.execute(sql: "PRAGMA secure_delete = ON")
                return (applied, try EventLog.tip(connection))
            }
            if !applied.isEmpty {
                logger.info("applied migrations", metadata: ["migrations": "\(applied.joined(separator: ", "))"])
            }
            try await rebuildStale(projections, pool: pool, tip: tip.position, logger: logger)
            let notifier = CommitNotifier(committed: tip.position)
            let writer = LogWriter(
                pool: pool,
                notifier: notifier,
                configuration: configuration,
                projections: projections,
                metrics: StoreMetrics(factory: metricsFactory),
                logger: logger
            )
            return EventStore(
                configuration: configuration,
                directory: directory,
                pool: pool,
                writer: writer,
                projections: projections,
                notifier: notifier,
                lock: lock,
                logger: logger
            )
        } catch {
            await pool.close()
            if let error = error as? SQLiteError {
                throw EventStoreOpenError(path: directory.databasePath, underlying: error)
            }
            throw error
        }
    }

    /// Rebuilds, before the writer starts, every projection whose tables do not stand at the log's tip
    /// under their code's version (a data directory written before projections, a projection whose
    /// code changed): the same rebuild as `hubstore rebuild`.
    private static func rebuildStale(
        _ projections: ProjectionRegistry,
        pool: DatabasePool,
        tip: Int64,
        logger: Logger
    ) async throws {
        guard !projections.projections.isEmpty else { return }
        let reports = try await pool.writer.perform { connection -> [ProjectionReport] in
            let stale = try projections.stale(tip: tip, connection)
            guard !stale.isEmpty else { return [] }
            logger.notice(
                "rebuilding projections from the log",
                metadata: ["projections": "\(stale.joined(separator: ", "))", "log.position": "\(tip)"]
            )
            var lastReport = ContinuousClock.now
            return try ProjectionRebuilder(registry: projections).rebuild(stale, connection) { progress in
                guard lastReport.duration(to: .now) > .seconds(5) else { return }
                lastReport = .now
                logger.info(
                    "rebuilding",
                    metadata: ["events": "\(progress.applied)", "log.position": "\(progress.tip)"]
                )
            }
        }
        for report in reports {
            logger.notice(
                "projection rebuilt",
                metadata: [
                    "projection": "\(report.name)", "version": "\(report.version)",
                    "log.position": "\(report.position)",
                    "rows": "\(report.tables.map { "\($0.table)=\($0.rows)" }.joined(separator: " "))",
                ]
            )
        }
    }

    /// Rebuilds the named projections (all when empty) from the log, with what they depend on
    /// (``ProjectionRebuilder``). For a tool: the store's own writer must not be running, though a
    /// server's may be, in another process.
    public func rebuild(
        _ names: [String],
        progress: @escaping @Sendable (ProjectionRebuilder.Progress) -> Void = { _ in }
    ) async throws -> [ProjectionReport] {
        let projections = projections
        return try await pool.writer.perform { connection in
            try ProjectionRebuilder(registry: projections).rebuild(names, connection, progress: progress)
        }
    }

    /// The latest signed checkpoint of the log's head, if any.
    public func latestCheckpoint() async throws -> LogCheckpoint? {
        try await pool.read { try LogCheckpoints.latest($0) }
    }

    /// Whether the writer's thread got its higher scheduling weight.
    public var writerPriorityRaised: Bool { pool.writer.priorityRaised }

    // MARK: - Writing

    /// Appends events to one stream in the writer's next batch; returns once they are committed.
    public func append(
        _ events: [EventDraft],
        to stream: String,
        expectedVersion: ExpectedVersion = .any,
        idempotencyKey: String? = nil
    ) async throws -> AppendResult {
        try await writer.perform { transaction in
            try transaction.append(
                events,
                to: stream,
                expectedVersion: expectedVersion,
                idempotencyKey: idempotencyKey.map(IdempotencyKey.init)
            )
        }
    }

    // MARK: - Reading

    /// The last committed position (0 for an empty log).
    public var headPosition: Int64 { notifier.committed }

    /// Waits until the committed position is beyond `position`; returns it, or `nil` once the store
    /// closes or the task is cancelled.
    public func waitForCommit(beyond position: Int64) async -> Int64? {
        await notifier.wait(beyond: position)
    }

    /// Events of one stream from a version on.
    public func readStream(_ stream: String, fromVersion: Int64 = 1, limit: Int = 1000) async throws -> [RecordedEvent]
    {
        try await pool.read { try EventLog.readStream(stream, fromVersion: fromVersion, limit: limit, $0) }
    }

    /// Events of the whole log after a position, filtered.
    public func readAll(
        after position: Int64 = 0,
        filter: EventFilter = .init(),
        limit: Int = 1000
    ) async throws
        -> [RecordedEvent]
    {
        try await pool.read { try EventLog.readAll(after: position, filter: filter, limit: limit, $0) }
    }

    /// Every event after `position` that passes the filter: first those already committed, then new
    /// ones as they commit — in order, with no gap and no duplicate. Ends when the store closes or
    /// the consuming task is cancelled.
    public func subscribe(
        after position: Int64 = 0,
        filter: EventFilter = .init(),
        pageSize: Int = 500
    )
        -> EventSubscription
    {
        EventSubscription(store: self, after: position, filter: filter, pageSize: max(1, pageSize))
    }

    // MARK: - Closing

    /// Checkpoints the WAL into the database file (TRUNCATE), then closes every connection and
    /// releases the directory lock. Call after the writer has stopped.
    ///
    /// - Returns: `nil` when the WAL was copied into `hub.sqlite` and truncated (or when this store,
    ///   opened beside a server, leaves that to the server); otherwise why the last checkpoint did not
    ///   complete. The log is safe either way (the WAL is part of the database), but a server reports
    ///   it, so that an operator copying `hub.sqlite` alone knows it is not whole.
    @discardableResult
    public func close() async -> CheckpointFailure? {
        notifier.close()
        // Only the exclusive owner truncates the WAL: beside a server it would wait on its readers.
        var failure: CheckpointFailure?
        if lock != nil {
            // Our own readers go first: an open read transaction would keep the checkpoint from
            // completing.
            await pool.closeReaders()
            failure = await checkpointTruncating()
            if let failure {
                logger.error("final WAL checkpoint failed", metadata: ["error": "\(failure)"])
            }
        }
        await pool.close()
        lock?.release()
        return failure
    }

    /// `PRAGMA wal_checkpoint(TRUNCATE)` until it reports the WAL copied and truncated, for at most
    /// `patience` (another process's reader may hold an old snapshot for a moment).
    private func checkpointTruncating(patience: Duration = .seconds(10)) async -> CheckpointFailure? {
        let deadline = ContinuousClock.now + patience
        var reason = ""
        repeat {
            do {
                let busy = try await pool.writer.perform { connection in
                    let statement = try connection.prepare(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
                    return try statement.step() ? statement.int64(at: 0) != 0 : true
                }
                if !busy, walSize == 0 { return nil }
                reason = busy ? "another connection is reading an older snapshot" : "the WAL is not empty"
            } catch {
                reason = "\(error)"
            }
            try? await Task.sleep(for: .milliseconds(100))
        } while ContinuousClock.now < deadline
        return CheckpointFailure(reason: reason, walBytes: walSize)
    }

    /// Runs the writer for the length of `body` (for tools and tests outside a service group), then
    /// drains it. The store stays open; close it afterwards.
    public func withWriter<T: Sendable>(_ body: @Sendable (EventStore) async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.writer.run() }
            defer { writer.shutDown() }
            return try await body(self)
        }
    }

    /// While writes are failing, probes whether they succeed again (see
    /// ``LogWriter/probeWhileFailing(interval:room:)``): only once the data directory has room for
    /// four of the largest events the store accepts. Returns whether the store can write now.
    public func probeStorage() async -> Bool {
        let needed = Int64(configuration.limits.maxEventDataBytes) * 4
        return await writer.probeWhileFailing { (directory.availableBytes ?? .max) >= needed }
    }

    /// The linked SQLite library's version.
    public static var sqliteVersion: String { sqliteLibraryVersion }

    /// The labels of the writer's stage histograms (queue wait, command, batch end, sync), for the
    /// metrics registry's buckets.
    public static var writerStageMetrics: [String] { StoreMetrics.stageLabels }

    /// The size of the WAL file in bytes (0 when there is none).
    public var walSize: Int64 {
        let attributes = try? FileManager.default.attributesOfItem(atPath: directory.walPath)
        return (attributes?[.size] as? NSNumber)?.int64Value ?? 0
    }
}

/// The database file could not be opened as a HubStore database.
public struct EventStoreOpenError: Error, Sendable, CustomStringConvertible {
    public let path: String
    public let underlying: any Error

    public var description: String {
        if let error = underlying as? SQLiteError, error.code == .notADatabase || error.code == .corrupt {
            return "\(path) is not a valid SQLite database (\(error.message)); restore it from a backup or move it away"
        }
        return "cannot open \(path): \(underlying)"
    }
}

/// The WAL could not be checkpointed into `hub.sqlite` when the store closed.
public struct CheckpointFailure: Error, Sendable, CustomStringConvertible {
    public let reason: String
    /// What the WAL still holds.
    public let walBytes: Int64

    public var description: String {
        "the WAL (\(walBytes) bytes) was not checkpointed into hub.sqlite: \(reason)"
    }
}

/// Which projections a store applies its appends to, made for its data directory (a hub's need the
/// directory's master key: `ReadModels.hub`, in HubReadModels).
public struct ReadModels: Sendable {
    public let registry: @Sendable (DataDirectory) throws -> ProjectionRegistry

    public init(_ registry: @escaping @Sendable (DataDirectory) throws -> ProjectionRegistry) {
        self.registry = registry
    }

    /// None: the log alone (benchmarks and tests of the log).
    public static let none = ReadModels { _ in .none }
}
