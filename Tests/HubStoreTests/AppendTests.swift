import Foundation
import HubCommands
@_spi(Storage) import HubEventLog
import HubReadModels
import HubSQLite
import HubTestSupport
import HubTools
import HubVault
import Synchronization
import Testing

private struct RolledBack: Error {}

/// How often each of some commands ran.
private final class RunCounts: Sendable {
    private let state: Mutex<[Int]>
    init(_ count: Int) { state = Mutex([Int](repeating: 0, count: count)) }
    func count(_ index: Int) { state.withLock { $0[index] += 1 } }
    var counts: [Int] { state.withLock { $0 } }
}

struct AppendTests {
    @Test func appendsGetGaplessPositionsVersionsAndAVerifiableChain() async throws {
        try await withTemporaryDirectory { directory in
            try await withStore(directory) { store in
                let first = try await store.append([draft(), draft()], to: "note/1", expectedVersion: .noStream)
                #expect(first.positions == [1, 2])
                #expect(first.versions == [1, 2])
                let second = try await store.append([draft()], to: "note/2")
                #expect(second.positions == [3])
                #expect(second.versions == [1])
                let third = try await store.append([draft()], to: "note/1", expectedVersion: .exact(2))
                #expect(third.versions == [3])
                let events = try await store.readAll()
                #expect(events.map(\.position) == [1, 2, 3, 4])
                #expect(events.map(\.id) == first.eventIds + second.eventIds + third.eventIds)
                #expect(Set(events.map(\.id)).count == 4)
                #expect(events.allSatisfy { $0.hash.count == 32 })
                #expect(try await store.readStream("note/1").map(\.version) == [1, 2, 3])
            }
            let report = try await ChainVerifier(databasePath: directory + "/hub.sqlite").verify()
            #expect(report.isIntact)
            #expect(report.eventCount == 4)
            #expect(report.streamCount == 2)
        }
    }

    @Test func expectedVersionMismatchesAreTypedConflicts() async throws {
        try await withTemporaryDirectory { directory in
            try await withStore(directory) { store in
                _ = try await store.append([draft()], to: "s/1")
                await #expect(
                    throws: EventStoreError.wrongExpectedVersion(stream: "s/1", expected: .noStream, actual: 1)
                ) {
                    try await store.append([draft()], to: "s/1", expectedVersion: .noStream)
                }
                await #expect(
                    throws: EventStoreError.wrongExpectedVersion(stream: "s/1", expected: .exact(5), actual: 1)
                ) {
                    try await store.append([draft()], to: "s/1", expectedVersion: .exact(5))
                }
                await #expect(
                    throws: EventStoreError.wrongExpectedVersion(stream: "s/2", expected: .exact(1), actual: 0)
                ) {
                    try await store.append([draft()], to: "s/2", expectedVersion: .exact(1))
                }
                #expect(store.headPosition == 1)
            }
        }
    }

    @Test func concurrentAppendsWithTheSameExpectedVersionHaveExactlyOneWinner() async throws {
        try await withTemporaryDirectory { directory in
            try await withStore(directory) { store in
                _ = try await store.append([draft()], to: "race/1")
                let outcomes = await withTaskGroup(of: (isRace: Bool, result: Result<AppendResult, any Error>).self) {
                    group in
                    for _ in 0..<64 {
                        group.addTask {
                            (
                                true,
                                await catching {
                                    try await store.append([draft()], to: "race/1", expectedVersion: .exact(1))
                                }
                            )
                        }
                        group.addTask {
                            (false, await catching { try await store.append([draft()], to: "other/\(UUID())") })
                        }
                    }
                    return await group.reduce(into: []) { $0.append($1) }
                }
                let raced = outcomes.filter(\.isRace).map(\.result)
                #expect(raced.filter { (try? $0.get()) != nil }.count == 1)
                #expect(outcomes.filter { !$0.isRace }.allSatisfy { (try? $0.result.get()) != nil })
                let conflicts = raced.compactMap { result -> EventStoreError? in
                    if case .failure(let error as EventStoreError) = result { return error }
                    return nil
                }
                #expect(conflicts.count == 63)
                #expect(
                    conflicts.allSatisfy {
                        $0 == .wrongExpectedVersion(stream: "race/1", expected: .exact(1), actual: 2)
                    }
                )
                let positions = try await store.readAll(limit: 10_000).map(\.position)
                #expect(positions == Array(1...Int64(positions.count)))
                #expect(positions.count == 1 + 1 + 64)
            }
        }
    }

    @Test func aFailingCommandFailsAloneInItsBatch() async throws {
        try await withTemporaryDirectory { directory in
            try await withStore(directory, configure: { $0.limits.maxEventDataBytes = 100 }) { store in
                let results = await withTaskGroup(of: (Int, Result<AppendResult, any Error>).self) { group in
                    for index in 0..<30 {
                        group.addTask {
                            let data =
                                index % 3 == 0
                                ? "not json"
                                : index % 3 == 1 ? #"{"big":"\#(String(repeating: "x", count: 200))"}"# : "{}"
                            return (
                                index,
                                await catching {
                                    try await store.append([draft("t", data), draft()], to: "b/\(index)")
                                }
                            )
                        }
                    }
                    return await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
                }
                for (index, result) in results {
                    switch index % 3 {
                    case 0:
                        #expect(throws: EventStoreError.invalidEvent("event data of type t is not valid JSON")) {
                            try result.get()
                        }
                    case 1:
                        #expect(throws: EventStoreError.eventTooLarge(size: 210, limit: 100)) { try result.get() }
                    default:
                        #expect(try result.get().versions == [1, 2])
                    }
                }
                let events = try await store.readAll()
                #expect(events.count == 20)
                #expect(events.map(\.position) == Array(1...20))
            }
            #expect(try await ChainVerifier(databasePath: directory + "/hub.sqlite").verify().isIntact)
        }
    }

    @Test func aRolledBackCommandLeavesNoGapInItsStreamsVersions() async throws {
        try await withTemporaryDirectory { directory in
            try await withStore(directory) { store in
                // Commands queued together share a batch; every other one appends to the shared stream
                // and then fails, so its savepoint is rolled back between its batch-mates' appends.
                await withTaskGroup(of: Void.self) { group in
                    for index in 0..<40 {
                        group.addTask {
                            _ = try? await store.writer.perform { transaction in
                                try transaction.append([draft()], to: "shared/1")
                                if index % 2 == 1 { throw RolledBack() }
                            }
                        }
                    }
                }
                let versions = try await store.readStream("shared/1").map(\.version)
                #expect(versions == Array(Int64(1)...20))
            }
            #expect(try await ChainVerifier(databasePath: directory + "/hub.sqlite").verify().isIntact)
        }
    }

    /// A batch runs its commands without savepoints. A command that fails before it writes leaves
    /// nothing to undo and its batch-mates run once; one that fails after it wrote has the batch rolled
    /// back and run again, each command under its own savepoint: its batch-mates commit once, and it
    /// leaves nothing.
    @Test(arguments: [false, true])
    func aCommandThatFailsAfterWritingHasItsBatchRunAgainIsolated(failsAfterWriting: Bool) async throws {
        try await withTemporaryDirectory { directory in
            try await withStore(directory) { store in
                let runs = RunCounts(8)
                let gate = DispatchSemaphore(value: 0)
                let holding = RunCounts(1)
                let reruns = store.writer.committedStatistics.isolatedReruns
                try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
                    // Holds the writer until the eight commands are queued, so that they share a batch.
                    group.addTask {
                        try await store.writer.perform { _ in
                            holding.count(0)
                            gate.wait()
                        }
                        return (-1, true)
                    }
                    while holding.counts == [0] { try await Task.sleep(for: .milliseconds(1)) }
                    for index in 0..<8 {
                        group.addTask {
                            let result = await catching {
                                try await store.writer.perform { transaction in
                                    runs.count(index)
                                    if index == 3, !failsAfterWriting { throw RolledBack() }
                                    try transaction.append([draft()], to: "isolated/\(index)")
                                    if index == 3 { throw RolledBack() }
                                }
                            }
                            return (index, (try? result.get()) != nil)
                        }
                    }
                    while store.writer.queueDepth < 8 { try await Task.sleep(for: .milliseconds(1)) }
                    gate.signal()
                    for try await (index, succeeded) in group where index >= 0 {
                        #expect(succeeded == (index != 3), "command \(index)")
                    }
                }
                if failsAfterWriting {
                    // The first run ends at the failing command: those queued before it ran in both runs.
                    #expect(runs.counts[3] == 2 && runs.counts.allSatisfy { $0 == 1 || $0 == 2 }, "\(runs.counts)")
                } else {
                    #expect(runs.counts == [Int](repeating: 1, count: 8))
                }
                #expect(store.writer.committedStatistics.isolatedReruns == reruns + (failsAfterWriting ? 1 : 0))
                for index in 0..<8 {
                    #expect(try await store.readStream("isolated/\(index)").count == (index == 3 ? 0 : 1))
                }
            }
            #expect(try await ChainVerifier(databasePath: directory + "/hub.sqlite").verify().isIntact)
        }
    }

    /// After a batch was run again isolated, the next ones run isolated from the start: a command
    /// failing after it wrote costs its savepoint's rollback, not a second run of its batch.
    @Test func theBatchesAfterARerunRunIsolatedFromTheStart() async throws {
        try await withTemporaryDirectory { directory in
            try await withStore(directory) { store in
                let runs = RunCounts(3)
                let reruns = store.writer.committedStatistics.isolatedReruns
                for index in 0..<3 {
                    let result = await catching {
                        try await store.writer.perform { transaction in
                            runs.count(index)
                            try transaction.append([draft()], to: "failing/\(index)")
                            throw RolledBack()
                        }
                    }
                    #expect(throws: RolledBack.self) { try result.get() }
                }
                // The first ran twice (without a savepoint, then with); the next ones once, with.
                #expect(runs.counts == [2, 1, 1])
                #expect(store.writer.committedStatistics.isolatedReruns == reruns + 1)
                for index in 0..<3 {
                    let events = try await store.readStream("failing/\(index)")
                    #expect(events.isEmpty)
                }
            }
        }
    }

    @Test func eventsAreAppendOnlyInSQL() async throws {
        try await withTemporaryDirectory { directory in
            try await withStore(directory) { store in _ = try await store.append([draft()], to: "s/1") }
            let connection = try Connection(path: directory + "/hub.sqlite")
            defer { connection.close() }
            for sql in [
                "UPDATE events SET data = '{}'", "DELETE FROM events", "REPLACE INTO events SELECT * FROM events",
                "INSERT OR REPLACE INTO events SELECT position + 1, id, stream, version + 1, type, schema_version, recorded_at, account, actor, correlation_id, causation_id, data, hash FROM events",
                // The tables under the view: the records, and the names they refer to.
                "UPDATE event_records SET data = '{}'", "DELETE FROM event_records",
                "REPLACE INTO event_records SELECT * FROM event_records", "UPDATE event_names SET name = 'x'",
                "DELETE FROM event_names", "REPLACE INTO event_names SELECT * FROM event_names",
            ] {
                let error = #expect(throws: SQLiteError.self) { try connection.execute(sql: sql) }
                #expect(error?.code == .constraint)
            }
            #expect(try connection.singleInt64(sql: "SELECT count(*) FROM events") == 1)
        }
    }

    @Test func readAllFiltersByTypeStreamPrefixAndAccount() async throws {
        try await withTemporaryDirectory { directory in
            try await withStore(directory) { store in
                _ = try await store.append([draft("a.one", account: "acc1")], to: "conversation/1")
                _ = try await store.append([draft("b.two", account: "acc2")], to: "channel/1")
                _ = try await store.append([draft("a.one", account: "acc2")], to: "conversation/2")
                #expect(try await store.readAll(filter: .init(types: ["a.one"])).map(\.position) == [1, 3])
                #expect(try await store.readAll(filter: .init(streamPrefix: "channel/")).map(\.position) == [2])
                #expect(try await store.readAll(filter: .init(account: "acc2")).map(\.position) == [2, 3])
                #expect(
                    try await store.readAll(after: 1, filter: .init(types: ["a.one", "b.two"])).map(\.position) == [
                        2, 3,
                    ]
                )
            }
        }
    }
}
