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
}
