/// How a ``Connection`` is opened and set up.
public struct ConnectionConfiguration: Sendable {
    /// How the file is opened.
    public enum Mode: Sendable {
        /// Read and write; create the file when `create` is true and it is missing.
        case readWrite(create: Bool)
        /// Read only: writes fail with `SQLITE_READONLY`.
        case readOnly
    }

    /// `PRAGMA synchronous` for a connection that writes.
    ///
    /// Related SQLite documentation: <https://www.sqlite.org/pragma.html#pragma_synchronous>
    public enum Synchronous: String, Sendable, CaseIterable {
        /// Every commit is fsynced: an acknowledged transaction survives power loss.
        case full
        /// The WAL is fsynced only at checkpoints: the last commits may be lost on power loss,
        /// never on a process crash.
        case normal
    }

    public var mode: Mode
    /// How long a statement waits for a lock before failing with `SQLITE_BUSY`.
    public var busyTimeout: Duration
    /// Put the database in WAL mode (writers only) and check that SQLite agreed.
    public var journalModeWAL: Bool
    /// `PRAGMA synchronous`; `nil` leaves SQLite's default.
    public var synchronous: Synchronous?
    /// `PRAGMA foreign_keys`.
    public var foreignKeys: Bool
    /// `PRAGMA temp_store = MEMORY`: savepoints' sub-journals stay in memory instead of spilling to a
    /// temporary file once they pass 64 KiB (a writer running each command under a savepoint would
    /// otherwise write every page it touches twice).
    public var memoryTempStore: Bool
    /// `PRAGMA wal_autocheckpoint` in pages; `nil` leaves SQLite's default (1,000).
    public var walAutocheckpointPages: Int?

    public init(
        mode: Mode = .readWrite(create: true),
        busyTimeout: Duration = .seconds(5),
        journalModeWAL: Bool = false,
        synchronous: Synchronous? = nil,
        foreignKeys: Bool = true,
        memoryTempStore: Bool = false,
        walAutocheckpointPages: Int? = nil
    ) {
        self.mode = mode
        self.busyTimeout = busyTimeout
        self.journalModeWAL = journalModeWAL
        self.synchronous = synchronous
        self.foreignKeys = foreignKeys
        self.memoryTempStore = memoryTempStore
        self.walAutocheckpointPages = walAutocheckpointPages
    }
}
