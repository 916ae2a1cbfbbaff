import Foundation
import HubCommands
@_spi(Storage) import HubEventLog
import HubReadModels
import HubSQLite
import HubTestSupport
import HubVault
import Testing

struct SchemaTests {
    /// The binary carries its migrations; they must be exactly the files under `migrations/`
    /// (run `tools/embed-migrations` after changing one).
    @Test func embeddedMigrationsEqualTheFiles() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let folder = root.appendingPathComponent("migrations")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".sql") }
            .sorted()
        #expect(!names.isEmpty)
        #expect(EventStoreSchema.migrations.map(\.name) == names)
        for migration in EventStoreSchema.migrations {
            let file = try String(contentsOf: folder.appendingPathComponent(migration.name), encoding: .utf8)
            #expect(migration.sql == file, "\(migration.name) differs from its embedded copy")
        }
    }

    /// Migration 0016 asks for a merge of the search index where the log has erased a message (a
    /// `delete.permanent` before it left the text's words in the index's segments), and only there.
    @Test func migration0016AsksForASearchMergeWhereTheLogErasedAMessage() async throws {
        for erased in [false, true] {
            try await withTemporaryDirectory { directory in
                let connection = try Connection(path: directory + "/hub.sqlite")
                let earlier = EventStoreSchema.migrations.filter { $0.name < "0016" }
                _ = try Migrator(migrations: earlier).migrate(connection, recordedAt: 0)
                let type = erased ? "message.erased" : "message.received"
                try connection.transaction(.immediate) {
                    try connection.run(sql: "INSERT INTO event_names (name) VALUES (?)", [type])
                }
                _ = try EventStoreSchema.migrator.migrate(connection, recordedAt: 0)
                let requests = try connection.singleInt64(sql: "SELECT count(*) FROM maintenance_requests")
                #expect(requests == (erased ? 1 : 0), "\(type)")
            }
        }
    }
}
