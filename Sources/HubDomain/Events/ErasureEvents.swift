// Erasure of a customer (`CustomerErasure`, stream `erasure/<id>`): the right to be forgotten in a store
// that keeps everything. The log keeps every event; what they sealed can no longer be opened.

/// `erasure.performed`: a customer's key and the data keys of every message of their conversations were
/// destroyed, and their plaintext removed from every read model. It names ids, key records and log
/// positions only: nothing of what was erased.
package struct ErasurePerformed: NamedDomainEvent {
    package static var type: String { "erasure.performed" }
    package static var schemaVersion: Int { 1 }

    /// The erasure's id (also the stream's).
    package var id: String
    /// The customers erased (hub ids).
    package var customers: [String]
    /// Their conversations.
    package var conversations: [String]
    /// The vault records whose keys were destroyed (`customer/<id>`, `message/<id>`).
    package var shredded: [String]
    /// The positions of the events whose sealed values can no longer be opened (the conversations'
    /// events), in order.
    package var positions: [Int64]
    /// The assets of those conversations, deleted with their bytes.
    package var assets: [String]

    package init(
        id: String,
        customers: [String],
        conversations: [String],
        shredded: [String],
        positions: [Int64],
        assets: [String]
    ) {
        self.id = id
        self.customers = customers
        self.conversations = conversations
        self.shredded = shredded
        self.positions = positions
        self.assets = assets
    }
}
