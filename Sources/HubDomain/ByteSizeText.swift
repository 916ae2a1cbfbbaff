/// Sizes as operators write them on the command line: `25MiB`, `512KiB`, `1GiB`, `25M`, `4096` (a bare
/// number is bytes; `K`, `M`, `G` are binary multiples like `KiB`, `MiB`, `GiB`).
public enum ByteSizeText {
    public static func parse(_ text: String) -> Int64? {
        let units: [(suffix: String, bytes: Int64)] = [
            ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30),
            ("B", 1),
        ]
        let unit = units.first { text.hasSuffix($0.suffix) }
        let digits = unit.map { text.dropLast($0.suffix.count) } ?? Substring(text)
        guard !digits.isEmpty, digits.allSatisfy({ $0 >= "0" && $0 <= "9" }), let number = Int64(digits) else {
            return nil
        }
        let (bytes, overflow) = number.multipliedReportingOverflow(by: unit?.bytes ?? 1)
        return overflow ? nil : bytes
    }

    /// `bytes` for people: `512 B`, `3.4 MiB`.
    public static func format(_ bytes: Int64) -> String {
        let units: [(suffix: String, bytes: Double)] = [("GiB", 1_073_741_824), ("MiB", 1_048_576), ("KiB", 1024)]
        guard let unit = units.first(where: { Double(bytes) >= $0.bytes }) else { return "\(bytes) B" }
        let value = Double(bytes) / unit.bytes
        let rounded = (value * 10).rounded() / 10
        return (rounded == rounded.rounded() ? "\(Int(rounded))" : "\(rounded)") + " " + unit.suffix
    }
}
