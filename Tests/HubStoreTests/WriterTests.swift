import Foundation
import HubCommands
@_spi(Storage) import HubEventLog
import HubReadModels
import HubTestSupport
import HubTools
import HubVault
import Testing

struct WriterTests {
    @Test func aFullQueueAnswersOverloadedAtOnceAndTheWriterRecovers() async throws {
        try await withTemporaryDirectory { directory in
            let store = try await EventStore.open(.init(dataDirectory: directory, queueCapacity: 8), readModels: .hub)
            // The writer is not running yet, so the queue fills up.
            let results = await withTaskGroup(of: Result<AppendResult, any Error>?.self) { group in
                for index in 0..<8 {
                    group.addTask { await catching { try await store.append([draft()], to: "q/\(index)") } }
                }
                // Wait until the eight are queued, then one more must be refused at once.
                while store.writer.queueDepth < 8 { await Task.yield() }
                let clock = ContinuousClock()
                let started = clock.now
                await #expect(throws: EventStoreError.overloaded(queueCapacity: 8)) {
                    try await store.append([draft()], to: "q/extra")
                }
                #expect(started.duration(to: clock.now) < .seconds(1))
                group.addTask {
                    try? await store.writer.run()
                    return nil
                }
                var results: [Result<AppendResult, any Error>] = []
                for await result in group {
                    if let result { results.append(result) }
                    if results.count == 8 { store.writer.shutDown() }
                }
                return results
            }
            #expect(results.allSatisfy { (try? $0.get()) != nil })
            #expect(try await store.readAll().count == 8)
            await store.close()
        }
    }

    @Test func commandsAfterShutdownAreRefusedAndQueuedOnesStillCommit() async throws {
        try await withTemporaryDirectory { directory in
            let store = try await EventStore.open(.init(dataDirectory: directory), readModels: .hub)
            let pending = Task { try await store.append([draft()], to: "s/1") }
            while store.writer.queueDepth < 1 { await Task.yield() }
            store.writer.shutDown()
            await #expect(throws: EventStoreError.shuttingDown) { try await store.append([draft()], to: "s/2") }
            try await store.writer.run()
            #expect(try await pending.value.positions == [1])
            await store.close()
        }
    }

    @Test func cancellingTheWriterCommitsWhatIsQueuedAndStops() async throws {
        try await withTemporaryDirectory { directory in
            let store = try await EventStore.open(.init(dataDirectory: directory), readModels: .hub)
            let pending = Task { try await store.append([draft()], to: "s/1") }
            while store.writer.queueDepth < 1 { await Task.yield() }
            let writer = Task { try await store.writer.run() }
            writer.cancel()
            try await writer.value
            #expect(try await pending.value.positions == [1])
            await #expect(throws: EventStoreError.shuttingDown) { try await store.append([draft()], to: "s/2") }
            await store.close()
        }
    }

    @Test func aSecondStoreOnTheSameDirectoryIsRefused() async throws {
        try await withTemporaryDirectory { directory in
            let store = try await EventStore.open(.init(dataDirectory: directory), readModels: .hub)
            let error = await #expect(throws: DataDirectoryError.self) {
                try await EventStore.open(.init(dataDirectory: directory), readModels: .hub)
            }
            #expect(error.map { "\($0)" }?.contains("in use by another hubstore process") == true)
            await store.close()
            // Closing released the lock, even though `store` is still referenced.
            let again = try await EventStore.open(.init(dataDirectory: directory), readModels: .hub)
            await again.close()
            withExtendedLifetime(store) {}
        }
    }

    @Test func aCorruptDatabaseFileIsAClearError() async throws {
        try await withTemporaryDirectory { directory in
            try Data(repeating: 0x17, count: 4096).write(to: URL(fileURLWithPath: directory + "/hub.sqlite"))
            let error = await #expect(throws: EventStoreOpenError.self) {
                try await EventStore.open(.init(dataDirectory: directory), readModels: .hub)
            }
            #expect(error.map { "\($0)" }?.contains("is not a valid SQLite database") == true)
        }
    }
}

struct SharedWriterTests {
    @Test func aToolBesideTheServerAppendsAndTheChainStaysIntact() async throws {
        try await withTemporaryDirectory { directory in
            try await withStore(directory) { server in
                let tool = try await EventStore.open(
                    .init(dataDirectory: directory),
                    exclusive: false,
                    readModels: .hub
                )
                try await tool.withWriter { tool in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for index in 0..<40 {
                            group.addTask { _ = try await server.append([draft()], to: "server/\(index % 4)") }
                            group.addTask { _ = try await tool.append([draft()], to: "tool/\(index % 4)") }
                        }
                        try await group.waitForAll()
                    }
                }
                await tool.close()
                #expect(try await server.readAll(limit: 1000).map(\.position) == Array(1...80))
            }
            let report = try await ChainVerifier(databasePath: directory + "/hub.sqlite").verify()
            #expect(report.isIntact)
            #expect(report.eventCount == 80)
        }
    }
}

struct ExternalCommitWatcherTests {
    @Test(.timeLimit(.minutes(5)))
    func aSubscriberSeesEventsAnotherProcessAppended() async throws {
        try await withTemporaryDirectory { directory in
            try await withStore(directory) { server in
                _ = try await server.append([draft()], to: "s/server")
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await ExternalCommitWatcher(store: server, interval: .milliseconds(20)).run() }
                    var events = server.subscribe(after: 1).makeAsyncIterator()
                    // A tool beside the server appends; the server itself commits nothing more.
                    let tool = try await EventStore.open(
                        .init(dataDirectory: directory),
                        exclusive: false,
                        readModels: .hub
                    )
                    let result = try await tool.withWriter { try await $0.append([draft()], to: "s/tool") }
                    await tool.close()
                    let next = try await events.next()
                    #expect(next?.position == result.positions[0])
                    #expect(next?.stream == "s/tool")
                    group.cancelAll()
                }
            }
        }
    }
}
