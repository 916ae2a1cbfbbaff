import Foundation
import HubTestSupport
import Testing

/// `hubstore bench rebuild` end to end, small: the rebuild, its raw scan, and SQLite's write floor,
/// which copies every rebuilt row.
@Suite(.timeLimit(.minutes(5)))
struct BenchRebuildTests {
    @Test func theFloorCopiesEveryRebuiltRowAndBoundsTheRebuild() async throws {
        let result = try await ChildProcess.run(["bench", "rebuild", "--messages", "300", "--runs", "1", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let events = report["events"] as? Int ?? 0
        // Each message is at least its `message.received`, with its routing.
        #expect(events > 300, "\(report)")
        let rows = report["rows"] as? [String: Int] ?? [:]
        // Every message was delivered: the outbox keeps none of them.
        #expect(rows["messages"] == 300 && rows["deliveries"] == 0, "\(rows)")
        // Every table of every projection is copied, row for row, FTS5 included.
        let floor = report["floor_tables"] as? [[String: Any]] ?? []
        let copied = Dictionary(
            floor.map { ($0["table"] as? String ?? "", $0["rows"] as? Int ?? -1) },
            uniquingKeysWith: { first, _ in first }
        )
        #expect(Set(copied.keys) == Set(rows.keys), "\(copied.keys.sorted()) vs \(rows.keys.sorted())")
        for (table, count) in rows { #expect(copied[table] == count, "\(table)") }
        #expect((report["floor_seconds"] as? Double ?? 0) > 0 && (report["log_floor_seconds"] as? Double ?? 0) > 0)
        let ceiling = report["ceiling_events_per_s"] as? Double ?? 0
        let importCeiling = report["import_ceiling_events_per_s"] as? Double ?? 0
        #expect(ceiling > importCeiling && importCeiling > 0, "\(report)")
    }
}
