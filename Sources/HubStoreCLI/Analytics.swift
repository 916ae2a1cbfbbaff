import ArgumentParser
import Foundation
import HubDomain
import HubEventLog
import HubReadModels
import HubSQLite

extension HubStoreCommand {
    struct Analytics: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Conversation metrics per hour, day or week, or per agent, as GET /v1/analytics/... answers.",
            discussion: """
                Reads the metrics projection of a data directory (beside a running server too): \
                conversations started and ended, escalations, bot containment, abandonment, messages by \
                sender, deliveries failed, and p50/p90 of first response, time to agent and handle time \
                (README "Conversation metrics" defines each). A table on a terminal, CSV otherwise; \
                --format chooses.
                """
        )

        enum Format: String, ExpressibleByArgument, CaseIterable {
            case table, csv, json
        }

        @OptionGroup var dataOptions: DataOptions

        @Option(help: "Only this account (its id).")
        var account: String?

        @Option(help: "Only this channel type.")
        var channel: String?

        @Option(help: "From this RFC 3339 time (default: 30 days before --until).")
        var since: String?

        @Option(help: "Up to this RFC 3339 time, exclusive (default: now).")
        var until: String?

        @Option(help: "hour, day or week.")
        var interval: String = "day"

        @Flag(help: "Per agent instead of per interval.")
        var agents = false

        @Option(help: "table, csv or json (default: table on a terminal, csv otherwise).")
        var format: Format?

        func validate() throws {
            for (name, text) in [("--since", since), ("--until", until)] {
                if let text, Timestamp.milliseconds(text) == nil {
                    throw ValidationError("\(name) must be an RFC 3339 time, not '\(text)'")
                }
            }
            guard ConversationMetrics.Interval(rawValue: interval) != nil else {
                throw ValidationError("--interval must be hour, day or week")
            }
            let range = filter
            guard range.since < range.until else { throw ValidationError("--since must be before --until") }
        }

        var filter: ConversationMetrics.Filter {
            let end = until.flatMap(Timestamp.milliseconds) ?? Int64(Date().timeIntervalSince1970 * 1000)
            return ConversationMetrics.Filter(
                account: account,
                channelType: channel,
                since: since.flatMap(Timestamp.milliseconds) ?? end - 30 * 86_400_000,
                until: end
            )
        }

        func run() async throws {
            let path = try dataOptions.resolvedData()
            try await failingClearly {
                let directory = DataDirectory(path: path)
                guard FileManager.default.fileExists(atPath: directory.databasePath) else {
                    throw CLIFailure("no hub.sqlite in \(path): no metrics to read")
                }
                // The tables as they are: nothing is built here.
                let store = try await EventStore.open(
                    EventStoreConfiguration(dataDirectory: path),
                    exclusive: false,
                    readModels: .none
                )
                do {
                    let output = try await report(ConversationMetrics(store: store))
                    await store.close()
                    FileHandle.standardOutput.write(Data(output.utf8))
                } catch let error as SQLiteError where error.message.contains("no such table") {
                    await store.close()
                    throw CLIFailure(
                        "the metrics of \(path) are not built yet: start `hubstore serve` on it once, "
                            + "or run `hubstore rebuild --data \(path) --projection metrics`"
                    )
                } catch {
                    await store.close()
                    throw error
                }
            }
        }

        private func report(_ metrics: ConversationMetrics) async throws -> String {
            let format = format ?? (isatty(STDOUT_FILENO) == 1 ? .table : .csv)
            let range = filter
            if agents {
                let rows = try await metrics.agents(range)
                switch format {
                case .json: return JSONValue.object(["agents": .array(rows.map(\.json))]).text + "\n"
                case .csv: return CSV.table(ConversationMetrics.AgentRow.csvHeader, rows.map(\.csvFields))
                case .table: return Self.table(ConversationMetrics.AgentRow.csvHeader, rows.map(\.csvFields))
                }
            }
            let chosen = ConversationMetrics.Interval(rawValue: interval) ?? .day
            let intervals = (range.until - chosen.start(of: range.since)) / chosen.next(after: 0)
            guard intervals < ConversationMetrics.maxBuckets else {
                throw CLIFailure("\(intervals) intervals of an \(interval) are too many; take a longer --interval")
            }
            let report = try await metrics.conversations(range, interval: chosen)
            switch format {
            case .json: return report.json.text + "\n"
            case .csv: return report.csv
            case .table:
                var rows = report.buckets.map(\.csvFields)
                var total = report.total.csvFields
                total[0] = "total"
                rows.append(total)
                return Self.table(ConversationMetrics.Bucket.csvHeader, rows)
            }
        }

        /// Columns aligned on spaces, numbers to the right.
        static func table(_ header: [String], _ rows: [[String]]) -> String {
            let all = [header] + rows
            let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
            return all.map { row in
                row.enumerated().map { column, value in
                    let padding = String(repeating: " ", count: widths[column] - value.count)
                    return column == 0 || Double(value) == nil ? value + padding : padding + value
                }
                .joined(separator: "  ").replacingOccurrences(of: #"\s+$"#, with: "", options: .regularExpression)
                    + "\n"
            }
            .joined()
        }
    }
}
