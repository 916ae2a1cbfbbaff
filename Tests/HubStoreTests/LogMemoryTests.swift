import Foundation
@_spi(Storage) import HubEventLog
import HubReadModels
import HubSQLite
import HubTestSupport
import HubTools
import Synchronization
import Testing

private struct RolledBack: Error {}

/// A projection's state kept across the writer's batches, in tests.
private final class Kept {
    var value = 0
}

/// The writer carries what it knows of the log from one batch to the next (``LogMemory``): stream
/// versions and name ids as committed. What it carries must stay the log's.
struct LogMemoryTests {
    /// A tool beside a server (`hubstore clients create`) appends between two of the server's batches:
    /// the server's next append sees that version, not the one it remembers.
    @Test func anAppendByAnotherWriterBetweenBatchesIsSeen() async throws {
        try await withTemporaryDirectory { directory in
            try await withStore(directory) { server in
                _ = try await server.append([draft(), draft()], to: "shared/1")
                // The server's writer now remembers version 2 of the stream and the names it used.
                let tool = try await EventStore.open(
                    .init(dataDirectory: directory),
                    exclusive: false,
                    readModels: .hub
                )
                let besides = try await tool.withWriter { tool in
                    try await tool.append([draft("tool.type"), draft()], to: "shared/1", expectedVersion: .exact(2))
                }
                await tool.close()
                #expect(besides.versions == [3, 4])
                let next = try await server.append([draft("tool.type")], to: "shared/1", expectedVersion: .exact(4))
                #expect(next.versions == [5])
                #expect(next.positions == [5])
                let events = try await server.readStream("shared/1")
                #expect(events.map(\.version) == [1, 2, 3, 4, 5])
                let types: [String] = events.map(\.type)
                #expect(types == ["test.happened", "test.happened", "tool.type", "test.happened", "tool.type"])
            }
            #expect(try await ChainVerifier(databasePath: directory + "/hub.sqlite").verify().isIntact)
        }
    }

    /// Versions and names carried over serve the next batches: appends to streams the writer appended
    /// to before, one batch after another, get the versions that follow, and their events read back
    /// with their names.
    @Test func appendsInLaterBatchesContinueTheRememberedVersions() async throws {
        try await withTemporaryDirectory { directory in
            try await withStore(directory) { store in
                for round in 1...5 {
                    for stream in 0..<3 {
                        let result = try await store.append(
                            [draft("round.\(round % 2)")],
                            to: "s/\(stream)",
                            expectedVersion: .exact(Int64(round - 1))
                        )
                        #expect(result.versions == [Int64(round)])
                    }
                }
                let events = try await store.readStream("s/2")
                #expect(events.map(\.version) == [1, 2, 3, 4, 5])
                let types: [String] = events.map(\.type)
                #expect(types == ["round.1", "round.0", "round.1", "round.0", "round.1"])
            }
        }
    }

    /// A command rolled back after it appended, in a batch whose other commands appended to the same
    /// stream, and a batch that failed whole: the next batches still append at the versions that follow
    /// what was committed.
    @Test func rollbacksLeaveNothingRememberedThatTheLogDoesNotHold() async throws {
        try await withTemporaryDirectory { directory in
            try await withStore(directory) { store in
                _ = try await store.append([draft()], to: "r/1")
                // Queued together, these share batches: each odd one appends to the stream and fails.
                for wave in 0..<3 {
                    await withTaskGroup(of: Void.self) { group in
                        for index in 0..<16 {
                            group.addTask {
                                _ = try? await store.writer.perform { transaction in
                                    try transaction.append([draft()], to: "r/1")
                                    if index % 2 == 1 { throw RolledBack() }
                                }
                            }
                        }
                    }
                    let expected = Int64(1 + 10 * wave + 8)
                    let next = try await store.append([draft()], to: "r/1", expectedVersion: .exact(expected))
                    #expect(next.versions == [expected + 1])
                    _ = try await store.append([draft()], to: "r/1")
                    // The batch's last append is undone with it: the next one takes the same version.
                    _ = try? await store.writer.perform { transaction in
                        try transaction.append([draft()], to: "r/1")
                        throw RolledBack()
                    }
                }
                let versions = try await store.readStream("r/1").map(\.version)
                #expect(versions == Array(Int64(1)...Int64(versions.count)))
                #expect(versions.count == 31)  // 1, then per wave 8 of 16, 1 and 1
            }
            #expect(try await ChainVerifier(databasePath: directory + "/hub.sqlite").verify().isIntact)
        }
    }

    /// What projections keep across batches (`ProjectionContext.carriedState`) lasts from one batch to
    /// the next, and is gone after anything that could have changed their tables: a rolled-back
    /// command, another writer's append, a write through the writer's connection between batches.
    @Test func carriedStateLastsUntilAnythingCouldHaveChangedIt() async throws {
        try await withTemporaryDirectory { directory in
            try await withStore(directory) { store in
                @Sendable func keep(_ value: Int?) async throws -> Int {
                    try await store.writer.perform { transaction in
                        let kept = try #require(transaction.projectionContext.carriedState(Kept.init))
                        defer { if let value { kept.value = value } }
                        return kept.value
                    }
                }
                #expect(try await keep(1) == 0)
                #expect(try await keep(nil) == 1)
                // A command that appended and failed: rolled back.
                _ = try? await store.writer.perform { transaction in
                    try transaction.append([draft()], to: "k/1")
                    throw RolledBack()
                }
                #expect(try await keep(2) == 0)
                #expect(try await keep(nil) == 2)
                // Another writer appended.
                let tool = try await EventStore.open(
                    .init(dataDirectory: directory),
                    exclusive: false,
                    readModels: .hub
                )
                try await tool.withWriter { tool in _ = try await tool.append([draft()], to: "k/2") }
                await tool.close()
                #expect(try await keep(3) == 0)
                #expect(try await keep(nil) == 3)
                // A row changed through the writer's connection, outside a batch.
                try await store.pool.writer.perform { connection in
                    try connection.transaction(.immediate) {
                        try connection.execute(sql: "INSERT INTO event_names (name) VALUES ('through the writer')")
                    }
                }
                #expect(try await keep(4) == 0)
                #expect(try await keep(nil) == 4)
                // Another connection committed something other than an append (a rebuild's swap, say).
                let other = try Connection(path: directory + "/hub.sqlite")
                try other.execute(sql: "INSERT INTO event_names (name) VALUES ('beside the writer')")
                other.close()
                #expect(try await keep(nil) == 0)
            }
        }
    }

    /// A batch whose first run a command ended after writing is rolled back and run again: what the
    /// first run carried is gone with it, even when the second run goes another way.
    @Test func aBatchRunAgainKeepsNothingItsFirstRunCarried() async throws {
        try await withTemporaryDirectory { directory in
            try await withStore(directory) { store in
                // A committed batch first: the writer's memory is then in use.
                _ = try await store.append([draft()], to: "k/0")
                let runs = Mutex(0)
                try await store.writer.perform { transaction in
                    let run = runs.withLock { runs in
                        runs += 1
                        return runs
                    }
                    guard run == 1 else { return }
                    try #require(transaction.projectionContext.carriedState(Kept.init)).value = 7
                    try transaction.append([draft()], to: "k/1")
                    throw RolledBack()
                }
                #expect(runs.withLock { $0 } == 2)
                let kept = try await store.writer.perform { transaction in
                    try #require(transaction.projectionContext.carriedState(Kept.init)).value
                }
                #expect(kept == 0)
                #expect(try await store.readStream("k/1").isEmpty)
            }
        }
    }
}
