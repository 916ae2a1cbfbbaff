import Crypto

/// One schema change: a named SQL script.
public struct Migration: Sendable, Equatable {
    /// The file name, e.g. `0001_event_log.sql`; migrations apply in the order of their names.
    public let name: String
    public let sql: String

    public init(name: String, sql: String) {
        self.name = name
        self.sql = sql
    }

    /// SHA-256 of the SQL text, lowercase hex.
    public var checksum: String {
        SHA256.hash(data: Array(sql.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}

/// Why the schema could not be brought up to date.
public enum MigrationError: Error, Sendable, CustomStringConvertible {
    /// A migration already applied to the database differs from the one this binary carries.
    case checksumMismatch(name: String, recorded: String, expected: String)
    /// The database records a migration this binary does not know (it was made by a newer version).
    case unknownMigration(name: String)
    /// A migration's SQL failed; nothing of the pending migrations was applied.
    case failed(name: String, error: SQLiteError)

    public var description: String {
        switch self {
        case .checksumMismatch(let name, let recorded, let expected):
            "migration \(name) was already applied with checksum \(recorded), but this binary carries "
                + "checksum \(expected): an applied migration must never change"
        case .unknownMigration(let name):
            "the database has migration \(name) applied, which this binary does not know "
                + "(was it created by a newer hubstore?)"
        case .failed(let name, let error):
            "migration \(name) failed: \(error)"
        }
    }
}

/// Applies ordered migrations and records each (name, checksum) in `schema_migrations`.
public struct Migrator: Sendable {
    public let migrations: [Migration]

    public init(migrations: [Migration]) {
        self.migrations = migrations.sorted { $0.name < $1.name }
    }

    /// Checks the recorded migrations against the known ones and applies the pending ones, all in
    /// one transaction. Returns the names applied now.
    public func migrate(_ connection: Connection, recordedAt: Int64) throws -> [String] {
        try connection.transaction(.immediate) {
            try connection.execute(
                sql: """
                    CREATE TABLE IF NOT EXISTS schema_migrations (
                        name TEXT PRIMARY KEY,
                        checksum TEXT NOT NULL,
                        applied_at INTEGER NOT NULL
                    ) STRICT
                    """
            )
            let applied = try appliedMigrations(connection)
            for (name, checksum) in applied {
                guard let known = migrations.first(where: { $0.name == name }) else {
                    throw MigrationError.unknownMigration(name: name)
                }
                if known.checksum != checksum {
                    throw MigrationError.checksumMismatch(name: name, recorded: checksum, expected: known.checksum)
                }
            }
            var appliedNow: [String] = []
            for migration in migrations where applied[migration.name] == nil {
                do {
                    try connection.execute(sql: migration.sql)
                    try connection.run(
                        sql: "INSERT INTO schema_migrations (name, checksum, applied_at) VALUES (?, ?, ?)",
                        [migration.name, migration.checksum, recordedAt]
                    )
                } catch let error as SQLiteError {
                    throw MigrationError.failed(name: migration.name, error: error)
                }
                appliedNow.append(migration.name)
            }
            return appliedNow
        }
    }

    /// The names of the migrations not yet applied (empty when the schema is current).
    public func pendingMigrations(_ connection: Connection) throws -> [String] {
        let exists = try connection.singleInt64(
            sql: "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
        )
        let applied = exists == 1 ? try appliedMigrations(connection) : [:]
        return migrations.map(\.name).filter { applied[$0] == nil }
    }

    private func appliedMigrations(_ connection: Connection) throws(SQLiteError) -> [String: String] {
        let statement = try connection.prepare(sql: "SELECT name, checksum FROM schema_migrations")
        var applied: [String: String] = [:]
        while try statement.step() {
            applied[statement.text(at: 0)] = statement.text(at: 1)
        }
        return applied
    }
}
