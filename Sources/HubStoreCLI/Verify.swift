import ArgumentParser
import Foundation
import HubCommands
import HubEventLog
import HubReadModels
import HubTools
import HubVault

extension HubStoreCommand {
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the log: the whole hash chain, gapless positions, per-stream versions, signed heads.",
            discussion: """
                Safe on a data directory a running server is using: it reads one consistent snapshot. \
                Every signed checkpoint of the head the server recorded is checked (its signature, with the \
                master key, and the log's hash at its position): a log cut short or rewritten fails. \
                Exit 0 and a one-line summary when intact; exit 1 and the first bad position with the \
                reason when not.
                """
        )

        @OptionGroup var dataOptions: DataOptions

        @Flag(help: "Print the result as one JSON object.")
        var json = false

        @Option(
            name: .customLong("expect-head"),
            help: """
                A head recorded outside the data directory, POSITION:HASH (as GET /v1/log/head gives it): \
                the log must reach POSITION and have HASH there.
                """
        )
        var expectHead: String?

        @Option(help: "Check an export bundle (a directory or .tar) instead of a data directory, without importing it.")
        var bundle: String?

        @Flag(
            help: """
                Also rebuild every projection from the log into a scratch database and compare each table \
                with the live one (as of one snapshot): exit 1 at the first table that differs.
                """
        )
        var projections = false

        func run() async throws {
            if let bundle {
                try await verify(bundle: bundle)
                return
            }
            let directory = DataDirectory(path: try dataOptions.resolvedData())
            let expectedHead = try expectHead.map(Self.parseHead)
            let report = try await failingClearly {
                guard FileManager.default.fileExists(atPath: directory.databasePath) else {
                    throw CLIFailure("no hub.sqlite in \(directory.path): nothing to verify")
                }
                let progress = ProgressReporter(label: "verify", total: nil)
                let verifier = ChainVerifier(
                    databasePath: directory.databasePath,
                    checkpointKey: try Self.existingMasterKey(directory).map(LogHeadKey.init(masterKey:)),
                    expectedHead: expectedHead
                )
                let report = try await verifier.verify { done, total in
                    progress.update(done, total: total)
                }
                if report.eventCount >= 100_000 { progress.finish(report.eventCount) }
                return report
            }
            if json {
                var fields: [String: Any] = [
                    "intact": report.isIntact, "events": report.eventCount, "streams": report.streamCount,
                    "lastPosition": report.lastPosition, "checkpoints": report.checkpointCount,
                ]
                if let latest = report.latestCheckpoint { fields["latestCheckpoint"] = latest }
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
                var summary =
                    "ok: \(report.eventCount) events in \(report.streamCount) streams, "
                    + "positions 1...\(report.lastPosition) gapless, hash chain intact"
                if let latest = report.latestCheckpoint {
                    summary += "; \(report.checkpointCount) signed checkpoints, the latest at position \(latest)"
                }
                if let expectedHead { summary += "; head \(expectedHead.position) as expected" }
                print(summary)
            }
            if !report.isIntact { throw ExitCode.failure }
            if projections { try await verifyProjections(directory) }
        }

        /// `--projections`: the read models against a rebuild of the log.
        func verifyProjections(_ directory: DataDirectory) async throws {
            let verification = try await failingClearly {
                guard let masterKey = try Self.existingMasterKey(directory) else {
                    throw CLIFailure("--projections needs the master key (master.key or HUBSTORE_MASTER_KEY)")
                }
                let registry = HubProjections.registry(vault: SecretVault(masterKey: masterKey))
                Self.removeAbandonedScratch()
                let scratch = FileManager.default.temporaryDirectory
                    .appendingPathComponent("hubstore-verify-\(getpid())-\(UInt32.random(in: 0 ... .max)).sqlite").path
                let progress = ProgressReporter(label: "verify projections", total: nil)
                return try await ProjectionCheck.run(registry, databasePath: directory.databasePath, scratch: scratch) {
                    progress.update($0.applied, total: $0.tip)
                }
            }
            if let mismatch = verification.firstMismatch {
                print(
                    "FAILED: projection \(mismatch.projection), table \(mismatch.live.table) differs from the log "
                        + "(live \(mismatch.live.rows) rows, rebuilt \(mismatch.rebuilt.rows))"
                )
                if let difference = mismatch.difference { print("  " + difference) }
                throw ExitCode.failure
            }
            let tables = verification.entries.map { "\($0.live.table) \($0.live.rows)" }.joined(separator: ", ")
            print("ok: projections equal a rebuild from the log at position \(verification.position) (\(tables))")
        }

        /// `POSITION:HASH`, the hash as 64 hexadecimal digits.
        static func parseHead(_ text: String) throws -> (position: Int64, hash: [UInt8]) {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, let position = Int64(parts[0]), position >= 1,
                let hash = parts[1].hexDecoded, hash.count == 32
            else {
                throw ValidationError("--expect-head must look like POSITION:HASH (64 hex digits); got '\(text)'")
            }
            return (position, hash)
        }

        /// The data directory's master key when there is one (never creates it).
        /// `--bundle`: the chain, the manifest and the digests of an export bundle.
        private func verify(bundle: String) async throws {
            let outcome = try await onOwnThread {
                let progress = ProgressReporter(label: "verify bundle", total: nil)
                do {
                    let report = try BundleVerifier(path: bundle).run { done, total in
                        progress.update(done, total: total)
                    }
                    return Result<BundleVerifier.Report, BundleError>.success(report)
                } catch let error as BundleError {
                    return .failure(error)
                }
            }
            switch outcome {
            case .success(let report):
                let manifest = report.manifest
                if json {
                    print(
                        try Export.json([
                            "intact": true, "events": manifest.events, "lastPosition": manifest.lastPosition,
                            "headHash": manifest.headHash, "filtered": manifest.filtered,
                        ])
                    )
                } else {
                    print(
                        "ok: \(manifest.events) events (positions \(manifest.firstPosition)...\(manifest.lastPosition)"
                            + "\(manifest.filtered ? ", filtered" : "")) match the chain, the manifest and its digests; "
                            + "\(manifest.assets.count) assets intact"
                    )
                }
            case .failure(let error):
                if json {
                    print(try Export.json(["intact": false, "reason": error.description]))
                } else {
                    print("FAILED: \(error.description)")
                }
                throw ExitCode(1)
            }
        }

        /// Scratch databases of earlier `verify --projections` runs that were killed (their process is gone).
        static func removeAbandonedScratch() {
            let directory = FileManager.default.temporaryDirectory.path
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
                let parts = name.split(separator: "-")
                guard name.hasPrefix("hubstore-verify-"), parts.count >= 4, let pid = Int32(parts[2]),
                    pid != getpid(), kill(pid, 0) != 0, errno == ESRCH
                else { continue }
                try? FileManager.default.removeItem(atPath: directory + "/" + name)
            }
        }

        static func existingMasterKey(_ directory: DataDirectory) throws -> MasterKey? {
            let environment = ProcessInfo.processInfo.environment["HUBSTORE_MASTER_KEY"] ?? ""
            guard !environment.isEmpty || FileManager.default.fileExists(atPath: directory.path + "/master.key") else {
                return nil
            }
            return try MasterKey.load(directory: directory)
        }
    }
}

/// A failure the CLI reports as one plain line.
struct CLIFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) { self.description = description }
}
