import Foundation
import HubDomain
public import HubSQLite

/// Rebuilds projections from the log (DESIGN.md §4): into shadow tables, swapped in by one short
/// write transaction.
///
/// Safe beside a running server on the same database: the shadow tables fill in small write
/// transactions (each holds SQLite's write lock for about ``lockHold``, so the server's writer only
/// waits, within its busy timeout); until the swap the server answers from the old tables and keeps
/// applying its own appends to them. The swap transaction applies what was appended meanwhile, drops
/// the old tables, renames the shadow tables into their place and records the position in
/// `projection_state`, all under one lock — so no event is missed or applied twice.
///
/// Shadow tables are named `<table>_r<stamp>`, and an index keeps the name it was created with (SQLite
/// renames tables, not indexes): after a rebuild `conversations_by_started` is, for example,
/// `conversations_rm4k2x1_by_started`. Nothing depends on index names.
public struct ProjectionRebuilder {
    public let registry: ProjectionRegistry
    /// Events the feed reads and prepares at a time, and the unit the rebuild applies.
    public var chunk: Int
    /// How long one write transaction filling the shadow tables may go on taking chunks: longer
    /// commits less often (fewer rewrites of the same pages), shorter keeps a server's writer waiting
    /// less for the lock.
    public var lockHold: Duration

    public init(registry: ProjectionRegistry, chunk: Int = 4096, lockHold: Duration = .milliseconds(100)) {
        self.registry = registry
        self.chunk = chunk
        self.lockHold = lockHold
    }

    /// Where a rebuild stands: events applied, and the log's tip when it last looked.
    public struct Progress: Sendable {
        public var applied: Int64
        public var tip: Int64
    }

    /// Rebuilds the named projections (all when empty) and what they depend on, on `connection`.
    ///
    /// - Returns: each rebuilt projection's tables with their row counts and fingerprints.
    public func rebuild(
        _ names: [String],
        _ connection: Connection,
        progress: (Progress) -> Void = { _ in }
    ) throws -> [ProjectionReport] {
        let projections = try registry.closure(of: names.isEmpty ? registry.names : names)
        guard !projections.isEmpty else { return [] }
        let stamp = "r" + String(UInt64(Date().timeIntervalSince1970 * 1000), radix: 36)
        var shadow: [String: String] = [:]
        for projection in projections {
            for table in projection.schema.tables { shadow[table] = "\(table)_\(stamp)" }
        }
        let context = ProjectionContext(connection: connection, vault: registry.vault, names: shadow)
        // A redacted text's original passes through a delivery's kept body before the delivery's
        // outcome clears it: what a rebuild deletes or overwrites leaves no copy in the file.
        return try Self.with("secure_delete", "ON", connection) {
            try rebuild(projections, shadow: shadow, context: context, progress: progress)
        }
    }

    private func rebuild(
        _ projections: [any Projection],
        shadow: [String: String],
        context: ProjectionContext,
        progress: (Progress) -> Void
    ) throws -> [ProjectionReport] {
        let connection = context.connection
        try connection.transaction(.immediate) {
            try Self.dropLeftovers(of: projections, connection)
            for projection in projections {
                for statement in projection.schema.statements(naming: shadow) { try connection.execute(sql: statement) }
            }
        }
        var position: Int64 = 0
        var applied: Int64 = 0
        // The shadow tables are nobody's until the swap: their chunks need not be synced one by one (a
        // crash leaves leftovers, dropped by the next rebuild). The swap itself commits as configured.
        try Self.with("synchronous", "NORMAL", connection) {
            try Self.with("wal_autocheckpoint", "0", connection) {
                try fill(projections, position: &position, applied: &applied, context: context, progress: progress)
            }
        }
        // The analysts' views name the live tables: legacy renaming neither checks nor rewrites them while
        // a table is dropped and its shadow takes its name, so they read the new tables afterwards.
        try connection.execute(sql: "PRAGMA legacy_alter_table = ON")
        defer { try? connection.execute(sql: "PRAGMA legacy_alter_table = OFF") }
        try connection.transaction(.immediate) {
            // What the log gained since the last chunk, under the lock the swap holds.
            while true {
                let count = try Self.apply(after: &position, limit: chunk, projections, context)
                applied += Int64(count)
                if count < chunk { break }
            }
            for projection in projections {
                for table in projection.schema.tables {
                    try Self.drop(table, connection)
                    try connection.execute(sql: "ALTER TABLE \(shadow[table] ?? table) RENAME TO \(table)")
                }
                try connection.run(
                    sql: """
                        INSERT INTO projection_state (name, version, position) VALUES (?, ?, ?)
                        ON CONFLICT (name) DO UPDATE SET version = excluded.version, position = excluded.position
                        """,
                    [projection.name, projection.version, position]
                )
            }
        }
        progress(Progress(applied: applied, tip: position))
        return try ProjectionReport.fingerprinting(projections, position: position, connection)
    }

    /// Fills the shadow tables from the log after `position`, in transactions of up to `lockHold`.
    private func fill(
        _ projections: [any Projection],
        position: inout Int64,
        applied: inout Int64,
        context: ProjectionContext,
        progress: (Progress) -> Void
    ) throws {
        let connection = context.connection
        let feed = PreparedEventFeed(
            path: connection.path,
            after: position,
            chunk: chunk,
            checkpoints: true,
            projections: projections,
            vault: registry.vault
        )
        defer { feed.stop() }
        let clock = ContinuousClock()
        var next = try feed.next()
        while next != nil {
            let started = clock.now
            let tip = try connection.transaction(.immediate) {
                // Chunks until the lock has been held for `lockHold`.
                while let prepared = next {
                    next = nil
                    try Self.apply(prepared, projections, context)
                    position = prepared.events.last?.position ?? position
                    applied += Int64(prepared.events.count)
                    feed.recycle(consume prepared)
                    next = try feed.next()
                    if started.duration(to: clock.now) >= lockHold { break }
                }
                return try EventLog.tip(connection).position
            }
            progress(Progress(applied: applied, tip: tip))
            // A server's writer waiting for the lock (it polls every millisecond) gets it before the
            // next transaction begins.
            Thread.sleep(forTimeInterval: 0.002)
        }
    }

    /// Rebuilds every projection into a scratch database from the log of the database at `path`, and
    /// compares each table with the live one, both as of one snapshot of the live database (safe
    /// beside a running server). `scratch` is a file path for the scratch database; it is removed.
    public func verify(
        databaseAt path: String,
        scratch: String,
        progress: (Progress) -> Void = { _ in }
    ) throws -> ProjectionVerification {
        try? FileManager.default.removeItem(atPath: scratch)
        defer {
            for suffix in ["", "-journal", "-wal", "-shm"] {
                try? FileManager.default.removeItem(atPath: scratch + suffix)
            }
        }
        let connection = try Connection(path: scratch, configuration: .init(mode: .readWrite(create: true)))
        defer { connection.close() }
        try connection.execute(sql: "PRAGMA journal_mode = OFF")
        try connection.execute(sql: "PRAGMA synchronous = OFF")
        try connection.execute(sql: "PRAGMA secure_delete = ON")
        try connection.run(sql: "ATTACH DATABASE ? AS live", [path])
        let context = ProjectionContext(connection: connection, vault: registry.vault)
        // One transaction: the live tables and the live log are read from the same snapshot.
        return try connection.transaction(.deferred) {
            let tip = try connection.singleInt64(sql: "SELECT coalesce(max(position), 0) FROM live.events") ?? 0
            for projection in registry.projections {
                for statement in projection.schema.statements(naming: [:]) { try connection.execute(sql: statement) }
            }
            // The feed reads the live file on its own connection, through this snapshot's tip: the
            // events up to it are the same in any later snapshot.
            let feed = PreparedEventFeed(
                path: path,
                after: 0,
                through: tip,
                chunk: chunk,
                projections: registry.projections,
                vault: registry.vault
            )
            defer { feed.stop() }
            var applied: Int64 = 0
            while let prepared = try feed.next() {
                try Self.apply(prepared, registry.projections, context)
                applied += Int64(prepared.events.count)
                progress(Progress(applied: applied, tip: tip))
            }
            var reports: [ProjectionVerification.Entry] = []
            for projection in registry.projections {
                for table in projection.schema.tables {
                    let rebuilt = try TableFingerprint.compute(table, connection, schema: "main")
                    let exists = try connection.singleInt64(
                        sql: "SELECT count(*) FROM live.sqlite_master WHERE name = '\(table)'"
                    )
                    guard exists == 1 else {
                        // A projection newer than the store (built when a server or `rebuild` next runs).
                        reports.append(
                            .init(
                                projection: projection.name,
                                live: TableFingerprint(table: table, rows: 0, digest: "missing"),
                                rebuilt: rebuilt,
                                difference: "the table does not exist yet: `hubstore serve` or `hubstore rebuild` "
                                    + "builds the \(projection.name) projection"
                            )
                        )
                        continue
                    }
                    let columns =
                        "SELECT group_concat(name) FROM (SELECT name FROM pragma_table_info(?, ?) ORDER BY cid)"
                    let liveColumns = try connection.singleText(sql: columns, [table, "live"])
                    guard liveColumns == (try connection.singleText(sql: columns, [table, "main"])) else {
                        // A store written by the version before a migration that no server has run yet.
                        reports.append(
                            .init(
                                projection: projection.name,
                                live: TableFingerprint(
                                    table: table,
                                    rows: try connection.singleInt64(sql: "SELECT count(*) FROM live.\(table)") ?? 0,
                                    digest: "older columns"
                                ),
                                rebuilt: rebuilt,
                                difference: "the table has an older version's columns (\(liveColumns ?? "")): "
                                    + "`hubstore serve` or `hubstore rebuild` migrates the store first"
                            )
                        )
                        continue
                    }
                    let live = try TableFingerprint.compute(table, connection, schema: "live")
                    var difference: String?
                    if rebuilt != live {
                        difference = try TableFingerprint.firstDifference(table, connection)
                    }
                    reports.append(
                        .init(projection: projection.name, live: live, rebuilt: rebuilt, difference: difference)
                    )
                }
            }
            return ProjectionVerification(position: tip, entries: reports)
        }
    }

    /// Runs `body` with a connection pragma set to `value`, then sets it back (also when `body`
    /// throws; a failure to set it back is thrown on success, so a writer never keeps a rebuild's setting).
    private static func with<T>(
        _ pragma: String,
        _ value: String,
        _ connection: Connection,
        _ body: () throws -> T
    ) throws -> T {
        let previous = try connection.singleText(sql: "PRAGMA \(pragma)") ?? ""
        try connection.execute(sql: "PRAGMA \(pragma) = \(value)")
        let result: T
        do {
            result = try body()
        } catch {
            try? connection.execute(sql: "PRAGMA \(pragma) = \(previous)")
            throw error
        }
        try connection.execute(sql: "PRAGMA \(pragma) = \(previous)")
        return result
    }

    /// Drops a replaced table. Only the outbox's old rows can hold what was meant to go (a delivery's kept
    /// body, which a writer before December 2026 could overwrite without `secure_delete` once the
    /// delivery ended): its freed pages are zeroed; every other table's pages join the free list as they
    /// are (`secure_delete = FAST`),
    /// instead of being written again — what they hold, the rebuilt tables hold too, and what an
    /// erasure removed it removed securely.
    private static func drop(_ table: String, _ connection: Connection) throws {
        guard table != "deliveries" else {
            try connection.execute(sql: "DROP TABLE IF EXISTS \(table)")
            return
        }
        try connection.execute(sql: "PRAGMA secure_delete = FAST")
        try connection.execute(sql: "DROP TABLE IF EXISTS \(table)")
        // Thrown, not swallowed: the outbox's drop after it must zero its pages.
        try connection.execute(sql: "PRAGMA secure_delete = ON")
    }

    /// Applies a chunk the feed prepared.
    private static func apply(
        _ chunk: PreparedEventFeed.Chunk,
        _ projections: [any Projection],
        _ context: ProjectionContext
    ) throws {
        for (sealed, value) in chunk.opened { context.know(value, sealedAs: sealed) }
        defer { context.forgetKnown() }
        for stored in chunk.events {
            for event in try stored.withImpliedEvents() {
                for projection in projections { try projection.apply(event, context) }
            }
        }
        for projection in projections { try projection.settle(context) }
        try context.writeBatchEnd()
    }

    /// Applies up to `limit` events after `position` (advancing it); returns how many.
    private static func apply(
        after position: inout Int64,
        limit: Int,
        _ projections: [any Projection],
        _ context: ProjectionContext
    ) throws -> Int {
        let statement = try context.connection.cachedStatement(
            sql: "SELECT \(EventLog.columns) FROM events WHERE position > ? ORDER BY position LIMIT ?"
        )
        var events: [RecordedEvent] = []
        do {
            defer { statement.reset() }
            try statement.bind([position, limit])
            while try statement.step() { events.append(EventLog.decode(statement)) }
        }
        for var event in events {
            // Decoded once for every projection (a projection decodes again, and reports, what fails here).
            event.typedPayload = try? event.decodedPayload()
            for event in try event.withImpliedEvents() {
                for projection in projections { try projection.apply(event, context) }
            }
        }
        for projection in projections { try projection.settle(context) }
        try context.writeBatchEnd()
        if let last = events.last { position = last.position }
        return events.count
    }

    /// Shadow tables an interrupted rebuild left behind.
    private static func dropLeftovers(of projections: [any Projection], _ connection: Connection) throws {
        var leftovers: [String] = []
        let statement = try connection.prepare(sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
        let owned = Set(projections.flatMap(\.schema.tables))
        while try statement.step() {
            let name = statement.text(at: 0)
            for table in owned where name.hasPrefix(table + "_r") && !owned.contains(name) {
                let stamp = name.dropFirst(table.count + 2)
                if !stamp.isEmpty, stamp.allSatisfy({ $0.isLetter || $0.isNumber }), stamp.count <= 12 {
                    leftovers.append(name)
                }
            }
        }
        for name in leftovers { try connection.execute(sql: "DROP TABLE IF EXISTS \(name)") }
    }
}

/// What `verify --projections` found: each table of each projection, live against rebuilt.
public struct ProjectionVerification: Sendable {
    public struct Entry: Sendable {
        public var projection: String
        public var live: TableFingerprint
        public var rebuilt: TableFingerprint
        /// The first row that differs, described, when the fingerprints differ.
        public var difference: String?
        public var matches: Bool { live == rebuilt }
    }

    /// The log position both sides stand at.
    public var position: Int64
    public var entries: [Entry]
    public var firstMismatch: Entry? { entries.first { !$0.matches } }
}
