import Foundation
import Testing

@testable import HubCommands
@testable import HubEventLog
@testable import HubReadModels
@testable import HubVault

/// The queue between callers and the writer: how the writer's thread waits for a batch to grow.
struct WriteQueueTests {
    @Test func waitingForAnArrivalEndsWhenACommandIsQueued() async throws {
        let queue = WriteQueue(capacity: 8)
        let enqueued = Thread {
            Thread.sleep(forTimeInterval: 0.05)
            try? queue.enqueue(Noop())
        }
        let clock = ContinuousClock()
        let started = clock.now
        enqueued.start()
        // A generous timeout: the wait must end with the enqueue, long before it.
        #expect(queue.waitForArrival(timeout: .seconds(10)))
        #expect(started.duration(to: clock.now) < .seconds(5))
        #expect(queue.takeMore(maximum: 8).count == 1)
    }

    @Test func waitingForAnArrivalTimesOutWhenNothingComes() {
        let queue = WriteQueue(capacity: 8)
        let clock = ContinuousClock()
        let started = clock.now
        #expect(!queue.waitForArrival(timeout: .milliseconds(20)))
        // It timed out (a leftover signal would end it at once); dispatch's timer may fire a fraction
        // of a millisecond before this clock says 20 ms have passed.
        #expect(started.duration(to: clock.now) >= .milliseconds(15))
        // A command queued after the timeout is seen by the next wait at once, and only once: no
        // signal from an earlier wait is left over to end a later one early.
        try? queue.enqueue(Noop())
        #expect(queue.waitForArrival(timeout: .seconds(10)))
        #expect(queue.takeMore(maximum: 8).count == 1)
        let again = clock.now
        #expect(!queue.waitForArrival(timeout: .milliseconds(20)))
        #expect(again.duration(to: clock.now) >= .milliseconds(20))
    }

    @Test func manyArrivalsDuringWaitsLeaveNoSignalBehind() {
        let queue = WriteQueue(capacity: 100_000)
        let producer = Thread {
            // Paced near the wait's timeout, so arrivals race with timeouts.
            for _ in 0..<2_000 {
                try? queue.enqueue(Noop())
                usleep(40)
            }
        }
        producer.start()
        var taken = 0
        var emptyWakeUps = 0
        while taken < 2_000 {
            let arrived = queue.waitForArrival(timeout: .microseconds(50))
            let more = queue.takeMore(maximum: 100_000).count
            // A wait that says commands arrived, with none queued, was ended by a signal left over
            // from an earlier wait that timed out.
            if arrived && more == 0 { emptyWakeUps += 1 }
            taken += more
        }
        #expect(emptyWakeUps == 0)
        let clock = ContinuousClock()
        let started = clock.now
        #expect(!queue.waitForArrival(timeout: .milliseconds(20)))
        #expect(started.duration(to: clock.now) >= .milliseconds(20))
    }

    @Test func aClosedQueueEndsAWaitAtOnce() {
        let queue = WriteQueue(capacity: 8)
        queue.close()
        #expect(queue.waitForArrival(timeout: .seconds(10)))
        #expect(queue.takeMore(maximum: 8).isEmpty)
    }

    @Test func commandsQueuedWhileTheWriterWasBusyAreTakenWithoutWaiting() async throws {
        let queue = WriteQueue(capacity: 8)
        for _ in 0..<3 { try queue.enqueue(Noop()) }
        let next = try #require(await queue.nextBatch(maximum: 8))
        #expect(next.commands.count == 3)
        #expect(!next.waited)
    }
}

private final class Noop: PendingCommand {
    let enqueued = ContinuousClock.now
    func execute(in transaction: LogTransaction) -> (any Error)? { nil }
    func complete(overridingWith failure: (any Error)?) {}
}
