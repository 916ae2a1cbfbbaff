public import HubSQLite

/// Why the store refused or failed an operation.
public enum EventStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The stream's version was not the one the append expected.
    case wrongExpectedVersion(stream: String, expected: ExpectedVersion, actual: Int64)
    /// An event's data is larger than the configured cap.
    case eventTooLarge(size: Int, limit: Int)
    /// An event or stream name is not acceptable (empty, too long, not JSON, ...).
    case invalidEvent(String)
    /// The writer's queue is full: the caller should retry later.
    case overloaded(queueCapacity: Int)
    /// The writer is shutting down and takes no more commands.
    case shuttingDown
    /// The database failed underneath (disk full, I/O error, ...); nothing of the command was kept.
    case storage(SQLiteError)

    public var description: String {
        switch self {
        case .wrongExpectedVersion(let stream, let expected, let actual):
            "wrong expected version for stream \(stream): expected \(expected), found "
                + (actual == 0 ? "no stream" : "version \(actual)")
        case .eventTooLarge(let size, let limit):
            "event data is \(size) bytes, over the limit of \(limit) bytes"
        case .invalidEvent(let reason):
            "invalid event: \(reason)"
        case .overloaded(let capacity):
            "the writer is overloaded (\(capacity) commands queued); retry later"
        case .shuttingDown:
            "the store is shutting down"
        case .storage(let error):
            "storage failure: \(error)"
        }
    }

    public static func == (lhs: EventStoreError, rhs: EventStoreError) -> Bool {
        lhs.description == rhs.description
    }
}
