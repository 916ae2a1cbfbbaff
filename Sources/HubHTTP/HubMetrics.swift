import Foundation
import HubCommands
import HubEventLog
import HubReadModels
import HubVault
public import Prometheus

/// The Prometheus registry of one running hub, and the factory the store's metrics are made with.
public struct HubMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    public let factory: PrometheusMetricsFactory
    let queueDepth: Gauge
    let walSize: Gauge
    let headPosition: Gauge
    let storageFailing: Gauge
    let residentMemory: Gauge
    let peakResidentMemory: Gauge
    let cpuSeconds: Gauge
    let storageWritten: Gauge
    let threadCPUSeconds: [ThreadGroup: Gauge]

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.valueHistogramBuckets["hubstore_writer_batch_size"] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]
        factory.valueHistogramBuckets["hubstore_delivery_messages_per_call"] = [1, 2, 4, 8, 16, 25]
        factory.durationHistogramBuckets["hubstore_writer_commit_duration_seconds"] = [
            .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .seconds(1),
        ]
        for stage in EventStore.writerStageMetrics {
            factory.durationHistogramBuckets[stage] = [
                .microseconds(10), .microseconds(25), .microseconds(50), .microseconds(100), .microseconds(250),
                .microseconds(500), .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10),
                .milliseconds(25), .milliseconds(50), .milliseconds(100),
            ]
        }
        factory.durationHistogramBuckets["hubstore_delivery_latency_seconds"] = [
            .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
        ]
        self.factory = factory
        queueDepth = registry.makeGauge(
            descriptor: .init(
                namespace: "hubstore",
                subsystem: "writer",
                metricName: "queue_depth",
                unitName: "",
                helpText: "Commands waiting for the writer"
            )
        )
        walSize = registry.makeGauge(
            descriptor: .init(
                namespace: "hubstore",
                subsystem: "sqlite",
                metricName: "wal_size",
                unitName: "bytes",
                helpText: "Size of the write-ahead log file"
            )
        )
        headPosition = registry.makeGauge(
            descriptor: .init(
                namespace: "hubstore",
                subsystem: "log",
                metricName: "head_position",
                unitName: "",
                helpText: "The last committed log position"
            )
        )
        storageFailing = registry.makeGauge(
            descriptor: .init(
                namespace: "hubstore",
                subsystem: "writer",
                metricName: "storage_failing",
                unitName: "",
                helpText: "1 while writes fail (a full disk, an I/O error), 0 otherwise"
            )
        )
        residentMemory = registry.makeGauge(
            descriptor: .init(
                namespace: "process",
                metricName: "resident_memory",
                unitName: "bytes",
                helpText: "Resident memory of the process"
            )
        )
        peakResidentMemory = registry.makeGauge(
            descriptor: .init(
                namespace: "hubstore",
                subsystem: "process",
                metricName: "peak_resident_memory",
                unitName: "bytes",
                helpText: "The most resident memory the process has had"
            )
        )
        cpuSeconds = registry.makeGauge(
            descriptor: .init(
                namespace: "process",
                metricName: "cpu_seconds",
                unitName: "total",
                helpText: "CPU time the process has used, user and system"
            )
        )
        storageWritten = registry.makeGauge(
            descriptor: .init(
                namespace: "hubstore",
                subsystem: "process",
                metricName: "storage_written",
                unitName: "bytes",
                helpText: "Bytes the process has sent to storage (the WAL, checkpoints, assets), by /proc/self/io"
            )
        )
        threadCPUSeconds = Dictionary(
            uniqueKeysWithValues: ThreadGroup.allCases.map { group in
                (
                    group,
                    registry.makeGauge(
                        descriptor: .init(
                            namespace: "hubstore",
                            subsystem: "process",
                            metricName: "thread_cpu",
                            unitName: "seconds",
                            helpText: "CPU time of the process's threads alive now, user and system, by what they "
                                + "run: writer, wal_sync, event_loops (HTTP), tasks (Swift Concurrency), dispatch "
                                + "(read connections), other"
                        ),
                        labels: [("threads", group.rawValue)]
                    )
                )
            }
        )
    }

    /// The exposition text, with the gauges read at scrape time brought up to date first.
    func scrape(_ store: EventStore) -> [UInt8] {
        queueDepth.set(Double(store.writer.queueDepth))
        walSize.set(Double(store.walSize))
        headPosition.set(Double(store.headPosition))
        storageFailing.set(Double(store.writer.storageFailure == nil ? 0 : 1))
        let memory = ProcessMemory.read()
        residentMemory.set(Double(memory.resident))
        peakResidentMemory.set(Double(memory.peak))
        cpuSeconds.set(ProcessStatistics.cpuSeconds())
        storageWritten.set(Double(ProcessStatistics.storageWrittenBytes()))
        for (group, seconds) in ThreadGroup.cpuSeconds() { threadCPUSeconds[group]?.set(seconds) }
        return registry.emitToBuffer()
    }
}
