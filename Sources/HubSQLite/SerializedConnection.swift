/// A connection confined to its own serial executor.
///
/// Every access is a closure-scoped unit of work run on the connection's dispatch queue (or, for the
/// writer, its own thread), so one executor hop covers many statements, and no SQLite call runs on the
/// cooperative thread pool.
public actor SerializedConnection {
    private let executor: any SerialExecutor
    private nonisolated let thread: ThreadExecutor?
    private var connection: Connection?
    /// The path of the database file.
    public nonisolated let path: String
    /// Whether the connection's own thread got the higher scheduling weight it asked for
    /// (``Placement/ownThread(name:niceness:)``); false on a queue.
    public nonisolated var priorityRaised: Bool { thread?.priorityRaised ?? false }

    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        executor.asUnownedSerialExecutor()
    }

    /// Where the connection's work runs.
    public enum Placement: Sendable {
        /// A serial `DispatchQueue` of its own (worker threads come from Dispatch's pool).
        case queue
        /// One thread of its own, named `name`, which asks for a scheduling weight of `nice` =
        /// `niceness` (negative is higher; needs root, `CAP_SYS_NICE` or a nice limit that allows it,
        /// and falls back to the default weight).
        case ownThread(name: String, niceness: Int32)
    }

    /// Opens the connection on its own queue or thread.
    public init(
        path: String,
        configuration: ConnectionConfiguration,
        label: String,
        placement: Placement = .queue
    ) async throws(SQLiteError) {
        switch placement {
        case .queue:
            self.executor = DispatchQueueExecutor(label: label)
            self.thread = nil
        case .ownThread(let name, let niceness):
            guard let thread = ThreadExecutor(name: name, niceness: niceness) else {
                throw SQLiteError(code: .error, message: "could not start the thread of \(label)")
            }
            self.executor = thread
            self.thread = thread
        }
        self.path = path
        try await open(configuration)
    }

    private func open(_ configuration: ConnectionConfiguration) async throws(SQLiteError) {
        // Runs on the connection's own queue: opening may block on the file system.
        connection = try Connection(path: path, configuration: configuration)
    }

    /// Runs `body` with the connection, on the connection's queue.
    ///
    /// - Throws: what `body` throws, or `SQLITE_MISUSE` once the connection is closed.
    public func perform<T: Sendable>(_ body: (Connection) throws -> T) throws -> T {
        guard let connection else {
            throw SQLiteError(code: .misuse, message: "the connection is closed")
        }
        return try body(connection)
    }

    /// Closes the connection; later calls to ``perform(_:)`` fail.
    public func close() {
        connection?.close()
        connection = nil
    }
}
