import Synchronization

/// Runs `body` on every item with at most `workers` at once; each worker takes the next item in
/// order when it is done with one. The first error cancels the rest and is thrown.
func forEachConcurrently<Item: Sendable>(
    _ items: [Item],
    workers: Int,
    _ body: @escaping @Sendable (Item) async throws -> Void
) async throws {
    let next = NextIndex()
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<max(1, min(workers, items.count)) {
            group.addTask {
                while true {
                    let index = next.take()
                    guard index < items.count else { return }
                    try await body(items[index])
                }
            }
        }
        try await group.waitForAll()
    }
}

/// The next index to take, shared by the workers.
private final class NextIndex: Sendable {
    private let value = Atomic<Int>(0)

    func take() -> Int { value.add(1, ordering: .relaxed).oldValue }
}
