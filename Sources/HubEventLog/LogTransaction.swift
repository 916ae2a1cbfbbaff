public import HubDomain
public import HubSQLite

/// What a write command sees: the writer's open transaction, positioned at the tip of the log.
///
/// A command reads the current state (the read models, through ``connection``), decides, and appends
/// through ``append(_:to:expectedVersion:idempotencyKey:knownNew:)``; it never writes a read-model table.
/// Each appended event is applied at once by every projection of the store's registry, in the same
/// transaction, so the log and its read models commit together and a command reading after its own
/// append sees its effect. A command that throws leaves nothing and its batch-mates are unaffected:
/// a batch first runs its commands without savepoints (a savepoint copies every page a command
/// changes aside, a sixth of a message's SQL time), and when a command fails after it wrote, the writer
/// rolls the batch back and runs it again with each command under its own savepoint, whose rollback
/// undoes that command alone and restores the chain tip.
///
/// Not `Sendable`: it exists only on the writer's executor, for the length of one batch.
public final class LogTransaction {
    /// The writer's connection, inside the batch's transaction: for the read models' queries and the
    /// vault (`@_spi(Storage) import HubEventLog`), never for commands, which read through those.
    @_spi(Storage) public let connection: Connection
    /// The time every event of this batch is recorded at (ms since 1970 UTC).
    public let recordedAt: Int64
    package let limits: EventStoreConfiguration.Limits
    package let projections: ProjectionRegistry
    /// What the projections apply this transaction's events through (a read model's command-side
    /// reads may hand a projection what they read: see ``ProjectionContext/state(_:)``).
    package let projectionContext: ProjectionContext
    private(set) var tipPosition: Int64
    private(set) var tipHash: [UInt8]
    /// The position of the last event appended (the log's tip inside this transaction).
    public var lastPosition: Int64 { tipPosition }
    /// Events appended by the batch so far (for metrics).
    private(set) var appendedCount = 0
    /// The last version of each stream appended to in this transaction, so a command appending to
    /// one stream several times reads its version once.
    private var streamVersions: [String: Int64] = [:]
    /// The ids of the names this transaction's events carry.
    private let names: EventNames
    /// The writer's memory of the log as of its last commit (``LogMemory``), if it keeps one.
    private let memory: LogMemory?
    /// Whether a command of the batch asked for ``eraseSecurely()``.
    private(set) var erasesSecurely = false
    /// Each command runs under a savepoint of its own. When false, a command that fails after it wrote
    /// throws ``IsolationNeeded``, and the writer runs the batch again with savepoints.
    package let isolatesCommands: Bool

    package init(
        connection: Connection,
        recordedAt: Int64,
        tip: (position: Int64, hash: [UInt8]),
        limits: EventStoreConfiguration.Limits,
        projections: ProjectionRegistry,
        isolatesCommands: Bool = true,
        memory: LogMemory? = nil
    ) {
        self.isolatesCommands = isolatesCommands
        self.memory = memory
        self.names = memory.map(EventNames.init(memory:)) ?? EventNames()
        self.connection = connection
        self.recordedAt = recordedAt
        self.tipPosition = tip.position
        self.tipHash = tip.hash
        self.limits = limits
        self.projections = projections
        self.projectionContext = ProjectionContext(connection: connection, vault: projections.vault, memory: memory)
    }

    /// Makes what this batch deletes or overwrites leave no copy in the data directory (erasure,
    /// DESIGN.md §6): once the batch has committed, the writer copies the WAL into `hub.sqlite` and
    /// truncates it, so the old pages are gone from the WAL too. (What a batch deletes or overwrites
    /// leaves no copy in the pages themselves: the writer's connection runs with `secure_delete` on.)
    ///
    /// Related SQLite documentation: <https://www.sqlite.org/pragma.html#pragma_secure_delete>
    public func eraseSecurely() {
        erasesSecurely = true
    }

    /// Tells this transaction's projections what `sealed` holds (the producer just sealed it), so that
    /// applying the event does not open it again.
    public func know(_ value: JSONValue, sealedAs sealed: String) {
        projectionContext.know(value, sealedAs: sealed)
    }

    /// The stream and data of the event with this id, if the log has it (a retried command finds its
    /// first answer).
    public func event(id: String) throws(SQLiteError) -> (stream: String, data: String)? {
        // From the records, not the view: only the stream's name is needed.
        let statement = try connection.cachedStatement(
            sql: """
                SELECT n.name, r.data FROM event_records AS r JOIN event_names AS n ON n.id = r.stream
                WHERE r.id = ?
                """
        )
        defer { statement.reset() }
        try statement.bind([id])
        guard try statement.step() else { return nil }
        return (statement.text(at: 0), statement.text(at: 1))
    }

    /// The stream's last version (0 when the stream has no events).
    public func version(of stream: String) throws(SQLiteError) -> Int64 {
        if let known = streamVersions[stream] ?? memory?.versions[stream] { return known }
        let (version, nameId) = try EventLog.versionAndNameId(of: stream, connection)
        if let nameId { names.remember(stream, id: nameId) }
        return version
    }

    /// Events of a stream, including those appended earlier in this transaction.
    public func readStream(
        _ stream: String,
        fromVersion: Int64 = 1,
        limit: Int = .max
    ) throws(SQLiteError) -> [RecordedEvent] {
        try EventLog.readStream(stream, fromVersion: fromVersion, limit: limit, connection)
    }

    /// Appends events to a stream, chaining each onto the log's tip.
    ///
    /// With an idempotency key, the first event's id is derived from it (``IdempotencyKey/firstEventId``),
    /// so a retry finds the first attempt's rows through the unique index — also after a restart — and
    /// returns their positions with ``AppendResult/isReplay`` set, appending nothing.
    ///
    /// - Throws: ``EventStoreError/wrongExpectedVersion(stream:expected:actual:)``,
    ///   ``EventStoreError/eventTooLarge(size:limit:)``, ``EventStoreError/invalidEvent(_:)``, or a storage error.
    /// `knownNew`: the caller already looked the key up in this transaction and found nothing, so the
    /// lookup is not repeated (the unique index still refuses a duplicate).
    @discardableResult
    public func append(
        _ drafts: [EventDraft],
        to stream: String,
        expectedVersion: ExpectedVersion = .any,
        idempotencyKey: IdempotencyKey? = nil,
        knownNew: Bool = false
    ) throws -> AppendResult {
        let ids: [String]
        if let idempotencyKey {
            // Only the first id derives from the key (a retry finds the append by it); the others are
            // UUIDv7, so they land at the id index's right edge instead of on a random page each.
            ids = drafts.indices.map { $0 == 0 ? idempotencyKey.firstEventId : EventID.makeV7() }
            if !knownNew, let replay = try replayed(ids: ids) { return replay }
        } else {
            ids = drafts.map { _ in EventID.makeV7() }
        }
        try validate(drafts, stream: stream)
        let current = try version(of: stream)
        switch expectedVersion {
        case .any: break
        case .noStream where current == 0: break
        case .exact(let expected) where expected == current: break
        default: throw EventStoreError.wrongExpectedVersion(stream: stream, expected: expectedVersion, actual: current)
        }
        var result = AppendResult(stream: stream, eventIds: ids, positions: [], versions: [], isReplay: false)
        result.positions.reserveCapacity(drafts.count)
        result.versions.reserveCapacity(drafts.count)
        // What a projection held back belongs to this append: written at its end, dropped if it fails.
        let batchEndMark = projectionContext.batchEndMark
        do {
            try append(drafts, ids: ids, to: stream, from: current, into: &result)
            try projections.settle(projectionContext)
        } catch {
            projectionContext.discardStates()
            projectionContext.discardBatchEndWrites(after: batchEndMark)
            // What projections carry across batches may hold what this append applied.
            memory?.forget()
            throw error
        }
        return result
    }

    private func append(
        _ drafts: [EventDraft],
        ids: [String],
        to stream: String,
        from current: Int64,
        into result: inout AppendResult
    ) throws {
        for (offset, draft) in drafts.enumerated() {
            var event = RecordedEvent(
                position: tipPosition + 1,
                id: ids[offset],
                stream: stream,
                version: current + Int64(offset) + 1,
                type: draft.type,
                schemaVersion: draft.schemaVersion,
                recordedAt: recordedAt,
                account: draft.account,
                actor: draft.actor,
                correlationId: draft.correlationId,
                causationId: draft.causationId,
                data: draft.data,
                hash: []
            )
            event.hash = EventHash.compute(event, previous: tipHash)
            event.typedPayload = draft.typedPayload
            do {
                try EventLog.insert(event, names: names, connection)
            } catch {
                // The CHECK (json_valid(data)) constraint is the only CHECK an append can violate.
                if error.extendedCode == .constraintCheck {
                    throw EventStoreError.invalidEvent("event data of type \(draft.type) is not valid JSON")
                }
                throw error
            }
            try projections.apply(event, projectionContext)
            tipPosition = event.position
            tipHash = event.hash
            appendedCount += 1
            streamVersions[stream] = event.version
            result.positions.append(event.position)
            result.versions.append(event.version)
        }
    }

    /// What this transaction learnt of the log: the last version of each stream it appended to, and
    /// the ids of the names it looked up or added (for the writer's ``LogMemory`` once it committed).
    var learnt: (versions: [String: Int64], names: [String: Int64]) { (streamVersions, names.ids) }

    /// Ends the batch's work before its commit: the projections' writes held back to the batch's end
    /// (``ProjectionContext/atBatchEnd(sql:_:)``), and the projections' recorded position.
    package func finish() throws(SQLiteError) {
        try projectionContext.writeBatchEnd()
        if appendedCount > 0 { try projections.recordApplied(through: tipPosition, connection) }
    }

    /// Runs one command, under a savepoint when ``isolatesCommands``; on failure restores the tip the
    /// savepoint rolled back to. Without a savepoint, a command that failed after it had written (a
    /// row changed, an event appended) throws ``IsolationNeeded``: the batch must run again isolated.
    package func runCommand<T>(_ body: (LogTransaction) throws -> T) throws -> T {
        let saved = (tipPosition, tipHash, appendedCount)
        let batchEndMark = projectionContext.batchEndMark
        let changes = connection.totalChanges
        do {
            return isolatesCommands ? try connection.savepoint("command") { try body(self) } : try body(self)
        } catch {
            if !isolatesCommands, connection.totalChanges != changes || appendedCount != saved.2 {
                throw IsolationNeeded(cause: error)
            }
            (tipPosition, tipHash, appendedCount) = saved
            projectionContext.discardStates()
            projectionContext.discardBatchEndWrites(after: batchEndMark)
            // What the rolled-back command appended is gone: read versions from the table again.
            streamVersions.removeAll()
            names.forget()
            memory?.forget()
            throw error
        }
    }

    /// The append that `ids.first` began: its events follow the first at consecutive positions and
    /// versions of one stream (one writer appends them in one go), as many as this append has drafts.
    private func replayed(ids: [String]) throws(SQLiteError) -> AppendResult? {
        guard let first = ids.first, let located = try EventLog.locate(id: first, connection) else { return nil }
        var result = AppendResult(
            stream: located.stream,
            eventIds: [first],
            positions: [located.position],
            versions: [located.version],
            isReplay: true
        )
        for offset in 1..<Int64(ids.count) {
            guard let next = try EventLog.locate(position: located.position + offset, connection),
                next.stream == located.stream, next.version == located.version + offset
            else { break }
            result.eventIds.append(next.id)
            result.positions.append(located.position + offset)
            result.versions.append(next.version)
        }
        return result
    }

    private func validate(_ drafts: [EventDraft], stream: String) throws(EventStoreError) {
        guard !stream.isEmpty, stream.utf8.count <= limits.maxNameBytes else {
            throw .invalidEvent("stream name must be 1 to \(limits.maxNameBytes) bytes")
        }
        for draft in drafts {
            guard !draft.type.isEmpty, draft.type.utf8.count <= limits.maxNameBytes else {
                throw .invalidEvent("event type must be 1 to \(limits.maxNameBytes) bytes")
            }
            let size = draft.data.utf8.count
            if size > limits.maxEventDataBytes { throw .eventTooLarge(size: size, limit: limits.maxEventDataBytes) }
        }
    }
}

@available(*, unavailable)
extension LogTransaction: Sendable {}
