import HubCommands
@_spi(Storage) import HubEventLog
import HubReadModels
import HubTestSupport
import HubVault
import Testing

struct SubscriptionTests {
    @Test func aSubscriberFromZeroSeesEveryEventOnceInOrderWhileAppendsRun() async throws {
        try await withTemporaryDirectory { directory in
            try await withStore(directory) { store in
                // Some history before the subscriber starts, then appends racing the catch-up.
                for index in 0..<200 { _ = try await store.append([draft()], to: "pre/\(index % 7)") }
                let total = 200 + 40 * 25
                let seen = try await withThrowingTaskGroup(of: [Int64].self) { group in
                    group.addTask {
                        var positions: [Int64] = []
                        for try await event in store.subscribe(after: 0, pageSize: 64) {
                            positions.append(event.position)
                            if positions.count == total { break }
                        }
                        return positions
                    }
                    for writer in 0..<40 {
                        group.addTask {
                            for index in 0..<25 {
                                _ = try await store.append([draft()], to: "live/\(writer)/\(index % 3)")
                            }
                            return []
                        }
                    }
                    return try await group.reduce(into: []) { $0 += $1 }
                }
                #expect(seen == Array(1...Int64(total)))
            }
        }
    }

    @Test func aFilteredSubscriptionResumesAfterAPosition() async throws {
        try await withTemporaryDirectory { directory in
            try await withStore(directory) { store in
                for index in 0..<10 {
                    _ = try await store.append([draft(index % 2 == 0 ? "even" : "odd")], to: "s/\(index)")
                }
                var seen: [Int64] = []
                for try await event in store.subscribe(after: 4, filter: .init(types: ["even"]), pageSize: 2) {
                    seen.append(event.position)
                    if seen.count == 3 { break }
                }
                #expect(seen == [5, 7, 9])
            }
        }
    }

    @Test func aSubscriptionEndsWhenItsTaskIsCancelled() async throws {
        try await withTemporaryDirectory { directory in
            try await withStore(directory) { store in
                let task = Task {
                    var count = 0
                    for try await _ in store.subscribe() { count += 1 }
                    return count
                }
                _ = try await store.append([draft()], to: "s/1")
                try await Task.sleep(for: .milliseconds(50))
                task.cancel()
                await #expect(throws: CancellationError.self) { try await task.value }
            }
        }
    }
}
