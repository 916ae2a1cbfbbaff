import Testing

@testable import HubHTTP

/// `hubstore_process_thread_cpu_seconds` groups a thread by its name, as Linux keeps it (15 bytes).
struct ThreadGroupTests {
    @Test(arguments: [
        ("hubstore-writer", ThreadGroup.writer),
        ("hubstore-wal-sy", .walSync),
        ("NIO-SGLTN-1-#0", .eventLoops),
        // Dispatch names a thread after its root queue, and Linux keeps the name's end.
        ("oot.default-qos", .tasks),
        ("r-initiated-qos", .tasks),
        ("-qos.overcommit", .dispatch),
        ("hubstore", .other),
        ("hubstore-feed", .other),
    ])
    func aThreadIsGroupedByItsName(name: String, group: ThreadGroup) {
        #expect(ThreadGroup(threadName: name) == group)
    }

    @Test func thisProcessHasThreadsAndEveryGroupIsReported() {
        let seconds = ThreadGroup.cpuSeconds()
        #expect(Set(seconds.keys) == Set(ThreadGroup.allCases))
        #expect(seconds.values.allSatisfy { $0 >= 0 })
    }
}
