import Foundation
public import HubDomain
public import HubSQLite

/// A read model built from the log (DESIGN.md §4): it owns its tables and changes them only by
/// applying events. The registry applies every projection inline, in the writer's transaction right
/// after each append, and `rebuild` replays the whole log through the same ``apply(_:_:)`` into shadow
/// tables — so the tables can always be rebuilt from the log, and only projections write them.
///
/// A projection never decides: what an event means for its rows is fixed by the event alone (and by
/// the rows it applied before). It reads only its own tables, those of the projections it names in
/// ``dependencies`` (applied before it), the log, and the vault.
public protocol Projection: Sendable {
    /// Stable name, e.g. `transcripts`; the key of its `projection_state` row.
    var name: String { get }
    /// The code's version: a change to ``schema`` or to what ``apply(_:_:)`` writes bumps it, and a
    /// store whose `projection_state` holds another version is rebuilt at start-up.
    var version: Int { get }
    /// The tables it owns and the SQL that creates them.
    var schema: ProjectionSchema { get }
    /// Projections whose tables ``apply(_:_:)`` reads; they are applied before this one, and rebuilt
    /// with it.
    var dependencies: [String] { get }
    /// Applies one event to the projection's tables, through `context`'s table names.
    func apply(_ event: RecordedEvent, _ context: ProjectionContext) throws
    /// The sealed values ``apply(_:_:)`` opens as JSON (``ProjectionContext/openJSON(_:record:)``) for
    /// `event`, when it can tell from the event alone: a rebuild opens them ahead, off the writer's thread.
    func sealedValues(in event: RecordedEvent) -> [SealedReference]
    /// Writes what ``apply(_:_:)`` held back in the context's ``ProjectionContext/state(_:)`` to
    /// write once for several events (a received message's row until its routing). Called at the
    /// end of every append and of every rebuild chunk: between them, only projections read the tables.
    func settle(_ context: ProjectionContext) throws
}

extension Projection {
    public var dependencies: [String] { [] }
    public func sealedValues(in event: RecordedEvent) -> [SealedReference] { [] }
    public func settle(_ context: ProjectionContext) throws {}
}

/// A value sealed in the log under `record`'s key.
public struct SealedReference: Sendable {
    public var sealed: String
    public var record: String

    public init(_ sealed: String, record: String) {
        self.sealed = sealed
        self.record = record
    }
}

/// A projection's tables: their names and the statements that create them, tables and indexes, with
/// each owned table written `{name}` (so `rebuild` can create the same tables under shadow names).
public struct ProjectionSchema: Sendable {
    public var tables: [String]
    public var statements: [String]

    public init(tables: [String], statements: [String]) {
        self.tables = tables
        self.statements = statements
    }

    /// The statements with every `{table}` replaced by its name in `names`.
    package func statements(naming names: [String: String]) -> [String] {
        statements.map { statement in
            var text = statement
            for table in tables { text = text.replacingOccurrences(of: "{\(table)}", with: names[table] ?? table) }
            return text
        }
    }
}

/// Opens values sealed in the log (the vault does): `nil` once the record's key was destroyed.
public protocol SealedValueOpener: Sendable {
    func openIfKept(_ sealed: String, record: String, _ connection: Connection) throws -> String?
}

/// What a projection applies events through: the writer's (or the rebuild's) connection, inside its
/// transaction; the names its tables have in this run (shadow names while rebuilding); the vault, to
/// open the sealed content that read models show in the clear.
///
/// Not `Sendable`: it lives on the connection's executor for the length of one transaction.
public final class ProjectionContext {
    public let connection: Connection
    /// Opens sealed values; `nil` in a store without projections that need it (tests of the log).
    public let vault: (any SealedValueOpener)?
    private let names: [String: String]
    /// What producers of this transaction sealed, by sealed text: applied inline, a projection need not
    /// open (decrypt and parse) what was sealed a moment ago.
    private var opened: [String: JSONValue] = [:]
    /// Projections' working state, by type (see ``state(_:)``).
    private var states: [ObjectIdentifier: AnyObject] = [:]
    /// Writes held back to the end of the batch (see ``atBatchEnd(sql:_:)``).
    private var batchEndWrites = BatchEndWrites()
    /// The writer's memory, which keeps projections' rows across its batches (``carriedState(_:)``).
    private let memory: LogMemory?

    public init(connection: Connection, vault: (any SealedValueOpener)?, names: [String: String] = [:]) {
        self.connection = connection
        self.vault = vault
        self.names = names
        self.memory = nil
    }

    /// The writer's context: with its memory of what projections keep across batches.
    package init(connection: Connection, vault: (any SealedValueOpener)?, memory: LogMemory?) {
        self.connection = connection
        self.vault = vault
        self.names = [:]
        self.memory = memory
    }

    /// The name a projection's table has in this run.
    public func table(_ name: String) -> String { names[name] ?? name }

    /// Records what `sealed` holds, for ``openJSON(_:record:)``.
    package func know(_ value: JSONValue, sealedAs sealed: String) {
        opened[sealed] = value
    }

    /// Forgets what ``know(_:sealedAs:)`` recorded (a rebuild does after each chunk).
    package func forgetKnown() {
        opened.removeAll(keepingCapacity: true)
    }

    /// A projection's working state of type `State` in this run, made by `make` on first use: what it
    /// holds back until ``Projection/settle(_:)``, or hands to the projections after it.
    package func state<State: AnyObject>(_ make: () -> State) -> State {
        let key = ObjectIdentifier(State.self)
        if let existing = states[key] { return unsafeDowncast(existing, to: State.self) }
        let made = make()
        states[key] = made
        return made
    }

    /// A projection's state of type `State` kept across the writer's batches (``LogMemory``), made by
    /// `make` on first use; `nil` outside the writer (a rebuild). What it holds must be what the
    /// projection's tables hold once the batch commits: it is dropped on any rollback, and when another
    /// connection or a rebuild wrote between two batches.
    package func carriedState<State: AnyObject>(_ make: () -> State) -> State? {
        memory?.carried(make)
    }

    /// Drops every projection's working state: what a rolled-back append held back is not written.
    package func discardStates() {
        states.removeAll()
    }

    /// Runs a write at the end of the writer's batch (or of the rebuild's chunk) instead of now, after
    /// the commands' savepoints, in the order the writes were asked for; dropped with the command or
    /// append that asked for it when that is rolled back.
    ///
    /// For an FTS5 table: FTS5 writes its pending terms out as a new segment at every savepoint the
    /// transaction opens once it has written to the table (each command's in a batch run isolated, and
    /// each later statement that may need a statement journal, such as an upsert), so written inline,
    /// every message costs a segment and the merges that follow. Held back, a batch writes one.
    ///
    /// Related SQLite documentation: <https://www.sqlite.org/fts5.html#the_automerge_configuration_option>
    public func atBatchEnd(sql: String, _ arguments: [any SQLiteBindable]) {
        batchEndWrites.write(sql: sql, arguments)
    }

    /// Adds `amounts` to `columns` of the row of `table` whose `keyColumns` are `key` (inserting it
    /// with those amounts when there is none), at the end of the batch, summed with the batch's other
    /// increments of the row: one upsert a row a batch. `table` must have a unique constraint on
    /// `keyColumns`; nothing else held back may write it.
    public func incrementAtBatchEnd(
        _ table: String,
        keyColumns: [String],
        key: [any SQLiteBindable],
        keyText: String,
        columns: [String],
        by amounts: [Int64]
    ) {
        batchEndWrites.increment(
            .init(table: table, keyColumns: keyColumns, key: key, keyText: keyText, columns: columns, amounts: amounts)
        )
    }

    /// How many writes are held back (a mark to roll back to).
    package var batchEndMark: Int { batchEndWrites.mark }

    /// Drops the writes held back after `mark`: what asked for them was rolled back.
    package func discardBatchEndWrites(after mark: Int) {
        batchEndWrites.discard(after: mark)
    }

    /// Runs the writes held back, in order, then the summed increments.
    package func writeBatchEnd() throws(SQLiteError) {
        try batchEndWrites.flush(connection)
    }

    /// Opens a JSON value sealed under `record`'s key; `nil` once that key was shredded (erasure).
    public func openJSON(_ sealed: String, record: String) throws -> JSONValue? {
        if let known = opened[sealed] { return known }
        return try open(sealed, record: record).map(JSONValue.parse)
    }

    /// Opens a value sealed under `record`'s key; `nil` once that key was shredded (erasure).
    public func open(_ sealed: String, record: String) throws -> String? {
        guard let vault else { throw ProjectionError.vaultMissing }
        return try vault.openIfKept(sealed, record: record, connection)
    }
}

@available(*, unavailable)
extension ProjectionContext: Sendable {}

/// Why a projection could not apply an event.
public enum ProjectionError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The event's data lacks what the projection needs.
    case malformed(position: Int64, type: String, reason: String)
    case vaultMissing
    case unknownProjection(String)

    public var description: String {
        switch self {
        case .malformed(let position, let type, let reason):
            "event \(position) (\(type)) cannot be applied: \(reason)"
        case .vaultMissing: "this projection needs the master key to open sealed content"
        case .unknownProjection(let name): "no projection is named '\(name)'"
        }
    }
}
