import ArgumentParser
import Foundation
import HubStore
import HubTools

extension HubStoreCommand {
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the log: the whole hash chain, gapless positions, per-stream versions.",
            discussion: """
                Safe on a data directory a running server is using: it reads one consistent snapshot. \
                Exit 0 and a one-line summary when intact; exit 1 and the first bad position with the \
                reason when not.
                """
        )

        @OptionGroup var dataOptions: DataOptions

        @Flag(help: "Print the result as one JSON object.")
        var json = false

        func run() async throws {
            let directory = DataDirectory(path: try dataOptions.resolvedData())
            let report = try await failingClearly {
                guard FileManager.default.fileExists(atPath: directory.databasePath) else {
                    throw CLIFailure("no hub.sqlite in \(directory.path): nothing to verify")
                }
                let progress = ProgressReporter(label: "verify", total: nil)
                let report = try await ChainVerifier(databasePath: directory.databasePath).verify { done, total in
                    progress.update(done, total: total)
                }
                if report.eventCount >= 100_000 { progress.finish(report.eventCount) }
                return report
            }
            if json {
                var fields: [String: Any] = [
                    "intact": report.isIntact, "events": report.eventCount, "streams": report.streamCount,
                    "lastPosition": report.lastPosition,
                ]
                if let failure = report.failure {
                    fields["failedPosition"] = failure.position
                    fields["reason"] = failure.reason
                }
                let data = try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else if let failure = report.failure {
                print("FAILED at \(failure) (\(report.eventCount) events before it verified)")
            } else if report.eventCount == 0 {
                print("ok: the log is empty")
            } else {
                print(
                    "ok: \(report.eventCount) events in \(report.streamCount) streams, "
                        + "positions 1...\(report.lastPosition) gapless, hash chain intact"
                )
            }
            if !report.isIntact { throw ExitCode.failure }
        }
    }
}

/// A failure the CLI reports as one plain line.
struct CLIFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) { self.description = description }
}
