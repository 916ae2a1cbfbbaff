import Crypto
import Synchronization

/// The conversation content keys the writer last sealed under, opened, by conversation stream: what lets
/// a message's content be sealed before the writer's transaction (``SecretVault/prepareContent(_:record:stream:)``).
/// An entry is only a guess: the writer keeps what was sealed under it only while the key is still the
/// conversation's, in its transaction.
package final class ContentKeyCache: Sendable {
    /// Beyond this many conversations the cache starts again (a miss costs a seal in the writer).
    static let capacity = 20_000
    private let entries = Mutex<[String: (number: Int64, keys: ContentKeyDerivation)]>([:])

    init() {}

    func keys(for stream: String) -> (number: Int64, keys: ContentKeyDerivation)? {
        entries.withLock { $0[stream] }
    }

    func store(_ keys: ContentKeyDerivation, number: Int64, for stream: String) {
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[stream] = (number, keys)
        }
    }

    func forget(_ stream: String) {
        _ = entries.withLock { $0.removeValue(forKey: stream) }
    }
}
