import HubSQLite
import HubTestSupport
import Testing

struct MigratorTests {
    let first = Migration(name: "0001_a.sql", sql: "CREATE TABLE a (x INTEGER);")
    let second = Migration(name: "0002_b.sql", sql: "CREATE TABLE b (y INTEGER);")

    @Test func appliesPendingMigrationsInOrderOnce() async throws {
        try await withTemporaryDirectory { directory in
            let connection = try Connection(path: directory + "/m.sqlite")
            defer { connection.close() }
            #expect(
                try Migrator(migrations: [second, first]).migrate(connection, recordedAt: 1) == [
                    "0001_a.sql", "0002_b.sql",
                ]
            )
            #expect(try Migrator(migrations: [first, second]).migrate(connection, recordedAt: 2) == [])
            #expect(try Migrator(migrations: [first, second]).pendingMigrations(connection) == [])
            #expect(
                try connection.singleText(sql: "SELECT checksum FROM schema_migrations WHERE name = '0001_a.sql'")
                    == first.checksum
            )
        }
    }

    @Test func refusesAnAppliedMigrationWhoseChecksumChanged() async throws {
        try await withTemporaryDirectory { directory in
            let connection = try Connection(path: directory + "/m.sqlite")
            defer { connection.close() }
            _ = try Migrator(migrations: [first]).migrate(connection, recordedAt: 1)
            let edited = Migration(name: first.name, sql: first.sql + " -- edited")
            let error = #expect(throws: MigrationError.self) {
                try Migrator(migrations: [edited, second]).migrate(connection, recordedAt: 2)
            }
            #expect(error.map { "\($0)" }?.contains("0001_a.sql") == true)
            // Nothing further was applied.
            #expect(try connection.singleInt64(sql: "SELECT count(*) FROM sqlite_master WHERE name = 'b'") == 0)
        }
    }

    @Test func refusesADatabaseFromANewerBinary() async throws {
        try await withTemporaryDirectory { directory in
            let connection = try Connection(path: directory + "/m.sqlite")
            defer { connection.close() }
            _ = try Migrator(migrations: [first, second]).migrate(connection, recordedAt: 1)
            #expect(throws: MigrationError.self) {
                try Migrator(migrations: [first]).migrate(connection, recordedAt: 2)
            }
        }
    }

    @Test func aFailingMigrationLeavesNothingApplied() async throws {
        try await withTemporaryDirectory { directory in
            let connection = try Connection(path: directory + "/m.sqlite")
            defer { connection.close() }
            let broken = Migration(name: "0002_broken.sql", sql: "CREATE TABLE c (z INTEGER); CREATE TABLE oops (")
            #expect(throws: MigrationError.self) {
                try Migrator(migrations: [first, broken]).migrate(connection, recordedAt: 1)
            }
            #expect(try connection.singleInt64(sql: "SELECT count(*) FROM sqlite_master WHERE name IN ('a', 'c')") == 0)
            #expect(try Migrator(migrations: [first]).pendingMigrations(connection) == ["0001_a.sql"])
        }
    }
}
