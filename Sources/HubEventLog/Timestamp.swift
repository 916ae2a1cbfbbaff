/// `2021-03-06T21:16:36.838Z`: ISO 8601 UTC with milliseconds (spec §1.3). Done by hand: Foundation's
/// `ISO8601DateFormatter` costs tens of microseconds a call, and every message is stamped several times.
public enum Timestamp {
    public static func format(_ milliseconds: Int64) -> String {
        let (days, dayMilliseconds) = milliseconds.quotientAndRemainderFlooring(86_400_000)
        let (year, month, day) = civil(fromDays: days)
        let seconds = dayMilliseconds / 1000
        guard (0...9999).contains(year) else {
            return formatAnyYear(year: year, month: month, day: day, dayMilliseconds: dayMilliseconds)
        }
        // Written digit by digit into the string's own bytes: formatting is on every row a query or a
        // callback shows, and each `String(Int)` and append costs more than the whole text.
        return String(unsafeUninitializedCapacity: 24) { text in
            func put(_ value: Int64, width: Int, at offset: Int) {
                var value = value
                for index in (offset..<offset + width).reversed() {
                    text[index] = 0x30 + UInt8(truncatingIfNeeded: value % 10)
                    value /= 10
                }
            }
            put(year, width: 4, at: 0)
            text[4] = 0x2D
            put(month, width: 2, at: 5)
            text[7] = 0x2D
            put(day, width: 2, at: 8)
            text[10] = 0x54
            put(seconds / 3600, width: 2, at: 11)
            text[13] = 0x3A
            put(seconds / 60 % 60, width: 2, at: 14)
            text[16] = 0x3A
            put(seconds % 60, width: 2, at: 17)
            text[19] = 0x2E
            put(dayMilliseconds % 1000, width: 3, at: 20)
            text[23] = 0x5A
            return 24
        }
    }

    /// A year before 0 or after 9999 (a time no client sends, but a number can say).
    private static func formatAnyYear(year: Int64, month: Int64, day: Int64, dayMilliseconds: Int64) -> String {
        let seconds = dayMilliseconds / 1000
        var text = ""
        append(year, width: 4, to: &text)
        text += "-"
        append(month, width: 2, to: &text)
        text += "-"
        append(day, width: 2, to: &text)
        text += "T"
        append(seconds / 3600, width: 2, to: &text)
        text += ":"
        append(seconds / 60 % 60, width: 2, to: &text)
        text += ":"
        append(seconds % 60, width: 2, to: &text)
        text += "."
        append(dayMilliseconds % 1000, width: 3, to: &text)
        text += "Z"
        return text
    }

    /// Milliseconds since 1970 of an RFC 3339 time (`Z` or `±hh:mm`, fraction optional); `nil` otherwise.
    public static func milliseconds(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int64? {
            guard range.upperBound <= bytes.count else { return nil }
            var value: Int64 = 0
            for index in range {
                guard bytes[index] >= 0x30, bytes[index] <= 0x39 else { return nil }
                value = value * 10 + Int64(bytes[index] - 0x30)
            }
            return value
        }
        guard bytes.count >= 20, let year = number(0..<4), bytes[4] == 0x2D, let month = number(5..<7),
            bytes[7] == 0x2D, let day = number(8..<10), bytes[10] == 0x54 || bytes[10] == 0x74,
            let hour = number(11..<13), bytes[13] == 0x3A, let minute = number(14..<16), bytes[16] == 0x3A,
            let second = number(17..<19), (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60,
            second < 61
        else { return nil }
        var index = 19
        var fraction: Int64 = 0
        if index < bytes.count, bytes[index] == 0x2E {
            index += 1
            var digits = 0
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                if digits < 3 { fraction = fraction * 10 + Int64(bytes[index] - 0x30) }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            if digits < 3 { for _ in digits..<3 { fraction *= 10 } }
        }
        guard index < bytes.count else { return nil }
        var offsetMinutes: Int64 = 0
        switch bytes[index] {
        case 0x5A, 0x7A:
            index += 1
        case 0x2B, 0x2D:
            guard let offsetHours = number(index + 1..<index + 3), index + 3 < bytes.count, bytes[index + 3] == 0x3A,
                let offsetMinute = number(index + 4..<index + 6)
            else { return nil }
            offsetMinutes = (offsetHours * 60 + offsetMinute) * (bytes[index] == 0x2D ? -1 : 1)
            index += 6
        default: return nil
        }
        guard index == bytes.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetMinutes * 60
        return seconds * 1000 + fraction
    }

    private static func append(_ value: Int64, width: Int, to text: inout String) {
        let digits = String(value)
        if digits.count < width { text += String(repeating: "0", count: width - digits.count) }
        text += digits
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    package static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date of a day count since 1970-01-01 (`civil_from_days`).
    package static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

extension Int64 {
    /// Quotient and a non-negative remainder.
    fileprivate func quotientAndRemainderFlooring(_ divisor: Int64) -> (Int64, Int64) {
        let (quotient, remainder) = quotientAndRemainder(dividingBy: divisor)
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }
}
