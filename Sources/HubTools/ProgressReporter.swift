import Foundation
import Synchronization

/// Progress of long work on standard error: count, rate and ETA — redrawn in place on a terminal,
/// as plain lines (at most every two seconds) otherwise.
public final class ProgressReporter: Sendable {
    private let label: String
    private let total: Mutex<Int64?>
    private let isTerminal: Bool
    private let clock = ContinuousClock()
    private let started: ContinuousClock.Instant
    private let lastPrinted: Mutex<ContinuousClock.Instant>

    public init(label: String, total: Int64?, isTerminal: Bool? = nil) {
        self.label = label
        self.total = Mutex(total)
        self.isTerminal = isTerminal ?? (isatty(STDERR_FILENO) == 1)
        self.started = clock.now
        self.lastPrinted = Mutex(clock.now)
    }

    /// Reports `count` units done (throttled); `total` updates the expected total when it becomes known.
    public func update(_ count: Int64, total newTotal: Int64? = nil) {
        if let newTotal { total.withLock { $0 = newTotal } }
        // The last unit is reported by `finish`, once.
        if total.withLock({ $0 }) == count { return }
        let now = clock.now
        let interval: Duration = isTerminal ? .milliseconds(200) : .seconds(2)
        let due = lastPrinted.withLock { last in
            guard last.duration(to: now) >= interval else { return false }
            last = now
            return true
        }
        guard due else { return }
        emit(line(count, now: now), final: false)
    }

    /// Reports the final count.
    public func finish(_ count: Int64) {
        emit(line(count, now: clock.now), final: true)
    }

    func line(_ count: Int64, now: ContinuousClock.Instant) -> String {
        let elapsed = max(AppendBenchmark.seconds(started.duration(to: now)), 1e-6)
        let rate = Double(count) / elapsed
        let total = total.withLock { $0 }
        var text = "\(label): \(count)"
        if let total, total > 0 {
            text += "/\(total) (\(Int(Double(count) * 100 / Double(total)))%)"
        }
        text += String(format: ", %.0f/s", rate)
        if let total, rate > 0, count < total {
            text += String(format: ", ETA %.0fs", Double(total - count) / rate)
        } else {
            text += String(format: ", %.1fs", elapsed)
        }
        return text
    }

    private func emit(_ text: String, final: Bool) {
        let output = isTerminal ? "\r\u{1B}[2K" + text + (final ? "\n" : "") : text + "\n"
        FileHandle.standardError.write(Data(output.utf8))
    }
}
