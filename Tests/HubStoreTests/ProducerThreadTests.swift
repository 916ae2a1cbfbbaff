import Foundation
@_spi(Storage) import HubEventLog
import Testing

/// The handoff between a producing thread and its consumer (the rebuild's feed, the import's reader).
struct ProducerThreadTests {
    struct Broken: Error, Equatable {}

    /// A value shared with the producer's thread.
    final class Shared<Value: Sendable>: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: Value
        init(_ value: Value) { stored = value }
        var value: Value {
            get { lock.withLock { stored } }
            set { lock.withLock { stored = newValue } }
        }
    }

    @Test func theConsumerGetsEveryBatchInOrderThenTheProducersFailure() throws {
        let producer = ProducerThread<Int>(name: "test-producer", capacity: 2) { send in
            for batch in 1...10 { guard send(batch) else { return } }
            throw Broken()
        }
        defer { producer.cancel() }
        var received: [Int] = []
        #expect(throws: Broken.self) {
            while let batch = try producer.next() { received.append(batch) }
        }
        #expect(received == Array(1...10))
    }

    @Test func aProducerEndingCleanlyEndsTheBatches() throws {
        let producer = ProducerThread<[String]>(name: "test-producer") { send in
            _ = send(["a", "b"])
            _ = send([])
        }
        defer { producer.cancel() }
        #expect(try producer.next() == ["a", "b"])
        #expect(try producer.next() == [])
        #expect(try producer.next() == nil)
        #expect(try producer.next() == nil)
    }

    @Test func cancellingStopsAProducerWaitingOnAFullQueueAndWaitsForIt() {
        let sent = Shared(0)
        let returned = Shared(false)
        let producer = ProducerThread<Int>(name: "test-producer", capacity: 1) { send in
            defer { returned.value = true }
            var batch = 0
            while send(batch) {
                sent.value += 1
                batch += 1
            }
        }
        // Nothing is consumed: the producer fills the queue (one batch) and waits in its next send.
        let deadline = ContinuousClock.now + .seconds(5)
        while sent.value < 1 && ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.01) }
        Thread.sleep(forTimeInterval: 0.05)
        let sentBeforeCancel = sent.value
        let returnedBeforeCancel = returned.value
        #expect(sentBeforeCancel == 1)
        #expect(!returnedBeforeCancel)
        producer.cancel()
        let returnedAfterCancel = returned.value
        #expect(returnedAfterCancel)
    }

    @Test func recycledBatchesAreFreedOnTheProducersThread() throws {
        final class Marker: Sendable {
            let freedOn: Shared<pthread_t?>
            init(_ freedOn: Shared<pthread_t?>) { self.freedOn = freedOn }
            deinit { freedOn.value = pthread_self() }
        }
        let freedOn = Shared<pthread_t?>(nil)
        let producerThread = Shared<pthread_t?>(nil)
        let recycled = Shared(false)
        let producer = ProducerThread<[Marker]>(name: "test-producer", capacity: 1) { send in
            producerThread.value = pthread_self()
            guard send([Marker(freedOn)]) else { return }
            let deadline = ContinuousClock.now + .seconds(5)
            while !recycled.value && ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.001) }
            // Its next send frees what the consumer handed back.
            _ = send([])
        }
        defer { producer.cancel() }
        guard let first = try producer.next() else {
            Issue.record("no first batch")
            return
        }
        producer.recycle(consume first)
        recycled.value = true
        let second = try producer.next()
        #expect(second?.isEmpty == true)
        producer.cancel()  // waits for the producer to return
        let (freed, produced) = (freedOn.value, producerThread.value)
        #expect(freed != nil && freed == produced)
    }
}
