import HubCommands
@_spi(Storage) import HubEventLog
import HubReadModels
import HubTestSupport
import HubVault
import Testing

struct IdempotencyTests {
    @Test func aRetriedAppendReturnsTheFirstResultAndAppendsNothingAlsoAfterARestart() async throws {
        try await withTemporaryDirectory { directory in
            let first = try await withStore(directory) { store in
                let first = try await store.append([draft(), draft()], to: "m/1", idempotencyKey: "sender:msg-1")
                #expect(first.isReplay == false)
                let retry = try await store.append([draft(), draft()], to: "m/1", idempotencyKey: "sender:msg-1")
                #expect(retry.isReplay)
                #expect(retry.positions == first.positions)
                #expect(retry.eventIds == first.eventIds)
                #expect(store.headPosition == 2)
                // The first id derives from the key; the next is time-ordered (UUIDv7), not derived.
                #expect(first.eventIds[0] == EventID.makeV5(name: "sender:msg-1#0"))
                #expect(Array(first.eventIds[1])[14] == "7", "\(first.eventIds)")
                return first
            }
            try await withStore(directory) { store in
                let retry = try await store.append([draft(), draft()], to: "m/1", idempotencyKey: "sender:msg-1")
                #expect(retry.isReplay)
                #expect(retry.positions == first.positions)
                #expect(retry.versions == first.versions)
                #expect(store.headPosition == 2)
                // A different key appends.
                let other = try await store.append([draft()], to: "m/1", idempotencyKey: "sender:msg-2")
                #expect(other.positions == [3])
            }
        }
    }

    @Test func concurrentRetriesWithOneKeyAppendOnce() async throws {
        try await withTemporaryDirectory { directory in
            try await withStore(directory) { store in
                let results = try await withThrowingTaskGroup(of: AppendResult.self) { group in
                    for _ in 0..<50 {
                        group.addTask { try await store.append([draft()], to: "m/2", idempotencyKey: "k") }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(results.filter { !$0.isReplay }.count == 1)
                #expect(Set(results.map(\.positions)) == [[1]])
                #expect(try await store.readAll().count == 1)
            }
        }
    }
}
