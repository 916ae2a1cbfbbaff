/// What the writer knows of the log and its read models as of its last commit, carried from one batch
/// to the next: the last version of the streams it appended to, the ids of the names its events
/// carried, and what projections keep of their rows (``carried(_:)``). A message's append then neither
/// looks its conversation's stream version up nor its event type's name id, which the batch before it
/// already knew.
///
/// It is valid only while the database is as the writer left it, which ``begin(_:)`` checks at the
/// start of every batch, inside the write lock (``Mark``): against the log's tip, against
/// `PRAGMA data_version` (another connection committed: a `hubstore clients create` or a rebuild beside
/// a server), and against the rows the writer's connection changed since (a write through it outside
/// the writer's batches). If anything moved, the memory starts over.
///
/// Within a batch the transaction's own appends take precedence. A rolled-back command or append makes
/// the memory start over too (``forget()``): what it held for the streams appended earlier in the batch,
/// and what projections changed of what they carry, can no longer be told apart. Only a committed
/// batch is absorbed (``absorb(versions:names:mark:)``).
///
/// Bounded: once it holds `capacity` streams or names it starts over.
///
/// `@unchecked Sendable`: the writer owns it and touches it only on its connection's executor,
/// inside the batch's `perform`; nothing else reads it.
package final class LogMemory: @unchecked Sendable {
    /// The last version of each stream, as committed.
    private(set) var versions: [String: Int64] = [:]
    /// The id of each name in `event_names`, as committed (names are never removed once committed).
    private(set) var names: [String: Int64] = [:]
    /// Projections' rows as committed, by the type that keeps them (see ``carried(_:)``).
    private var states: [ObjectIdentifier: AnyObject] = [:]
    /// Where the database stood when the writer last committed; `nil` before the first commit and after
    /// a reset.
    private var mark: Mark?
    private let capacity: Int

    /// Where the database stands, as the writer's connection sees it inside its write lock.
    struct Mark: Equatable {
        /// The log's tip.
        var position: Int64
        var hash: [UInt8]
        /// The rows the connection has changed since it opened (`sqlite3_total_changes64`).
        var changes: Int64
        /// `PRAGMA data_version`: moves when another connection commits.
        var dataVersion: Int64
    }

    package init(capacity: Int = 16_384) {
        self.capacity = capacity
    }

    /// Starts a batch: the memory is kept only if the database stands where the writer's last commit
    /// left it.
    func begin(_ current: Mark) {
        if mark != current { forget() }
    }

    /// A projection's state of type `State` kept across batches, made by `make` when there is none:
    /// what it holds must be what the projection's tables hold once the batch commits (it is dropped
    /// with everything else on any rollback).
    func carried<State: AnyObject>(_ make: () -> State) -> State {
        let key = ObjectIdentifier(State.self)
        if let existing = states[key] { return unsafeDowncast(existing, to: State.self) }
        let made = make()
        states[key] = made
        return made
    }

    /// Drops everything: what it held may no longer be what the log says.
    func forget() {
        versions.removeAll(keepingCapacity: true)
        names.removeAll(keepingCapacity: true)
        states.removeAll()
        mark = nil
    }

    /// Takes in what a committed batch learnt: the versions it appended and the name ids it used, and
    /// where it left the database.
    func absorb(versions learnt: [String: Int64], names learntNames: [String: Int64], mark: Mark) {
        if versions.count + learnt.count > capacity { versions.removeAll(keepingCapacity: true) }
        if names.count + learntNames.count > capacity { names.removeAll(keepingCapacity: true) }
        versions.merge(learnt) { _, new in new }
        names.merge(learntNames) { _, new in new }
        self.mark = mark
    }
}
