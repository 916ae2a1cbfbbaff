/// What the writer knows of the log as of its last commit, carried from one batch to the next: the
/// last version of the streams it appended to, and the ids of the names its events carried. A
/// message's append then neither looks its conversation's stream version up nor its event type's
/// name id, which the batch before it already knew.
///
/// It is valid only while the log is as the writer left it, which ``begin(tip:)`` checks at the start
/// of every batch against the tip read inside the write lock: another connection that appended (a
/// `hubstore clients create` beside a server, another process) moved the tip, and the memory starts
/// over. Within a batch the transaction's own appends take precedence; a command rolled back after
/// it appended makes the memory start over too (``forget()``), since what it held for the streams
/// appended earlier in the batch can no longer be told apart. Only a committed batch is absorbed
/// (``absorb(versions:names:tip:)``).
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
    /// The log's tip when the writer last committed; `nil` before the first commit and after a reset.
    private var tip: (position: Int64, hash: [UInt8])?
    private let capacity: Int

    package init(capacity: Int = 16_384) {
        self.capacity = capacity
    }

    /// Starts a batch whose transaction read `tip`: the memory is kept only if the tip is the one the
    /// writer committed last.
    func begin(tip current: (position: Int64, hash: [UInt8])) {
        guard let tip, tip.position == current.position, tip.hash == current.hash else {
            forget()
            return
        }
    }

    /// Drops everything: what it held may no longer be what the log says.
    func forget() {
        versions.removeAll(keepingCapacity: true)
        names.removeAll(keepingCapacity: true)
        tip = nil
    }

    /// Takes in what a committed batch learnt: the versions it appended and the name ids it used, and
    /// the tip it left.
    func absorb(versions learnt: [String: Int64], names learntNames: [String: Int64], tip: (Int64, [UInt8])) {
        if versions.count + learnt.count > capacity { versions.removeAll(keepingCapacity: true) }
        if names.count + learntNames.count > capacity { names.removeAll(keepingCapacity: true) }
        versions.merge(learnt) { _, new in new }
        names.merge(learntNames) { _, new in new }
        self.tip = tip
    }
}
