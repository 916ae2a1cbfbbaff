import Synchronization

/// One writer connection and N read-only connections on the same database file, in WAL mode.
///
/// Readers never block the writer and see a stable snapshot for the length of a ``read(_:)``.
/// Each connection lives on its own serial executor, so SQLite never blocks the cooperative pool.
/// This is the only database type handed to other layers.
public final class DatabasePool: Sendable {
    /// The one connection that writes.
    public let writer: SerializedConnection
    private let readers: [SerializedConnection]
    private let nextReader = Atomic<Int>(0)
    /// The path of the database file.
    public let path: String

    /// How the pool's connections are opened.
    public struct Configuration: Sendable {
        public var readerCount: Int
        public var synchronous: ConnectionConfiguration.Synchronous
        public var writerBusyTimeout: Duration
        public var readerBusyTimeout: Duration
        /// The registered SQLite VFS every connection opens its files through; `nil` for the default.
        public var vfs: String?
        /// Counts the writer's statements (``StatementProfile``): `bench ingest --sql-profile`.
        public var writerStatementProfile: StatementProfile?

        public init(
            readerCount: Int = 4,
            synchronous: ConnectionConfiguration.Synchronous = .full,
            writerBusyTimeout: Duration = .seconds(5),
            readerBusyTimeout: Duration = .seconds(10),
            vfs: String? = nil,
            writerStatementProfile: StatementProfile? = nil
        ) {
            self.readerCount = readerCount
            self.synchronous = synchronous
            self.writerBusyTimeout = writerBusyTimeout
            self.readerBusyTimeout = readerBusyTimeout
            self.vfs = vfs
            self.writerStatementProfile = writerStatementProfile
        }
    }

    /// Opens the writer (creating the file when missing, switching it to WAL), then the readers.
    public init(path: String, configuration: Configuration = .init()) async throws(SQLiteError) {
        self.path = path
        self.writer = try await SerializedConnection(
            path: path,
            configuration: .init(
                mode: .readWrite(create: true),
                busyTimeout: configuration.writerBusyTimeout,
                journalModeWAL: true,
                synchronous: configuration.synchronous,
                // A batch run again isolated runs each command under a savepoint, and some statements
                // open a statement journal: their sub-journals must not spill to disk.
                memoryTempStore: true,
                // Hot pages (the log's tail, open conversations' index leaves) are rewritten by many
                // commits in a row; a longer checkpoint interval copies each of them back once.
                walAutocheckpointPages: 4000,
                bufferWALWrites: true,
                vfs: configuration.vfs,
                statementProfile: configuration.writerStatementProfile
            ),
            label: "hubstore.sqlite.writer",
            // The writer is the serial section every write waits on: its own thread, with a higher
            // scheduling weight where the process may raise it.
            placement: .ownThread(name: "hubstore-writer", niceness: -10)
        )
        var readers: [SerializedConnection] = []
        do {
            for index in 0..<max(1, configuration.readerCount) {
                readers.append(
                    try await SerializedConnection(
                        path: path,
                        configuration: .init(
                            mode: .readOnly,
                            busyTimeout: configuration.readerBusyTimeout,
                            vfs: configuration.vfs
                        ),
                        label: "hubstore.sqlite.reader.\(index)"
                    )
                )
            }
        } catch {
            for reader in readers { await reader.close() }
            await writer.close()
            throw error
        }
        self.readers = readers
    }

    /// Runs `body` in a read transaction (a stable snapshot) on one of the readers.
    public func read<T: Sendable>(_ body: @Sendable (Connection) throws -> T) async throws -> T {
        let index = nextReader.add(1, ordering: .relaxed).oldValue
        let reader = readers[(index & Int.max) % readers.count]
        return try await reader.perform { connection in
            try connection.transaction(.deferred) { try body(connection) }
        }
    }

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction on the writer: committed when it returns,
    /// rolled back when it throws.
    public func write<T: Sendable>(_ body: @Sendable (Connection) throws -> T) async throws -> T {
        try await writer.perform { connection in
            try connection.transaction(.immediate) { try body(connection) }
        }
    }

    /// Closes the readers; the writer stays open (for a last checkpoint before ``close()``).
    public func closeReaders() async {
        for reader in readers { await reader.close() }
    }

    /// Closes the readers, then the writer.
    public func close() async {
        for reader in readers { await reader.close() }
        await writer.close()
    }
}
