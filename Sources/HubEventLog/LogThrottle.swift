import Synchronization

/// Lets one log line per kind of event through per interval, and counts the ones it held back, so
/// a failure that repeats thousands of times a second (a full disk under load) logs once a second
/// with a count instead of flooding the log.
package final class LogThrottle: Sendable {
    private struct Entry {
        var lastLogged: ContinuousClock.Instant
        var suppressed: Int
    }

    private let interval: Duration
    private let entries = Mutex<[String: Entry]>([:])

    package init(interval: Duration = .seconds(1)) {
        self.interval = interval
    }

    /// Whether a line of `kind` may be logged now: `nil` to drop it (it is counted), otherwise the
    /// number of lines of that kind dropped since the last one logged.
    package func admit(_ kind: String, now: ContinuousClock.Instant = .now) -> Int? {
        entries.withLock { entries in
            guard var entry = entries[kind] else {
                entries[kind] = Entry(lastLogged: now, suppressed: 0)
                return 0
            }
            guard entry.lastLogged.duration(to: now) >= interval else {
                entry.suppressed += 1
                entries[kind] = entry
                return nil
            }
            let suppressed = entry.suppressed
            entries[kind] = Entry(lastLogged: now, suppressed: 0)
            return suppressed
        }
    }
}
