public import HubSQLite

/// The store's schema: the migrations the binary carries (see `EmbeddedMigrations.swift`).
public enum EventStoreSchema {
    /// A migrator over the embedded migrations.
    public static var migrator: Migrator { Migrator(migrations: migrations) }
}
