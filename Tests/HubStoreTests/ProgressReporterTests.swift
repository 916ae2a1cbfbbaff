import Testing

@testable import HubTools

struct ProgressReporterTests {
    @Test func aLineShowsCountTotalRateAndETA() {
        let reporter = ProgressReporter(label: "verify", total: 1000, isTerminal: false)
        let clock = ContinuousClock()
        let line = reporter.line(250, now: clock.now.advanced(by: .seconds(1)))
        #expect(line.hasPrefix("verify: 250/1000 (25%), "))
        #expect(line.contains("/s, ETA "))
        let done = reporter.line(1000, now: clock.now.advanced(by: .seconds(2)))
        #expect(done.hasPrefix("verify: 1000/1000 (100%), "))
        #expect(!done.contains("ETA"))
    }
}
