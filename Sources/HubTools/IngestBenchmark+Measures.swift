import Foundation
@_spi(Storage) import HubEventLog
import HubSQLite
import NIOHTTP1

extension IngestBenchmark {
    /// The writer's stages during the run, from the hub's `/metrics` before and after (so a server in
    /// another process reports the same): means per command, per batch and per delivery call.
    public struct Stages: Sendable {
        public var batches: Double = 0
        public var commandsPerBatch: Double = 0
        public var queueWaitMicroseconds: Double = 0
        public var commandMicroseconds: Double = 0
        public var batchEndMicroseconds: Double = 0
        public var syncMicroseconds: Double = 0
        /// The WAL fsyncs made off the writer's thread, and their mean.
        public var fsyncs: Double = 0
        public var fsyncMicroseconds: Double = 0
        public var deliveryCallMilliseconds: Double = 0
        /// The hub process's peak resident memory (this process's, when the hub runs in it).
        public var peakResidentBytes: Double = 0
        /// The hub process's CPU time during the run, user and system (with the load generator's, when
        /// the hub runs in this process).
        public var cpuSeconds: Double = 0
        /// What the hub process sent to storage during the run: WAL frames and checkpoints, mostly.
        public var storageWrittenBytes: Double = 0
        /// ``cpuSeconds`` by the hub's threads' groups (`hubstore_process_thread_cpu_seconds`): writer,
        /// wal_sync, event_loops, tasks, dispatch, other. Threads that ended during the run are missing.
        public var threadCPUSeconds: [(threads: String, seconds: Double)] = []

        init(before: MetricsSnapshot, after: MetricsSnapshot) {
            func mean(_ name: String, scale: Double) -> Double {
                let count = after[name + "_count"] - before[name + "_count"]
                return count > 0 ? (after[name + "_sum"] - before[name + "_sum"]) / count * scale : 0
            }
            batches = after["hubstore_writer_batch_size_count"] - before["hubstore_writer_batch_size_count"]
            commandsPerBatch = mean("hubstore_writer_batch_size", scale: 1)
            queueWaitMicroseconds = mean("hubstore_writer_queue_wait_seconds", scale: 1e6)
            commandMicroseconds = mean("hubstore_writer_command_duration_seconds", scale: 1e6)
            batchEndMicroseconds = mean("hubstore_writer_batch_end_duration_seconds", scale: 1e6)
            syncMicroseconds = mean("hubstore_writer_sync_duration_seconds", scale: 1e6)
            fsyncs =
                after["hubstore_writer_fsync_duration_seconds_count"]
                - before["hubstore_writer_fsync_duration_seconds_count"]
            fsyncMicroseconds = mean("hubstore_writer_fsync_duration_seconds", scale: 1e6)
            deliveryCallMilliseconds = mean("hubstore_delivery_latency_seconds", scale: 1e3)
            peakResidentBytes = after["hubstore_process_peak_resident_memory_bytes"]
            cpuSeconds = after["process_cpu_seconds_total"] - before["process_cpu_seconds_total"]
            storageWrittenBytes =
                after["hubstore_process_storage_written_bytes"] - before["hubstore_process_storage_written_bytes"]
            threadCPUSeconds = Self.threadGroups.compactMap { group in
                let series = "hubstore_process_thread_cpu_seconds{threads=\"\(group)\"}"
                guard after.values[series] != nil else { return nil }
                return (group, max(0, after[series] - before[series]))
            }
        }

        public init() {}

        /// The groups of `hubstore_process_thread_cpu_seconds`, in the order printed.
        static let threadGroups = ["writer", "wal_sync", "event_loops", "tasks", "dispatch", "other"]

        /// The writer's time per message: its command plus its share of the batch's end and commit (with
        /// the fsync, unless that runs off the writer's thread).
        public var writerMicrosecondsPerCommand: Double {
            commandMicroseconds + (batchEndMicroseconds + syncMicroseconds) / max(commandsPerBatch, 1)
        }
    }

    /// The unlabelled samples of a Prometheus exposition text (histograms' `_sum` and `_count`,
    /// counters, gauges); a missing one reads 0.
    struct MetricsSnapshot: Sendable {
        var values: [String: Double] = [:]

        init(_ text: String) {
            // `name value`, or `name{labels} value` (a label's value has no space here).
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                let fields = line.split(separator: " ")
                if fields.count == 2, let value = Double(fields[1]) { values[String(fields[0])] = value }
            }
        }

        init() {}

        subscript(name: String) -> Double { values[name] ?? 0 }

        static func read(_ hub: some HubEndpoint) async -> MetricsSnapshot {
            guard let (status, text) = try? await hub.call(.GET, "/metrics"), status == 200 else { return .init() }
            return MetricsSnapshot(text)
        }
    }

    /// What the store takes on disk, tables and indexes, by SQLite's `dbstat`: in all and per table
    /// or index, largest first.
    public struct StoreSize: Sendable {
        public var bytes: Int64
        public var objects: [(name: String, bytes: Int64)]

        /// Reads the database of the data directory at `path` (read-only: safe beside a server), on a
        /// thread of its own: `dbstat` reads every page, seconds for a large store.
        static func measure(dataDirectory path: String) async throws -> StoreSize {
            try await onOwnThread { try measureBlocking(dataDirectory: path) }
        }

        private static func measureBlocking(dataDirectory path: String) throws -> StoreSize {
            let connection = try Connection(
                path: DataDirectory(path: path).databasePath,
                configuration: .init(mode: .readOnly)
            )
            defer { connection.close() }
            return try connection.transaction(.deferred) {
                let statement = try connection.prepare(
                    sql: "SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"
                )
                var objects: [(name: String, bytes: Int64)] = []
                while try statement.step() { objects.append((statement.text(at: 0), statement.int64(at: 1))) }
                return StoreSize(bytes: objects.reduce(0) { $0 + $1.bytes }, objects: objects)
            }
        }
    }
}
