/// Durations as operators write them on the command line: `250ms`, `5s`, `2m`, `24h` (a bare number
/// is seconds).
public enum DurationText {
    public static func parse(_ text: String) -> Duration? {
        let units: [(suffix: String, milliseconds: Double)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
        let unit = units.first { text.hasSuffix($0.suffix) }
        let number = unit.map { text.dropLast($0.suffix.count) } ?? Substring(text)
        guard let value = Double(number), value >= 0, value.isFinite else { return nil }
        // Int64(x) traps beyond Int64's range: a duration of more than 292 million years is refused instead.
        guard let milliseconds = Int64(exactly: (value * (unit?.milliseconds ?? 1000)).rounded(.down)) else {
            return nil
        }
        return .milliseconds(milliseconds)
    }
}

extension Duration {
    /// Whole milliseconds (truncated).
    public var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
