import HubDomain
import Testing

struct DurationTextTests {
    @Test(arguments: [
        ("250ms", Duration.milliseconds(250)), ("5s", .seconds(5)), ("2m", .seconds(120)), ("24h", .seconds(86_400)),
        ("1.5s", .milliseconds(1500)), ("7", .seconds(7)),
    ])
    func parsesUnits(_ text: String, _ expected: Duration) {
        #expect(DurationText.parse(text) == expected)
    }

    @Test(arguments: ["", "soon", "-1s", "1d", "inf", "5 s", "1e300s", "1e300", "9999999999999999h", "nan"])
    func refusesTheRest(_ text: String) {
        #expect(DurationText.parse(text) == nil)
    }

    @Test func millisecondsTruncate() {
        #expect(Duration.milliseconds(1500).milliseconds == 1500)
        #expect(Duration.microseconds(2999).milliseconds == 2)
        #expect(Duration.seconds(86_400).milliseconds == 86_400_000)
    }
}

struct ByteSizeTextTests {
    @Test(arguments: [
        ("25MiB", Int64(25 << 20)), ("25M", 25 << 20), ("512KiB", 512 << 10), ("1GiB", 1 << 30), ("4096", 4096),
        ("10B", 10),
    ])
    func parsesUnits(_ text: String, _ expected: Int64) {
        #expect(ByteSizeText.parse(text) == expected)
    }

    @Test(arguments: ["", "MiB", "-1", "1.5MiB", "lots", "99999999999GiB", "9223372036854775808", "+5", "1e3"])
    func refusesTheRest(_ text: String) {
        #expect(ByteSizeText.parse(text) == nil)
    }
}
