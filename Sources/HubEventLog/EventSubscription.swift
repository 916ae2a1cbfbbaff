/// A live, ordered feed of the log: catch-up from a position, then each new commit.
///
/// Reads pages after its cursor; when it has caught up it waits on the commit notifier. Because
/// positions are gapless and the cursor only moves past events it has delivered, no event is
/// skipped or delivered twice.
public struct EventSubscription: AsyncSequence, Sendable {
    public typealias Element = RecordedEvent

    package let store: EventStore
    package let after: Int64
    package let filter: EventFilter
    package let pageSize: Int

    public func makeAsyncIterator() -> Iterator {
        Iterator(store: store, cursor: after, filter: filter, pageSize: pageSize)
    }

    public struct Iterator: AsyncIteratorProtocol {
        let store: EventStore
        var cursor: Int64
        let filter: EventFilter
        let pageSize: Int
        var buffer: [RecordedEvent] = []
        var bufferIndex = 0
        /// The highest position known to be scanned (filtered-out events still move this on).
        var scanned: Int64

        init(store: EventStore, cursor: Int64, filter: EventFilter, pageSize: Int) {
            self.store = store
            self.cursor = cursor
            self.filter = filter
            self.pageSize = pageSize
            self.scanned = cursor
        }

        public mutating func next() async throws -> RecordedEvent? {
            while true {
                if bufferIndex < buffer.count {
                    defer { bufferIndex += 1 }
                    cursor = buffer[bufferIndex].position
                    return buffer[bufferIndex]
                }
                try Task.checkCancellation()
                let head = store.notifier.committed
                if scanned < head {
                    let from = scanned
                    let page = try await store.readAll(after: from, filter: filter, limit: pageSize)
                    buffer = page
                    bufferIndex = 0
                    // A short page means everything up to `head` (at least) has been scanned.
                    scanned =
                        page.count == pageSize ? page.last!.position : Swift.max(head, page.last?.position ?? from)
                    continue
                }
                guard await store.notifier.wait(beyond: scanned) != nil else {
                    try Task.checkCancellation()
                    return nil
                }
            }
        }
    }
}
