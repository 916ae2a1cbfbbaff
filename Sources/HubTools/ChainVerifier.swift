import HubCommands
@_spi(Storage) public import HubEventLog
import HubReadModels
import HubSQLite
import HubVault

/// Recomputes the hash chain over the whole log and checks gapless positions and per-stream versions,
/// then the signed checkpoints of the head (``LogCheckpoint``) and, when given, a head kept outside:
/// a log that ends before one of them, or whose hash at its position differs, fails.
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
        /// Signed checkpoints found (each checked when ``failure`` is `nil`).
        public var checkpointCount = 0
        /// The position the latest signed checkpoint covers.
        public var latestCheckpoint: Int64?

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
    /// Checks the checkpoints' signatures; `nil` when there is no key (then a log with checkpoints fails).
    public let checkpointKey: LogHeadKey?
    /// A head recorded outside the data directory (`verify --expect-head POSITION:HASH`).
    public let expectedHead: (position: Int64, hash: [UInt8])?

    public init(
        databasePath: String,
        checkpointKey: LogHeadKey? = nil,
        expectedHead: (position: Int64, hash: [UInt8])? = nil
    ) {
        self.databasePath = databasePath
        self.checkpointKey = checkpointKey
        self.expectedHead = expectedHead
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
            let report = try await connection.perform { [checkpointKey, expectedHead] connection in
                try Self.verify(
                    connection,
                    anchors: Anchors(key: checkpointKey, expectedHead: expectedHead),
                    progressInterval: progressInterval,
                    progress: progress
                )
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
        anchors: Anchors,
        progressInterval: Int64,
        progress: (Int64, Int64) -> Void
    ) throws -> Report {
        try connection.execute(sql: "PRAGMA query_only = ON")
        try connection.execute(sql: "BEGIN DEFERRED")
        defer { try? connection.execute(sql: "COMMIT") }
        // Inside the snapshot: the count the progress line measures against.
        let total = try connection.singleInt64(sql: "SELECT count(*) FROM events") ?? 0
        var report = Report(eventCount: 0, streamCount: 0, lastPosition: 0, failure: nil)
        let checkpoints = try LogCheckpoints.all(connection)
        report.checkpointCount = checkpoints.count
        report.latestCheckpoint = checkpoints.last?.position
        let required = try anchors.requiredHashes(checkpoints)
        if let failure = required.failure {
            report.failure = failure
            return report
        }
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
            if let anchor = required.hashes[event.position]?.first(where: { $0.hash != hash }) {
                report.failure = Failure(
                    position: event.position,
                    reason: "hash differs from \(anchor.source): the log was rewritten at or before this position"
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
        if report.failure == nil, let (position, source) = required.furthest, position > report.lastPosition {
            report.failure = Failure(
                position: report.lastPosition + 1,
                reason: "the log ends at position \(report.lastPosition), but \(source) covers position \(position): "
                    + "events were removed from the end"
            )
        }
        return report
    }
}

/// What the log must match besides its own chain: the signed checkpoints and a head kept outside.
private struct Anchors {
    var key: LogHeadKey?
    var expectedHead: (position: Int64, hash: [UInt8])?

    struct Required {
        /// The hash each anchored position must have, and which anchor says so.
        var hashes: [Int64: [(hash: [UInt8], source: String)]] = [:]
        /// The furthest anchored position.
        var furthest: (position: Int64, source: String)?
        /// A checkpoint that is itself bad (unsigned, forged, altered).
        var failure: ChainVerifier.Failure?
    }

    func requiredHashes(_ checkpoints: [LogCheckpoint]) throws(ChainVerifierError) -> Required {
        var required = Required()
        if !checkpoints.isEmpty, key == nil { throw .noKeyForCheckpoints(checkpoints.count) }
        for (index, checkpoint) in checkpoints.enumerated() {
            let source = "signed checkpoint #\(index + 1) (\(Timestamp.format(checkpoint.recordedAt)))"
            guard let key, key.isValid(checkpoint) else {
                required.failure = .init(
                    position: checkpoint.position,
                    reason: "\(source) has no valid signature: it was forged or altered"
                )
                return required
            }
            add(checkpoint.position, checkpoint.headHash, source, to: &required)
        }
        if let expectedHead { add(expectedHead.position, expectedHead.hash, "the expected head", to: &required) }
        return required
    }

    private func add(_ position: Int64, _ hash: [UInt8], _ source: String, to required: inout Required) {
        required.hashes[position, default: []].append((hash, source))
        if position > required.furthest?.position ?? 0 { required.furthest = (position, source) }
    }
}

/// Why verification could not run.
public enum ChainVerifierError: Error, Sendable, CustomStringConvertible {
    /// The log has signed checkpoints but no key was given to check them.
    case noKeyForCheckpoints(Int)

    public var description: String {
        switch self {
        case .noKeyForCheckpoints(let count):
            "the log has \(count) signed checkpoints and there is no master key to check them "
                + "(master.key in the data directory, or HUBSTORE_MASTER_KEY)"
        }
    }
}
