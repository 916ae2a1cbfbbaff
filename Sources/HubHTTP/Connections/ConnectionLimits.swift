import Foundation

/// How `hubstore serve` keeps connections from exhausting it (README, Connections): idle connections
/// close, a request must arrive whole within a time limit, and the number of open connections stays
/// well under the process's open-file limit, with room left for the database, files and callbacks.
public struct ConnectionLimits: Sendable {
    /// A keep-alive connection with no request in progress closes after this long.
    public var idleTimeout: Duration
    /// A request's headers and body must arrive within this long of its first byte.
    public var requestTimeout: Duration
    /// The most connections open at once; `nil` for the default (``defaultMaxConnections(fileLimit:)``).
    /// Never more than ``connectionBudget(fileLimit:)``. Beyond it the connection idle longest is closed
    /// to make room, or, with none idle, new connections wait in the listen backlog.
    public var maxConnections: Int?

    public init(
        idleTimeout: Duration = .seconds(60),
        requestTimeout: Duration = .seconds(60),
        maxConnections: Int? = nil
    ) {
        self.idleTimeout = idleTimeout
        self.requestTimeout = requestTimeout
        self.maxConnections = maxConnections
    }

    /// The most connections the process can hold without running out of descriptors: 256 kept for the
    /// database, the event loops and outgoing callbacks (up to 128 at once), and then two for each
    /// connection (its socket, and an upload's file); at least 16. Running out is fatal, not merely
    /// refused: libdispatch's worker-pool monitor reads `/proc/<tid>/stat` every second and traps when
    /// it cannot open it (SIGILL, "workq: registered worker exited prematurely").
    public static func connectionBudget(fileLimit: UInt64) -> Int {
        max(16, (Int(clamping: fileLimit) - 256) / 2)
    }

    /// The default: the budget, at most 10,000.
    public static func defaultMaxConnections(fileLimit: UInt64) -> Int {
        min(10_000, connectionBudget(fileLimit: fileLimit))
    }

    /// The maximum in force for `fileLimit`: the one asked for (or the default), within the budget.
    public func effectiveMaxConnections(fileLimit: UInt64) -> Int {
        min(
            maxConnections ?? Self.defaultMaxConnections(fileLimit: fileLimit),
            Self.connectionBudget(fileLimit: fileLimit)
        )
    }
}

/// The process's open-file limit (`RLIMIT_NOFILE`).
public enum FileDescriptorLimit {
    /// Raises the soft limit to the hard limit (the most an unprivileged process may); returns the soft
    /// limit in force afterwards.
    @discardableResult
    public static func raiseToHardLimit() -> UInt64 {
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return 0 }
        guard limit.rlim_cur < limit.rlim_max else { return UInt64(limit.rlim_cur) }
        var raised = limit
        raised.rlim_cur = limit.rlim_max
        if setrlimit(resource, &raised) != 0 {
            // macOS refuses more than OPEN_MAX when the hard limit is unlimited.
            raised.rlim_cur = min(limit.rlim_max, 10_240)
            if setrlimit(resource, &raised) != 0 { return UInt64(limit.rlim_cur) }
        }
        return UInt64(raised.rlim_cur)
    }

    /// The soft limit in force.
    public static var current: UInt64 {
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return 0 }
        return UInt64(limit.rlim_cur)
    }

    #if os(Linux)
    private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    private static let resource = RLIMIT_NOFILE
    #endif
}

extension FileDescriptorLimit {
    /// Makes libdispatch create its event loop's descriptors (epoll, eventfd, one timerfd per clock)
    /// now. It creates them lazily, at the first timer of each clock, and traps when it cannot: with
    /// every descriptor taken by connections, that first timer killed the process (SIGILL).
    public static func primeDispatchTimers() async {
        try? await Task.sleep(for: .milliseconds(1), clock: .continuous)
        try? await Task.sleep(for: .milliseconds(1), clock: .suspending)
        await withCheckedContinuation { continuation in
            DispatchQueue.global().asyncAfter(wallDeadline: .now() + .milliseconds(1)) { continuation.resume() }
        }
        await withCheckedContinuation { continuation in
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(1)) { continuation.resume() }
        }
    }
}
