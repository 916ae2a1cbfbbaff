import ArgumentParser
import Foundation
import HubDomain
import HubEventLog
import HubReadModels
import HubVault

extension HubStoreCommand {
    struct Events: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The event feed for a terminal: one line per event, or NDJSON in the export form.",
            discussion: """
                Reads the log of a data directory (beside a running server too) in position order, one \
                line per event: position, time, type, stream and actor. --json prints each event in the \
                export form instead, as GET /v1/events does, sealed content sealed unless --content is \
                given. --follow keeps printing new events as they commit, until interrupted.
                """
        )

        @OptionGroup var dataOptions: DataOptions

        @Option(help: "Start at this log position.")
        var from: Int64?

        @Option(help: "Print at most this many events (without --follow).")
        var limit: Int?

        @Option(help: "Only this stream, or the streams under a prefix ending in / (conversation/).")
        var stream: String?

        @Option(help: "Only these types (comma-separated).")
        var type: String?

        @Option(help: "Only events of this account (its id).")
        var account: String?

        @Option(help: "Only events recorded at or after this RFC 3339 time.")
        var since: String?

        @Option(help: "Only events recorded at or before this RFC 3339 time.")
        var until: String?

        @Flag(help: "Keep printing events as they commit, until interrupted.")
        var follow = false

        @Flag(help: "Print each event in the export form (NDJSON).")
        var json = false

        @Flag(help: "With --json: open message content and customer identity (needs the master key).")
        var content = false

        func validate() throws {
            if let from, from < 1 { throw ValidationError("--from must be a log position, 1 or more") }
            if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
            for (name, text) in [("--since", since), ("--until", until)] {
                if let text, Timestamp.milliseconds(text) == nil {
                    throw ValidationError("\(name) must be an RFC 3339 time, not '\(text)'")
                }
            }
            if content, !json { throw ValidationError("--content needs --json") }
        }

        func run() async throws {
            let path = try dataOptions.resolvedData()
            try await failingClearly {
                let directory = DataDirectory(path: path)
                guard FileManager.default.fileExists(atPath: directory.databasePath) else {
                    throw CLIFailure("no hub.sqlite in \(path): no log to read")
                }
                var vault: SecretVault?
                if content {
                    guard let key = try HubStoreCommand.Verify.existingMasterKey(directory) else {
                        throw CLIFailure("--content needs the master key (master.key or HUBSTORE_MASTER_KEY)")
                    }
                    vault = SecretVault(masterKey: key)
                }
                // The log and the tables as they are: no read model is built here, and no key made.
                let store = try await EventStore.open(
                    EventStoreConfiguration(dataDirectory: path),
                    exclusive: false,
                    readModels: .none
                )
                do {
                    try await print(EventFeed(store: store, vault: vault))
                    await store.close()
                } catch {
                    await store.close()
                    throw error
                }
            }
        }

        private func print(_ feed: EventFeed) async throws {
            var filter = EventFilter(
                account: account,
                recordedFrom: since.flatMap(Timestamp.milliseconds),
                recordedTo: until.flatMap(Timestamp.milliseconds)
            )
            if let stream {
                if stream.hasSuffix("/") { filter.streamPrefix = stream } else { filter.stream = stream }
            }
            filter.types = type.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? []
            var after = (from ?? 1) - 1
            var printed = 0
            while true {
                let wanted = follow ? 1000 : min(1000, (limit ?? .max) - printed)
                let page = try await feed.page(after: after, filter: filter, limit: wanted, openContent: content)
                var output: [UInt8] = []
                for event in page.events {
                    if json {
                        event.writeExportForm(to: &output)
                    } else {
                        output.append(contentsOf: Self.line(event).utf8)
                        output.append(0x0A)
                    }
                }
                if !output.isEmpty { FileHandle.standardOutput.write(Data(output)) }
                printed += page.events.count
                after = page.scanned
                if !follow, printed >= (limit ?? .max) || page.events.count < wanted { return }
                if page.events.count < wanted { try await Task.sleep(for: .milliseconds(250)) }
            }
        }

        /// `76 2026-12-01T22:07:21.720Z conversation.started conversation/01a2… by operator`
        static func line(_ event: RecordedEvent) -> String {
            "\(event.position) \(Timestamp.format(event.recordedAt)) \(event.type) \(event.stream) by \(event.actor)"
        }
    }
}
