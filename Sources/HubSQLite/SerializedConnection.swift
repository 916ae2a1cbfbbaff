/// A connection confined to its own serial executor.
///
/// Every access is a closure-scoped unit of work run on the connection's dispatch queue, so one
/// executor hop covers many statements, and no SQLite call runs on the cooperative thread pool.
public actor SerializedConnection {
    private let executor: DispatchQueueExecutor
    private var connection: Connection?
    /// The path of the database file.
    public nonisolated let path: String

    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        executor.asUnownedSerialExecutor()
    }

    /// Opens the connection on its own queue.
    public init(path: String, configuration: ConnectionConfiguration, label: String) async throws(SQLiteError) {
        self.executor = DispatchQueueExecutor(label: label)
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
