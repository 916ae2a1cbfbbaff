import CHubSQLite
import Foundation
import HubCommands
@_spi(Storage) import HubEventLog
import HubReadModels
public import HubSQLite
import HubVault
import Synchronization

/// `hubstore bench append`: the same events appended (a) through HubStore's writer by many
/// concurrent submitters with group commit, and (b) through raw SQLite C calls with a prepared
/// statement, the same schema and indexes, and the average batch size (a) achieved.
public struct AppendBenchmark: Sendable {
    public struct Options: Sendable {
        public var events: Int
        public var submitters: Int
        public var streams: Int
        public var payloadBytes: Int
        public var synchronous: ConnectionConfiguration.Synchronous
        public var batchWait: Duration
        public var maxBatchSize: Int
        /// Where HubStore's store goes (kept afterwards); a temporary directory when `nil`.
        public var dataDirectory: String?
        /// Run the raw SQLite reference after HubStore's run.
        public var includeRaw: Bool

        public init(
            events: Int = 100_000,
            submitters: Int = 256,
            streams: Int = 2000,
            payloadBytes: Int = 300,
            synchronous: ConnectionConfiguration.Synchronous = .full,
            batchWait: Duration = .microseconds(250),
            maxBatchSize: Int = 1024,
            dataDirectory: String? = nil,
            includeRaw: Bool = true
        ) {
            self.events = events
            self.submitters = submitters
            self.streams = streams
            self.payloadBytes = payloadBytes
            self.synchronous = synchronous
            self.batchWait = batchWait
            self.maxBatchSize = maxBatchSize
            self.dataDirectory = dataDirectory
            self.includeRaw = includeRaw
        }
    }

    /// The figures of one run.
    public struct Run: Sendable, Codable {
        public var hubstoreEventsPerSecond: Double
        public var hubstoreSeconds: Double
        public var rawEventsPerSecond: Double?
        public var rawSeconds: Double?
        public var averageBatchSize: Double
        public var smallestBatch: Int
        public var largestBatch: Int
        public var batches: Int

        /// HubStore's rate as a fraction of raw SQLite's.
        public var ratio: Double? { rawEventsPerSecond.map { hubstoreEventsPerSecond / $0 } }
    }

    public let options: Options

    public init(options: Options) {
        self.options = options
    }

    /// Runs HubStore then raw SQLite once.
    ///
    /// - Parameters:
    ///   - acknowledged: called with each event id after its commit returned (for crash tests).
    ///   - log: progress lines for the operator.
    public func run(
        acknowledged: (@Sendable (String) -> Void)? = nil,
        log: @Sendable (String) -> Void = { _ in }
    ) async throws -> Run {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
            "hubstore-bench-\(UUID().uuidString)"
        )
        .path
        // Made only when something goes there: the crash tests kill a run on their own `--data`
        // without the raw reference, which would otherwise leave an empty directory behind each time.
        if options.dataDirectory == nil || options.includeRaw {
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        }
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let payload = Self.payload(bytes: options.payloadBytes)

        log("hubstore: \(options.events) events, \(options.submitters) submitters, \(options.streams) streams")
        let (hubstoreSeconds, statistics) = try await runHubStore(
            directory: options.dataDirectory ?? scratch + "/hubstore",
            payload: payload,
            acknowledged: acknowledged
        )
        var run = Run(
            hubstoreEventsPerSecond: Double(options.events) / hubstoreSeconds,
            hubstoreSeconds: hubstoreSeconds,
            rawEventsPerSecond: nil,
            rawSeconds: nil,
            averageBatchSize: statistics.averageBatchSize,
            smallestBatch: statistics.smallestBatch,
            largestBatch: statistics.largestBatch,
            batches: statistics.batches
        )
        log(
            String(
                format: "hubstore: %.0f events/s, average batch %.1f",
                run.hubstoreEventsPerSecond,
                run.averageBatchSize
            )
        )
        guard options.includeRaw else { return run }

        let batchSize = max(1, Int(statistics.averageBatchSize.rounded()))
        log("raw sqlite: same events in batches of \(batchSize)")
        let rawSeconds = try await runRaw(path: scratch + "/raw.sqlite", payload: payload, batchSize: batchSize)
        run.rawSeconds = rawSeconds
        run.rawEventsPerSecond = Double(options.events) / rawSeconds
        log(String(format: "raw sqlite: %.0f events/s", run.rawEventsPerSecond ?? 0))
        return run
    }

    /// A JSON object of about `bytes` bytes.
    static func payload(bytes: Int) -> String {
        let prefix = #"{"text":""#
        let suffix = #"","kind":"bench"}"#
        let fill = max(0, bytes - prefix.utf8.count - suffix.utf8.count)
        return prefix + String(repeating: "x", count: fill) + suffix
    }

    func stream(of index: Int) -> String { "bench/\(index % options.streams)" }
    func account(of index: Int) -> String { "account-\(index % 16)" }

    private func runHubStore(
        directory: String,
        payload: String,
        acknowledged: (@Sendable (String) -> Void)?
    ) async throws -> (Double, WriterStatistics) {
        let store = try await EventStore.open(
            EventStoreConfiguration(
                dataDirectory: directory,
                synchronous: options.synchronous,
                maxBatchSize: options.maxBatchSize,
                batchWait: options.batchWait,
                queueCapacity: max(16_384, options.submitters * 2)
            ),
            // The log alone: this benchmark measures the append path against raw SQLite inserts.
            readModels: .none
        )
        let next = TicketCounter()
        let events = options.events
        let clock = ContinuousClock()
        let started = clock.now
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await store.writer.run() }
                try await withThrowingTaskGroup(of: Void.self) { submitters in
                    for _ in 0..<options.submitters {
                        submitters.addTask {
                            while true {
                                let index = next.take()
                                guard index < events else { return }
                                let result = try await store.append(
                                    [
                                        EventDraft(
                                            type: "bench.appended",
                                            data: payload,
                                            account: account(of: index),
                                            actor: "bench"
                                        )
                                    ],
                                    to: stream(of: index)
                                )
                                if let acknowledged { for id in result.eventIds { acknowledged(id) } }
                            }
                        }
                    }
                    try await submitters.waitForAll()
                }
                store.writer.shutDown()
                try await group.waitForAll()
            }
        } catch {
            store.writer.shutDown()
            await store.close()
            throw error
        }
        let seconds = Self.seconds(started.duration(to: clock.now))
        let statistics = store.writer.committedStatistics
        await store.close()
        return (seconds, statistics)
    }

    private func runRaw(path: String, payload: String, batchSize: Int) async throws -> Double {
        // The rows are made (ids, hash chain) before the clock starts: the reference is storage alone.
        var rows: [RecordedEvent] = []
        rows.reserveCapacity(options.events)
        var previous = EventHash.genesis
        var versions = [Int64](repeating: 0, count: options.streams)
        let recordedAt = Int64(Date().timeIntervalSince1970 * 1000)
        for index in 0..<options.events {
            versions[index % options.streams] += 1
            var event = RecordedEvent(
                position: Int64(index + 1),
                id: EventID.makeV7(),
                stream: stream(of: index),
                version: versions[index % options.streams],
                type: "bench.appended",
                schemaVersion: 1,
                recordedAt: recordedAt,
                account: account(of: index),
                actor: "bench",
                correlationId: nil,
                causationId: nil,
                data: payload,
                hash: []
            )
            event.hash = EventHash.compute(event, previous: previous)
            previous = event.hash
            rows.append(event)
        }
        let connection = try await SerializedConnection(
            path: path,
            configuration: .init(journalModeWAL: true, synchronous: options.synchronous),
            label: "hubstore.bench.raw"
        )
        let prepared = rows
        let seconds = try await connection.perform { connection in
            _ = try EventStoreSchema.migrator.migrate(connection, recordedAt: recordedAt)
            // The names are interned before the clock starts too: the reference inserts records alone.
            let names = EventNames()
            var ids: [String: Int64] = [:]
            try connection.transaction(.immediate) {
                for row in prepared {
                    for name in [row.stream, row.type, row.actor] + (row.account.map { [$0] } ?? [])
                    where ids[name] == nil {
                        ids[name] = try names.id(of: name, connection)
                    }
                }
            }
            return try Self.insertRaw(prepared, names: ids, batchSize: batchSize, database: connection.handle)
        }
        await connection.close()
        return seconds
    }

    /// The reference loop, in plain C API calls: BEGIN IMMEDIATE, bind/step/reset per row, COMMIT.
    private static func insertRaw(
        _ rows: [RecordedEvent],
        names: [String: Int64],
        batchSize: Int,
        database: OpaquePointer
    ) throws -> Double {
        var statement: OpaquePointer?
        guard
            sqlite3_prepare_v3(database, EventLog.insertSQL, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
                == SQLITE_OK,
            let statement
        else { throw SQLiteError(code: .error, message: String(cString: sqlite3_errmsg(database))) }
        defer { sqlite3_finalize(statement) }
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        func check(_ code: Int32) throws {
            if code != SQLITE_OK && code != SQLITE_DONE {
                throw SQLiteError(code: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(database)))
            }
        }
        func bindText(_ text: String?, _ index: Int32) {
            guard let text else {
                sqlite3_bind_null(statement, index)
                return
            }
            sqlite3_bind_text(statement, index, text, -1, transient)
        }
        let clock = ContinuousClock()
        let started = clock.now
        var offset = 0
        while offset < rows.count {
            try check(sqlite3_exec(database, "BEGIN IMMEDIATE", nil, nil, nil))
            for row in rows[offset..<min(offset + batchSize, rows.count)] {
                sqlite3_bind_int64(statement, 1, row.position)
                bindText(row.id, 2)
                sqlite3_bind_int64(statement, 3, names[row.stream] ?? 0)
                sqlite3_bind_int64(statement, 4, row.version)
                sqlite3_bind_int64(statement, 5, names[row.type] ?? 0)
                sqlite3_bind_int64(statement, 6, Int64(row.schemaVersion))
                sqlite3_bind_int64(statement, 7, row.recordedAt)
                if let account = row.account, let id = names[account] {
                    sqlite3_bind_int64(statement, 8, id)
                } else {
                    sqlite3_bind_null(statement, 8)
                }
                sqlite3_bind_int64(statement, 9, names[row.actor] ?? 0)
                bindText(row.correlationId, 10)
                bindText(row.causationId, 11)
                bindText(row.data, 12)
                row.hash.withUnsafeBytes { _ = sqlite3_bind_blob(statement, 13, $0.baseAddress, 32, transient) }
                try check(sqlite3_step(statement))
                sqlite3_reset(statement)
            }
            try check(sqlite3_exec(database, "COMMIT", nil, nil, nil))
            offset += batchSize
        }
        return seconds(started.duration(to: clock.now))
    }

    package static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// Hands out 0, 1, 2, ... to concurrent submitters.
final class TicketCounter: Sendable {
    private let value = Atomic<Int>(0)

    func take() -> Int { value.add(1, ordering: .relaxed).oldValue }
}
