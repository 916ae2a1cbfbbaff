import Metrics

/// The store's metrics, made through the factory the application provides (so tests and the
/// server can each have their own registry instead of a process-wide bootstrap).
struct StoreMetrics: Sendable {
    let appendedEvents: Counter
    let failedCommits: Counter
    let batchSize: Recorder
    let commitDuration: Metrics.Timer

    /// Labels, so the HTTP layer can configure histogram buckets for them.
    static let batchSizeLabel = "hubstore_writer_batch_size"
    static let commitDurationLabel = "hubstore_writer_commit_duration_seconds"

    init(factory: any MetricsFactory) {
        appendedEvents = Counter(label: "hubstore_events_appended_total", factory: factory)
        failedCommits = Counter(label: "hubstore_writer_failed_commits_total", factory: factory)
        batchSize = Recorder(label: Self.batchSizeLabel, dimensions: [], aggregate: true, factory: factory)
        commitDuration = Metrics.Timer(label: Self.commitDurationLabel, dimensions: [], factory: factory)
    }
}
