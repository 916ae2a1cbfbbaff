import Foundation
import HubDomain
import HubSQLite
import HubTestSupport
import Testing

/// The analysts' read-only views over the transcripts, as `sqlite3 -readonly` would query them.
@Suite struct AnalystViewsTests {
    static func rows(_ sql: String, in data: String) throws -> [[String?]] {
        let connection = try Connection(path: data + "/hub.sqlite", configuration: .init(mode: .readOnly))
        defer { connection.close() }
        let statement = try connection.prepare(sql: sql)
        var rows: [[String?]] = []
        while try statement.step() {
            rows.append((0..<statement.columnCount).map { statement.optionalText(at: $0) })
        }
        return rows
    }

    @Test func theViewsShowTheTranscriptsAndSurviveARebuild() async throws {
        try await withTemporaryDirectory { directory in
            let data = directory + "/data"
            let demo = try await ChildProcess.run(["demo", "--data", data])
            #expect(demo.status == 0, "\(demo.stderr)")
            let query = """
                SELECT c.state, c.escalated, c.started, m.seq, m.sender_type, m.text, m.created
                FROM analytics_conversations c JOIN analytics_messages m ON m.conversation = c.id ORDER BY m.seq
                """
            let before = try Self.rows(query, in: data)
            #expect(before.count >= 6)
            #expect(before.first?[0] == "ended" && before.first?[1] == "1")
            #expect(before.first?[4] == "customer" && before.first?[5] == "Hi, I need help with my order.")
            #expect(before.first?[6]?.hasSuffix("Z") == true && before.first?[6]?.contains("T") == true)
            // No customer identity: the views hold no contact or name of the customer.
            let columns = try Self.rows("SELECT name FROM pragma_table_info('analytics_conversations')", in: data)
            #expect(!columns.contains { $0.first == "customer_state" || $0.first == "contact" })
            let rebuild = try await ChildProcess.run(["rebuild", "--data", data])
            #expect(rebuild.status == 0, "\(rebuild.stderr)")
            #expect(try Self.rows(query, in: data) == before)
        }
    }

    @Test func aProjectionNewerThanTheStoreIsNamedByVerifyAndBuiltByRebuild() async throws {
        try await withTemporaryDirectory { directory in
            // The v1 fixture predates the search and metrics projections: no server has built them there yet.
            try ExportImportCommandTests.copyFixture(to: directory)
            let verify = try await ChildProcess.run(["verify", "--data", directory, "--projections"])
            #expect(verify.status == 1)
            // The first difference: the transcripts' older columns (migration 0011), or a missing table.
            #expect(
                verify.stdout.contains("`hubstore serve` or `hubstore rebuild`"),
                "\(verify.stdout) \(verify.stderr)"
            )
            let analytics = try await ChildProcess.run(["analytics", "--data", directory])
            #expect(analytics.status == 1)
            #expect(analytics.stderr.contains("--projection metrics"), "\(analytics.stderr)")
            let rebuild = try await ChildProcess.run(
                ["rebuild", "--data", directory, "--projection", "search", "--projection", "metrics"]
            )
            #expect(rebuild.status == 0, "\(rebuild.stderr)")
            let again = try await ChildProcess.run(["verify", "--data", directory, "--projections"])
            #expect(again.status == 0, "\(again.stdout)")
        }
    }

    @Test func analyticsPrintsTheDemosMetricsAsATableCSVAndJSON() async throws {
        try await withTemporaryDirectory { directory in
            let data = directory + "/data"
            let demo = try await ChildProcess.run(["demo", "--data", data])
            #expect(demo.status == 0, "\(demo.stderr)")
            let csv = try await ChildProcess.run(["analytics", "--data", data, "--interval", "week"])
            #expect(csv.status == 0, "\(csv.stderr)")
            let lines = csv.stdout.split(separator: "\r\n").map(String.init)
            #expect(lines.first?.hasPrefix("start,conversations_started,") == true, "\(csv.stdout)")
            // The demo's one conversation, this week: started, escalated and ended.
            let started = lines.dropFirst().compactMap { Int($0.split(separator: ",")[1]) }.reduce(0, +)
            #expect(started == 1, "\(csv.stdout)")
            let json = try await ChildProcess.run(["analytics", "--data", data, "--format", "json"])
            #expect(json.status == 0)
            let total = try JSONValue.parse(json.stdout)["total"]
            #expect(total?.value(at: "conversations.started") == 1)
            #expect(total?.value(at: "conversations.escalated") == 1)
            #expect(total?.value(at: "conversations.ended") == 1)
            let table = try await ChildProcess.run(["analytics", "--data", data, "--format", "table", "--agents"])
            #expect(table.status == 0)
            #expect(table.stdout.hasPrefix("agent "), "\(table.stdout)")
            let bad = try await ChildProcess.run(["analytics", "--data", data, "--interval", "month"])
            #expect(bad.status != 0 && bad.stderr.contains("--interval"))
        }
    }

    @Test func exportWritesTheViewsAsCSVAndParquet() async throws {
        try await withTemporaryDirectory { directory in
            let data = directory + "/data"
            let demo = try await ChildProcess.run(["demo", "--data", data])
            #expect(demo.status == 0, "\(demo.stderr)")
            let messages = try Self.rows("SELECT count(*) FROM analytics_messages", in: data).first?.first ?? nil
            let csv = try await ChildProcess.run([
                "export", "--data", data, "--out", directory + "/csv", "--format", "csv",
            ])
            #expect(csv.status == 0, "\(csv.stderr)")
            let text = try String(contentsOfFile: directory + "/csv/analytics_messages.csv", encoding: .utf8)
            let lines = text.split(separator: "\r\n", omittingEmptySubsequences: false).dropLast()
            #expect(lines.first?.hasPrefix("conversation,seq,id,message_id,type,sender_type,sender_name,text,") == true)
            #expect("\(lines.count - 1)" == messages, "\(text)")
            #expect(text.contains("\"Hi, I need help with my order.\""), "fields with commas are quoted")
            let conversations = try String(
                contentsOfFile: directory + "/csv/analytics_conversations.csv",
                encoding: .utf8
            )
            #expect(conversations.split(separator: "\r\n").count == 2)
            // Filtered by account: another account has none.
            let none = try await ChildProcess.run([
                "export", "--data", data, "--out", directory + "/none", "--format", "csv", "--account", "nobody",
            ])
            #expect(none.status == 0)
            let empty = try String(contentsOfFile: directory + "/none/analytics_messages.csv", encoding: .utf8)
            #expect(empty.split(separator: "\r\n").count == 1)

            let parquet = try await ChildProcess.run([
                "export", "--data", data, "--out", directory + "/parquet", "--format", "parquet", "--json",
            ])
            #expect(parquet.status == 0, "\(parquet.stderr)")
            #expect(parquet.stdout.contains("\"analytics_messages.parquet\":\(messages ?? "")"), "\(parquet.stdout)")
            let bytes = try #require(
                FileManager.default.contents(atPath: directory + "/parquet/analytics_messages.parquet")
            )
            #expect(bytes.prefix(4) == Data("PAR1".utf8) && bytes.suffix(4) == Data("PAR1".utf8))
            let footer = bytes.suffix(8).prefix(4).withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
            #expect(Int(UInt32(littleEndian: footer)) < bytes.count - 12)
            #expect(bytes.range(of: Data("Hi, I need help with my order.".utf8)) != nil)
            #expect(bytes.range(of: Data("sender_type".utf8)) != nil, "the schema names the columns")

            let positions = try await ChildProcess.run([
                "export", "--data", data, "--out", directory + "/bad", "--format", "csv", "--from", "3",
            ])
            #expect(positions.status != 0 && positions.stderr.contains("RFC 3339"), "\(positions.stderr)")
        }
    }
}
