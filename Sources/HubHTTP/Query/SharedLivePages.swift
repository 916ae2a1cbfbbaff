import HubEventLog
import HubReadModels
import NIOCore

/// The live feed's pages, read and encoded once for every subscriber that asks for the same one: the
/// same position, filter and page size (content sealed). Subscribers woken by one commit, or catching
/// up side by side, then cost a socket write each rather than a read and an encoding each. A page
/// asked for while another subscriber reads it waits for that read.
///
/// A full page is the same whatever the head was when it was read; one that reached the head is
/// reused only by a subscriber that saw the same head. Pages with content opened are not shared: an
/// erasure between two reads must show.
actor SharedLivePages {
    struct Key: Hashable {
        var after: Int64
        var filter: EventFilter
        var limit: Int
    }

    /// A page as `text/event-stream` bytes (`id:` and `data:` lines a event), its event count, and
    /// where the next one starts.
    struct Encoded: Sendable {
        var bytes: ByteBuffer
        var count: Int
        var scanned: Int64
    }

    private enum Slot {
        case ready(Encoded, through: Int64)
        case reading(through: Int64, [CheckedContinuation<Encoded?, Never>])
    }

    private var slots: [Key: Slot] = [:]
    /// Ready keys, oldest first: at most `capacity` are kept.
    private var order: [Key] = []
    private let capacity: Int

    init(capacity: Int = 32) {
        self.capacity = capacity
    }

    /// The page of `key` up to `through`: a kept one, the one another subscriber is reading, or one
    /// `read` makes.
    func page(_ key: Key, through: Int64, read: @Sendable () async throws -> Encoded) async throws -> Encoded {
        func fits(_ page: Encoded, _ readThrough: Int64) -> Bool { page.count == key.limit || readThrough == through }
        switch slots[key] {
        case .ready(let page, let readThrough)? where fits(page, readThrough):
            return page
        case .reading(let readThrough, var waiters)?:
            let shared = await withCheckedContinuation { continuation in
                waiters.append(continuation)
                slots[key] = .reading(through: readThrough, waiters)
            }
            // Read here when the reader failed (or was cancelled with its subscriber), or its page
            // reached an older head.
            if let shared, fits(shared, readThrough) { return shared }
            return try await read()
        default:
            // Out of the eviction order while it is read (a stale page read again): only ready pages
            // are evicted, so a read's waiters are always resumed.
            order.removeAll { $0 == key }
            slots[key] = .reading(through: through, [])
            let outcome: Result<Encoded, any Error>
            do {
                outcome = .success(try await read())
            } catch {
                outcome = .failure(error)
            }
            guard case .reading(_, let waiters)? = slots[key] else { return try outcome.get() }
            switch outcome {
            case .success(let page):
                order.append(key)
                slots[key] = .ready(page, through: through)
                if order.count > capacity { slots[order.removeFirst()] = nil }
                for waiter in waiters { waiter.resume(returning: page) }
            case .failure:
                slots[key] = nil
                for waiter in waiters { waiter.resume(returning: nil) }
            }
            return try outcome.get()
        }
    }

    /// Reads and encodes a page of `feed`.
    static func read(
        _ feed: EventFeed,
        after: Int64,
        through: Int64?,
        filter: EventFilter,
        limit: Int,
        openContent: Bool
    ) async throws -> Encoded {
        let page = try await feed.page(
            after: after,
            through: through,
            filter: filter,
            limit: limit,
            openContent: openContent
        )
        var bytes: [UInt8] = []
        for event in page.events {
            bytes.append(contentsOf: "id: \(event.position)\ndata: ".utf8)
            event.writeExportForm(to: &bytes)
            bytes.append(0x0A)
        }
        return Encoded(bytes: ByteBuffer(bytes: bytes), count: page.events.count, scanned: page.scanned)
    }
}
