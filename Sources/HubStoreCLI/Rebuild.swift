import ArgumentParser
import Foundation
import HubCommands
import HubEventLog
import HubReadModels
import HubTools
import HubVault

extension HubStoreCommand {
    struct Rebuild: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rebuild read models from the log: into shadow tables, swapped in at once.",
            discussion: """
                Safe beside a running server on the same data directory: the server answers from the old \
                tables until the swap, and what it appends meanwhile is applied before the swap. Ends with \
                each projection's tables, their row counts and fingerprints. Projections: configuration, \
                clients, transcripts, outbox (rebuilt with transcripts, which it reads), assets, search, metrics. Needs the \
                master key (master.key or HUBSTORE_MASTER_KEY) to open the sealed content transcripts show.
                """
        )

        @OptionGroup var dataOptions: DataOptions

        @Option(name: .customLong("projection"), help: "Rebuild only this projection (repeatable; default all).")
        var projections: [String] = []

        @Flag(help: "Print the result as JSON.")
        var json = false

        func run() async throws {
            let path = try dataOptions.resolvedData()
            let reports = try await failingClearly {
                guard FileManager.default.fileExists(atPath: DataDirectory(path: path).databasePath) else {
                    throw CLIFailure("no hub.sqlite in \(path): nothing to rebuild")
                }
                // Without its key the sealed content cannot be opened, and a new key must not be made here.
                guard try HubStoreCommand.Verify.existingMasterKey(DataDirectory(path: path)) != nil else {
                    throw CLIFailure(
                        "rebuilding needs the data directory's master key (master.key or HUBSTORE_MASTER_KEY)"
                    )
                }
                let store = try await EventStore.open(
                    EventStoreConfiguration(dataDirectory: path),
                    exclusive: false,
                    readModels: .hub
                )
                do {
                    for name in projections where store.projections.projection(named: name) == nil {
                        throw CLIFailure(
                            "no projection '\(name)'; there are \(store.projections.names.joined(separator: ", "))"
                        )
                    }
                    let progress = ProgressReporter(label: "rebuild", total: store.headPosition)
                    let reports = try await store.rebuild(projections) { progress.update($0.applied, total: $0.tip) }
                    progress.finish(reports.first?.position ?? 0)
                    await store.close()
                    return reports
                } catch {
                    await store.close()
                    throw error
                }
            }
            if json {
                let objects: [[String: Any]] = reports.map { report in
                    [
                        "projection": report.name, "version": report.version, "position": report.position,
                        "tables": report.tables.map { ["table": $0.table, "rows": $0.rows, "fingerprint": $0.digest] },
                    ]
                }
                let data = try JSONSerialization.data(withJSONObject: ["projections": objects], options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
                return
            }
            for report in reports {
                print("\(report.name) (version \(report.version)) at position \(report.position):")
                for table in report.tables {
                    print("  \(table.table): \(table.rows) rows, fingerprint \(table.digest)")
                }
            }
        }
    }
}
