import Foundation
@_spi(Storage) import HubEventLog
import HubReadModels
import HubSQLite
import HubTestSupport
import Synchronization
import Testing

/// A batch or a WAL fsync slow enough for callers to notice is logged as a warning, with where its
/// time went, so that an operator can tell what a stall was.
@Suite(.timeLimit(.minutes(2)))
struct SlowBatchTests {
    /// Opens a store logging to `lines`, with a 250 ms threshold, and runs its writer for `body`.
    static func withLoggedStore(
        _ lines: LogLines,
        beforeWALSync: (@Sendable () throws(SQLiteError) -> Void)? = nil,
        _ body: @Sendable (EventStore) async throws -> Void
    ) async throws {
        try await withTemporaryDirectory { directory in
            var configuration = EventStoreConfiguration(dataDirectory: directory)
            configuration.slowBatchThreshold = .milliseconds(250)
            configuration.beforeWALSync = beforeWALSync
            let store = try await EventStore.open(configuration, logger: lines.logger, readModels: .hub)
            do {
                try await store.withWriter(body)
                await store.close()
            } catch {
                await store.close()
                throw error
            }
        }
    }

    /// The value of `key` in a rendered line, in milliseconds (`key=412.3 ms`).
    static func milliseconds(_ key: String, in line: String) -> Double? {
        guard let field = line.split(separator: " ").firstIndex(where: { $0.hasPrefix("\(key)=") }) else { return nil }
        return Double(line.split(separator: " ")[field].dropFirst(key.count + 1))
    }

    @Test func aBatchWhoseCommandRanLongIsLoggedWithItsStages() async throws {
        let lines = LogLines()
        try await Self.withLoggedStore(lines) { store in
            _ = try await store.writer.perform { transaction in
                Thread.sleep(forTimeInterval: 0.4)
                return try transaction.append([draft()], to: "slow/1")
            }
        }
        let slow = lines.all.filter { $0.hasPrefix("warning slow batch ") }
        let line = try #require(slow.first { Self.milliseconds("commands.slowest", in: $0) ?? 0 >= 400 })
        #expect(line.contains("batch.size=1 "))
        #expect(line.contains("batch.events=1 "))
        #expect(Self.milliseconds("duration", in: line) ?? 0 >= 400)
        #expect(Self.milliseconds("commands.duration", in: line) ?? 0 >= 400)
        for stage in ["batch_end.duration", "commit.duration"] {
            #expect(Self.milliseconds(stage, in: line) != nil, "\(stage) in \(line)")
        }
    }

    @Test func aSlowWALSyncIsLoggedApartFromItsBatchWhichWasNotSlow() async throws {
        let lines = LogLines()
        let slowSyncs = Atomic<Int>(0)
        let slowSync: @Sendable () throws(SQLiteError) -> Void = {
            if slowSyncs.load(ordering: .relaxed) > 0 {
                slowSyncs.subtract(1, ordering: .relaxed)
                Thread.sleep(forTimeInterval: 0.4)
            }
        }
        try await Self.withLoggedStore(lines, beforeWALSync: slowSync) { store in
            _ = try await store.append([draft()], to: "fast/1")
            slowSyncs.store(1, ordering: .relaxed)
            _ = try await store.append([draft()], to: "fast/2")
        }
        let slow = lines.all.filter { $0.hasPrefix("warning slow") }
        let line = try #require(slow.first { $0.hasPrefix("warning slow WAL sync ") }, "\(slow)")
        #expect(Self.milliseconds("duration", in: line) ?? 0 >= 400)
        #expect(line.contains("batch.size=1 "))
        #expect(!slow.contains { $0.hasPrefix("warning slow batch ") }, "\(slow)")
    }
}
