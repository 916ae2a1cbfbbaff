import HummingbirdCore
import NIOCore
import Synchronization

/// Every open connection and whether it is idle (no request being read or answered), so that past
/// the maximum the one idle longest can be closed to make room for a new one.
///
/// Shared by the connections' event loops, behind a lock; each operation is a few dictionary steps.
final class ConnectionRegistry: Sendable {
    private struct Entry {
        let channel: any Channel
        /// When it became idle; `nil` while a request is in progress (or it is being closed).
        var idleSince: ContinuousClock.Instant?
    }

    private struct State {
        var entries: [ObjectIdentifier: Entry] = [:]
        var idleCount = 0
    }

    let maximum: Int
    private let state = Mutex(State())

    init(maximum: Int) {
        self.maximum = max(1, maximum)
    }

    /// Connections open now.
    var count: Int { state.withLock { $0.entries.count } }

    /// Whether a new connection may be accepted: below the maximum, or one is idle and can make room.
    var acceptsMore: Bool { state.withLock { $0.entries.count < maximum || $0.idleCount > 0 } }

    /// Registers a new (idle) connection; past the maximum, returns the connection idle longest, which
    /// the caller closes.
    func opened(_ channel: any Channel) -> (any Channel)? {
        let id = ObjectIdentifier(channel)
        return state.withLock { state in
            state.entries[id] = Entry(channel: channel, idleSince: .now)
            state.idleCount += 1
            guard state.entries.count > maximum else { return nil }
            var oldest: (id: ObjectIdentifier, since: ContinuousClock.Instant)?
            for (other, entry) in state.entries where other != id {
                if let since = entry.idleSince, since < oldest?.since ?? .now { oldest = (other, since) }
            }
            guard let oldest, let victim = state.entries[oldest.id] else { return nil }
            // Not idle any more: it is closing, and must not be chosen twice.
            state.entries[oldest.id]?.idleSince = nil
            state.idleCount -= 1
            return victim.channel
        }
    }

    /// Marks a connection busy (a request started) or idle (its last response was written).
    func setIdle(_ id: ObjectIdentifier, _ idle: Bool) {
        state.withLock { state in
            guard let entry = state.entries[id], (entry.idleSince != nil) != idle else { return }
            state.entries[id]?.idleSince = idle ? .now : nil
            state.idleCount += idle ? 1 : -1
        }
    }

    func closed(_ id: ObjectIdentifier) {
        state.withLock { state in
            if state.entries.removeValue(forKey: id)?.idleSince != nil { state.idleCount -= 1 }
        }
    }
}

/// Tells Hummingbird's accept loop whether to accept: it stops reading from the listening socket
/// while ``ConnectionRegistry/acceptsMore`` is false (new connections then wait in the backlog,
/// using no descriptor) and looks again whenever a connection closes.
struct RegistryAvailability: AvailableConnectionsDelegate {
    let registry: ConnectionRegistry

    mutating func connectionOpened() {}
    mutating func connectionClosed() {}
    func isAcceptingNewConnections() -> Bool { registry.acceptsMore }
}
