import Metrics

/// The store's metrics, made through the factory the application provides (so tests and the
/// server can each have their own registry instead of a process-wide bootstrap).
struct StoreMetrics: Sendable {
    let appendedEvents: Counter
    let failedCommits: Counter
    /// Batches run again with each command under its own savepoint, after one failed having written.
    let isolatedReruns: Counter
    let batchSize: Recorder
    let commitDuration: Metrics.Timer
    /// The writer's stages (DESIGN.md §10): how long a command waited in the queue, how long it ran
    /// inside the batch, how long the batch's end took (held-back projection writes, the projections'
    /// positions), and how long its COMMIT took (the WAL write and its fsync).
    let queueWait: Metrics.Timer
    let commandDuration: Metrics.Timer
    let batchEndDuration: Metrics.Timer
    let syncDuration: Metrics.Timer
    /// The WAL fsync made off the writer's thread (``WALSyncer``), per sync.
    let fsyncDuration: Metrics.Timer

    /// Labels, so the HTTP layer can configure histogram buckets for them.
    static let batchSizeLabel = "hubstore_writer_batch_size"
    static let commitDurationLabel = "hubstore_writer_commit_duration_seconds"
    static let stageLabels = [
        "hubstore_writer_queue_wait_seconds", "hubstore_writer_command_duration_seconds",
        "hubstore_writer_batch_end_duration_seconds", "hubstore_writer_sync_duration_seconds",
        "hubstore_writer_fsync_duration_seconds",
    ]

    init(factory: any MetricsFactory) {
        appendedEvents = Counter(label: "hubstore_events_appended_total", factory: factory)
        failedCommits = Counter(label: "hubstore_writer_failed_commits_total", factory: factory)
        isolatedReruns = Counter(label: "hubstore_writer_isolated_reruns_total", factory: factory)
        batchSize = Recorder(label: Self.batchSizeLabel, dimensions: [], aggregate: true, factory: factory)
        commitDuration = Metrics.Timer(label: Self.commitDurationLabel, dimensions: [], factory: factory)
        let stages = Self.stageLabels.map { Metrics.Timer(label: $0, dimensions: [], factory: factory) }
        (queueWait, commandDuration, batchEndDuration, syncDuration, fsyncDuration) = (
            stages[0], stages[1], stages[2], stages[3], stages[4]
        )
    }
}
