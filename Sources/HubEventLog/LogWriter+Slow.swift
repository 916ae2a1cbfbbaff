import Logging

// The writer's batches and syncs that took long enough for callers to notice: one warning line per
// second at most, with what the time went to, so that an operator can tell a stall's cause.
extension LogWriter {
    /// Logs a committed batch that took at least ``EventStoreConfiguration/slowBatchThreshold``, from
    /// the writer taking it to its commit (and any WAL truncation after an erasure) being done.
    func reportIfSlow(_ stages: BatchStages, took: Duration, commands: Int, events: Int) {
        guard took >= configuration.slowBatchThreshold,
            let suppressed = throttle.admit("slow.batch")
        else { return }
        let commandTimes = stages.commands.reduce(Duration.zero, +)
        logger.warning(
            "slow batch",
            metadata: [
                "duration": "\(Self.milliseconds(took))",
                "batch.size": "\(commands)",
                "batch.events": "\(events)",
                "commands.duration": "\(Self.milliseconds(commandTimes))",
                "commands.slowest": "\(Self.milliseconds(stages.commands.max() ?? .zero))",
                "batch_end.duration": "\(Self.milliseconds(stages.batchEnd))",
                "commit.duration": "\(Self.milliseconds(stages.sync))",
                "warnings.suppressed": "\(suppressed)",
            ]
        )
    }

    /// Logs a WAL fsync, run off the writer's thread, that took at least the same threshold: its
    /// batch's callers waited for it.
    func reportIfSlow(fsync: Duration, commands: Int) {
        guard fsync >= configuration.slowBatchThreshold,
            let suppressed = throttle.admit("slow.fsync")
        else { return }
        logger.warning(
            "slow WAL sync",
            metadata: [
                "duration": "\(Self.milliseconds(fsync))",
                "batch.size": "\(commands)",
                "warnings.suppressed": "\(suppressed)",
            ]
        )
    }

    /// A duration as milliseconds with a unit, to a tenth (`"1834.2 ms"`).
    static func milliseconds(_ duration: Duration) -> String {
        "\((duration / .microseconds(100)).rounded() / 10) ms"
    }
}
