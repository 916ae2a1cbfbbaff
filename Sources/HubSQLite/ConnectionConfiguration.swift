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
    /// Gather each commit's writes to the WAL file into one write (the `hubstore-wal-buffer` VFS):
    /// SQLite writes every frame as two writes, a 24-byte header and the page. The bytes reach the
    /// file before it is synced or read and before the commit becomes visible, so durability and
    /// what other connections see are unchanged. For the connection that writes, and only with
    /// `synchronous` `.full` (ignored otherwise).
    public var bufferWALWrites: Bool
    /// The registered SQLite VFS to open the files through; `nil` for the default. Tests name a
    /// fault-injecting one; a buffered writer stacks the WAL buffer over it.
    public var vfs: String?
    /// Counts every statement the connection runs and SQLite's time for it (a diagnostic).
    public var statementProfile: StatementProfile?

    public init(
        mode: Mode = .readWrite(create: true),
        busyTimeout: Duration = .seconds(5),
        journalModeWAL: Bool = false,
        synchronous: Synchronous? = nil,
        foreignKeys: Bool = true,
        memoryTempStore: Bool = false,
        walAutocheckpointPages: Int? = nil,
        bufferWALWrites: Bool = false,
        vfs: String? = nil,
        statementProfile: StatementProfile? = nil
    ) {
        self.mode = mode
        self.busyTimeout = busyTimeout
        self.journalModeWAL = journalModeWAL
        self.synchronous = synchronous
        self.foreignKeys = foreignKeys
        self.memoryTempStore = memoryTempStore
        self.walAutocheckpointPages = walAutocheckpointPages
        self.vfs = vfs
        self.bufferWALWrites = bufferWALWrites
        self.statementProfile = statementProfile
    }
}
