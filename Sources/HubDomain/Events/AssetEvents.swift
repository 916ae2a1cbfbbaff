// Assets (`AssetStore`, stream `asset/<id>`): requested with a declared name and size, uploaded once,
// attached to messages, deleted while unused (by a client, or by expiry).

/// `asset.requested`: `POST /assets` passed the channel's attachment policy for the sender's side.
package struct AssetRequested: NamedDomainEvent {
    package static var type: String { "asset.requested" }
    package static var schemaVersion: Int { 1 }

    package var id: String
    package var name: String
    /// The declared size in bytes.
    package var size: Int64
    /// Derived from the name's extension.
    package var contentType: String
    /// The sender's side (`customer`, `custom_agent`, …).
    package var sender: TypeReference
    package var channel: TypeReference

    package init(
        id: String,
        name: String,
        size: Int64,
        contentType: String,
        sender: TypeReference,
        channel: TypeReference
    ) {
        self.id = id
        self.name = name
        self.size = size
        self.contentType = contentType
        self.sender = sender
        self.channel = channel
    }
}

/// `asset.uploaded`: the bytes are stored (content-addressed, fsynced before this event commits).
package struct AssetUploaded: NamedDomainEvent {
    package static var type: String { "asset.uploaded" }
    package static var schemaVersion: Int { 1 }

    package var id: String
    /// SHA-256 of the bytes, lowercase hex: the file's name in the asset store.
    package var sha256: String
    package var size: Int64
    package var contentType: String
    package var name: String

    package init(id: String, sha256: String, size: Int64, contentType: String, name: String) {
        self.id = id
        self.sha256 = sha256
        self.size = size
        self.contentType = contentType
        self.name = name
    }
}

/// `asset.attached`: a message carries the asset; it can no longer be deleted.
package struct AssetAttached: NamedDomainEvent {
    package static var type: String { "asset.attached" }
    package static var schemaVersion: Int { 1 }

    package var id: String
    package var conversation: String
    /// The hub id of the message.
    package var message: String

    package init(id: String, conversation: String, message: String) {
        self.id = id
        self.conversation = conversation
        self.message = message
    }
}

/// `asset.deleted`: by `DELETE /assets/{id}` (`{"id"}`), or by expiry of an asset never attached
/// (`{"id", "reason": "expired"}`, actor `system`).
package struct AssetDeleted: NamedDomainEvent {
    package static var type: String { "asset.deleted" }
    package static var schemaVersion: Int { 1 }

    package var id: String
    /// `expired` when expiry deleted it; absent when a client did.
    package var reason: String?

    package init(id: String, reason: String? = nil) {
        self.id = id
        self.reason = reason
    }
}
