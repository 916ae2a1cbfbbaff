package import HubDomain
import Synchronization

/// Parsed JSON texts, by their text, for a text read again and again: a conversation's customer
/// (`customer_state`), parsed with every message of the conversation. A parse depends on the text
/// alone, so an entry can never be stale; hashing the text costs a tenth of parsing it.
///
/// Bounded: once it holds `capacity` texts it starts over. An erasure empties it, so that no erased
/// customer's identity stays in memory until then (``removeAll()``); for that, only the writer's
/// reads use ``customerStates``.
package final class JSONTextCache: Sendable {
    /// The customers of conversations the writer reads (``ConversationProjection/conversation(_:in:)``).
    package static let customerStates = JSONTextCache(capacity: 2048)

    private let entries = Mutex<[String: JSONValue]>([:])
    private let capacity: Int

    package init(capacity: Int) {
        self.capacity = capacity
    }

    /// `text` parsed; a text that is not JSON throws, as ``JSONValue/parse(_:)`` does, and is not kept.
    package func parse(_ text: String) throws -> JSONValue {
        if let cached = entries.withLock({ $0[text] }) { return cached }
        let value = try JSONValue.parse(text)
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[text] = value
        }
        return value
    }

    /// The texts it holds.
    package var count: Int { entries.withLock { $0.count } }

    /// Whether it holds a text that `predicate` accepts.
    package func contains(where predicate: (String) -> Bool) -> Bool {
        entries.withLock { $0.keys.contains(where: predicate) }
    }

    package func removeAll() {
        entries.withLock { $0.removeAll() }
    }
}
