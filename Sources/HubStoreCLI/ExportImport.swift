import ArgumentParser
import Foundation
import HubEventLog
import HubTools

extension HubStoreCommand {
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the log as an export bundle: NDJSON events, wrapped data keys, asset bytes, a manifest.",
            discussion: """
                Reads one snapshot of the data directory (safe beside a running server). --out is a new or \
                empty directory, or a single file when it ends in .tar. Sealed content and secrets stay \
                sealed; the bundle carries the data keys wrapped under the source's master key. Filters \
                make a partial export that says so in its manifest and carries each event's previousHash, \
                so `hubstore verify --bundle` can still check every event against the chain. \
                --format csv or parquet writes the analysts' views instead (analytics_conversations.csv \
                and analytics_messages.csv, or .parquet) into --out, filtered by --account and by --from \
                and --to as RFC 3339 times (a conversation's start, a message's creation).
                """
        )

        enum Format: String, ExpressibleByArgument, CaseIterable {
            case bundle, csv, parquet
        }

        @OptionGroup var dataOptions: DataOptions

        @Option(help: "The bundle: a directory, or a file ending in .tar.")
        var out: String

        @Option(help: "Only events of this account.")
        var account: String?

        @Option(help: "Only events from here: a log position, or an RFC 3339 time.")
        var from: String?

        @Option(help: "Only events up to here: a log position, or an RFC 3339 time.")
        var to: String?

        @Option(help: "Only events of these types (comma-separated).")
        var types: String?

        @Option(help: "bundle (the log), or csv or parquet (the analysts' views).")
        var format: Format = .bundle

        @Flag(help: "Print the manifest's summary as one JSON object.")
        var json = false

        func validate() throws {
            guard format != .bundle else { return }
            if types != nil { throw ValidationError("--types filters the log's events: it goes with --format bundle") }
            for (name, text) in [("--from", from), ("--to", to)] where text.flatMap(Int64.init) != nil {
                throw ValidationError("\(name) of the views is an RFC 3339 time, not a position")
            }
        }

        func run() async throws {
            let source = try dataOptions.resolvedData()
            if format != .bundle { return try await exportViews(from: source) }
            var filters = ExportManifest.Filters()
            filters.account = account
            for (text, isFrom) in [(from, true), (to, false)] {
                guard let text else { continue }
                if let position = Int64(text) {
                    if isFrom { filters.fromPosition = position } else { filters.toPosition = position }
                } else if isFrom {
                    filters.fromTime = text
                } else {
                    filters.toTime = text
                }
            }
            filters.types = types.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
            let exporter = BundleExporter(dataDirectory: source, out: out, filters: filters)
            let result = try await failingClearly {
                try await onOwnThread {
                    let progress = ProgressReporter(label: "export", total: nil)
                    let result = try exporter.run { done, total in progress.update(done, total: total) }
                    progress.finish(result.manifest.events)
                    return result
                }
            }
            let manifest = result.manifest
            if json {
                print(
                    try Self.json([
                        "out": out, "events": manifest.events, "first_position": manifest.firstPosition,
                        "last_position": manifest.lastPosition, "head_hash": manifest.headHash,
                        "filtered": manifest.filtered, "keys": manifest.keys, "assets": manifest.assets.count,
                        "seconds": (result.seconds * 1000).rounded() / 1000,
                    ])
                )
                return
            }
            print(
                "exported \(manifest.events) events (positions \(manifest.firstPosition)...\(manifest.lastPosition)"
                    + "\(manifest.filtered ? ", filtered" : "")) to \(out)"
            )
            print("head hash \(manifest.headHash); \(manifest.keys) data keys; \(manifest.assets.count) assets")
            print(
                String(
                    format: "took %.2f s (%.0f events/s)",
                    result.seconds,
                    Double(manifest.events) / max(result.seconds, 1e-9)
                )
            )
        }

        private func exportViews(from source: String) async throws {
            let exporter = ViewExporter(
                dataDirectory: source,
                out: out,
                format: format == .csv ? .csv : .parquet,
                account: account,
                since: from,
                until: to
            )
            let files = try await failingClearly { try await onOwnThread { try exporter.run() } }
            if json {
                print(
                    try Self.json([
                        "out": out, "files": Dictionary(uniqueKeysWithValues: files.map { ($0.file, $0.rows) }),
                    ])
                )
            } else {
                for (file, rows) in files { print("\(rows) rows to \(out)/\(file)") }
            }
        }

        static func json(_ object: [String: Any]) throws -> String {
            String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make an exact copy of an exported log in a new data directory, and build its read models.",
            discussion: """
                Checks the whole bundle first (chain, manifest, file and asset digests) and refuses it with \
                the reason when anything is wrong, and refuses a --data that is not empty. Positions, ids \
                and hashes are kept; assets are restored; the data keys are re-wrapped under the new \
                directory's master key, which needs the source's (--master-key-file). The read models are \
                then rebuilt from the imported log.
                """
        )

        @OptionGroup var dataOptions: DataOptions

        @Option(name: .customLong("in"), help: "The bundle: a directory, or a .tar file.")
        var bundle: String

        @Option(help: "The source data directory's master.key, to re-wrap the bundle's data keys.")
        var masterKeyFile: String?

        @Flag(help: "Print the result as one JSON object.")
        var json = false

        func run() async throws {
            let target = try dataOptions.resolvedData()
            let result = try await failingClearly {
                var key: [UInt8]?
                if let masterKeyFile {
                    guard let data = FileManager.default.contents(atPath: masterKeyFile) else {
                        throw CLIFailure("cannot read \(masterKeyFile)")
                    }
                    key = Array(data)
                }
                let importer = BundleImporter(bundle: bundle, dataDirectory: target, sourceMasterKey: key)
                let reporters = [BundleImporter.Stage.importing, .rebuilding].map {
                    ($0, ProgressReporter(label: $0.rawValue, total: nil))
                }
                let result = try await importer.run { stage, done, total in
                    reporters.first { $0.0 == stage }?.1.update(done, total: total)
                }
                for (_, reporter) in reporters { reporter.finish(result.manifest.events) }
                return result
            }
            let manifest = result.manifest
            if json {
                print(
                    try Export.json([
                        "data": target, "events": manifest.events, "head_hash": manifest.headHash,
                        "keys": manifest.keys, "assets": manifest.assets.count,
                        "seconds": (result.seconds * 1000).rounded() / 1000,
                    ])
                )
                return
            }
            print(
                "imported \(manifest.events) events into \(target); head \(manifest.lastPosition) \(manifest.headHash)"
            )
            for report in result.reports {
                let tables = report.tables.map { "\($0.table) \($0.rows)" }.joined(separator: ", ")
                print("\(report.name): \(tables)")
            }
            print(
                String(
                    format: "took %.2f s (%.0f events/s)",
                    result.seconds,
                    Double(manifest.events) / max(result.seconds, 1e-9)
                )
            )
        }
    }
}
