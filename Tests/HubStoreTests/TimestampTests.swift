import Foundation
import HubCommands
@_spi(Storage) import HubEventLog
import HubReadModels
import HubVault
import Testing

struct TimestampTests {
    static func reference(_ milliseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }

    @Test func formatsLikeFoundationAndParsesBack() {
        var generator = SystemRandomNumberGenerator()
        let samples: [Int64] =
            [0, 1, 999, 86_399_999, 951_782_400_000, 1_617_145_089_533, 4_102_444_800_000]
            + (0..<2000).map { _ in Int64.random(in: 0...4_102_444_800_000, using: &generator) }
        for milliseconds in samples {
            let text = Timestamp.format(milliseconds)
            #expect(text == Self.reference(milliseconds))
            #expect(Timestamp.milliseconds(text) == milliseconds)
        }
    }

    @Test func formatsTimesBefore1970AndYearsOfOtherWidths() {
        for milliseconds: Int64 in [-1, -86_400_000, -12_219_292_800_000, 253_402_300_799_999] {
            #expect(Timestamp.format(milliseconds) == Self.reference(milliseconds))
        }
        // Proleptic Gregorian, as RFC 3339 has it (Foundation's formatter is Julian before 1582).
        #expect(Timestamp.format(-62_135_596_800_000) == "0001-01-01T00:00:00.000Z")
        // Past year 9999 the year takes the digits it needs.
        #expect(Timestamp.format(253_402_300_800_000) == "10000-01-01T00:00:00.000Z")
    }

    @Test func parsesRFC3339VariantsAndRefusesTheRest() {
        #expect(Timestamp.milliseconds("2021-03-30T22:58:09Z") == 1_617_145_089_000)
        #expect(Timestamp.milliseconds("2021-03-30T22:58:09.5Z") == 1_617_145_089_500)
        #expect(Timestamp.milliseconds("2021-03-30T22:58:09.533123Z") == 1_617_145_089_533)
        #expect(Timestamp.milliseconds("2021-03-31T00:58:09.533+02:00") == 1_617_145_089_533)
        #expect(Timestamp.milliseconds("2021-03-30T20:58:09.533-02:00") == 1_617_145_089_533)
        for bad in [
            "", "2021-03-30", "2021-03-30T22:58:09", "2021-13-30T22:58:09Z", "2021-03-30T22:58:09.Z",
            "2021-03-30T22:58:09Zjunk", "yesterday", "2021-03-30 22:58:09Z",
        ] {
            #expect(Timestamp.milliseconds(bad) == nil, "\(bad)")
        }
    }
}
