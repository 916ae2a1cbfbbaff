import HubSQLite
import HubStore

/// Recomputes the hash chain over the whole log and checks gapless positions and per-stream versions.
///
/// It reads in one read transaction (a consistent snapshot), so it can run against a data directory
/// a live server is writing to: it verifies the log as of the moment it started.
public struct ChainVerifier: Sendable {
    /// What a verification found.
    public struct Report: Sendable, Equatable {
        /// Events checked (up to, not including, the first failure).
        public var eventCount: Int64
        /// Distinct streams seen.
        public var streamCount: Int
        /// The last position checked.
        public var lastPosition: Int64
        /// The first problem, if any.
        public var failure: Failure?

        public var isIntact: Bool { failure == nil }
    }

    /// The first place the log is not what the chain says it must be.
    public struct Failure: Sendable, Equatable, CustomStringConvertible {
        /// The first bad position.
        public var position: Int64
        public var reason: String

        public var description: String { "position \(position): \(reason)" }
    }

    public let databasePath: String

    public init(databasePath: String) {
        self.databasePath = databasePath
    }

    /// Verifies the log; `progress` is called every `progressInterval` events with the count so far
    /// and the number of events in the snapshot being verified.
    ///
    /// Runs on a connection of its own, on its own serial executor (never the cooperative pool).
    public func verify(
        progressInterval: Int64 = 100_000,
        progress: @escaping @Sendable (_ done: Int64, _ total: Int64) -> Void = { _, _ in }
    ) async throws -> Report {
        // Read-write without create (a read-only open of a WAL database can fail when its -shm is
        // missing), but query_only so verification can never write.
        let connection = try await SerializedConnection(
            path: databasePath,
            configuration: .init(mode: .readWrite(create: false)),
            label: "hubstore.verify"
        )
        do {
            let report = try await connection.perform { connection in
                try Self.verify(connection, progressInterval: progressInterval, progress: progress)
            }
            await connection.close()
            return report
        } catch {
            await connection.close()
            throw error
        }
    }

    private static func verify(
        _ connection: Connection,
        progressInterval: Int64,
        progress: (Int64, Int64) -> Void
    ) throws -> Report {
        try connection.execute(sql: "PRAGMA query_only = ON")
        try connection.execute(sql: "BEGIN DEFERRED")
        defer { try? connection.execute(sql: "COMMIT") }
        // Inside the snapshot: the count the progress line measures against.
        let total = try connection.singleInt64(sql: "SELECT count(*) FROM events") ?? 0
        var report = Report(eventCount: 0, streamCount: 0, lastPosition: 0, failure: nil)
        var versions: [String: Int64] = [:]
        var previousHash = EventHash.genesis
        try EventLog.scan(connection) { event in
            let expectedPosition = report.lastPosition + 1
            if event.position != expectedPosition {
                report.failure = Failure(
                    position: expectedPosition,
                    reason:
                        "missing event: the next position in the log is \(event.position), expected \(expectedPosition)"
                )
                return false
            }
            let expectedVersion = (versions[event.stream] ?? 0) + 1
            if event.version != expectedVersion {
                report.failure = Failure(
                    position: event.position,
                    reason: "stream \(event.stream) has version \(event.version) here, expected \(expectedVersion)"
                )
                return false
            }
            let hash = EventHash.compute(event, previous: previousHash)
            if hash != event.hash {
                report.failure = Failure(
                    position: event.position,
                    reason: "hash mismatch: the event was altered, or events were reordered or removed before it"
                )
                return false
            }
            versions[event.stream] = event.version
            previousHash = hash
            report.lastPosition = event.position
            report.eventCount += 1
            if report.eventCount % progressInterval == 0 { progress(report.eventCount, total) }
            return true
        }
        report.streamCount = versions.count
        return report
    }
}
