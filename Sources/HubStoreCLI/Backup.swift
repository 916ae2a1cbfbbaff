import ArgumentParser
import Foundation
import HubTools

extension HubStoreCommand {
    struct Backup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Take an online, consistent copy of a data directory while a server keeps writing.",
            discussion: """
                Copies hub.sqlite with SQLite's backup API as of one snapshot, then every asset file it \
                references (each checked against its SHA-256). --out must be new or an empty directory. \
                The master key is copied only with --include-key: keep it apart from the backup otherwise, \
                since without it the sealed content cannot be opened. `hubstore verify --data OUT` checks \
                the copy, and `hubstore serve --data OUT` runs a hub on it.
                """
        )

        @OptionGroup var dataOptions: DataOptions

        @Option(help: "The backup's directory (new, or empty).")
        var out: String

        @Flag(help: "Also copy the master key (master.key) into the backup.")
        var includeKey = false

        @Flag(help: "Print the result as one JSON object.")
        var json = false

        func run() async throws {
            let source = try dataOptions.resolvedData()
            let backup = OnlineBackup(source: source, destination: out, includeKey: includeKey)
            let result = try await failingClearly {
                try await onOwnThread {
                    let reporters = [OnlineBackup.Stage.pages, .assets].map {
                        ($0, ProgressReporter(label: $0.rawValue, total: nil))
                    }
                    var done: [OnlineBackup.Stage: Int64] = [:]
                    let result = try backup.run { stage, copied, total in
                        done[stage] = copied
                        reporters.first { $0.0 == stage }?.1.update(copied, total: total)
                    }
                    for (stage, reporter) in reporters where done[stage] != nil { reporter.finish(done[stage] ?? 0) }
                    return result
                }
            }
            if json {
                let object: [String: Any] = [
                    "out": out, "position": result.position, "events": result.events,
                    "database_bytes": result.databaseBytes, "assets": result.assets, "asset_bytes": result.assetBytes,
                    "key_included": result.keyIncluded, "seconds": (result.seconds * 1000).rounded() / 1000,
                ]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
                return
            }
            print("backup of \(source) in \(out): log position \(result.position), \(result.events) events")
            print("database: \(result.databaseBytes) bytes; assets: \(result.assets) files, \(result.assetBytes) bytes")
            print(String(format: "took %.2f s", result.seconds))
            if !result.keyIncluded {
                print(
                    "the master key was not copied: keep it safe apart; restore it as master.key (or HUBSTORE_MASTER_KEY)"
                )
            }
        }
    }
}
