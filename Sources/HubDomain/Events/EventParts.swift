// Small objects several events share.

/// `{"id": …}`: a reference to something by id (`entryPoint`).
package struct IDReference: Codable, Sendable, Equatable, Hashable {
    package var id: String

    package init(id: String) {
        self.id = id
    }
}

/// `{"type": …}`: a sender's or a channel's type (`sender`, `channel` of assets and conversations).
package struct TypeReference: Codable, Sendable, Equatable, Hashable {
    package var type: String

    package init(type: String) {
        self.type = type
    }
}

/// `{"value": …}`: a message's type as the Conversation Manager API writes it (`"type": {"value": "text"}`).
package struct MessageTypeValue: Codable, Sendable, Equatable, Hashable {
    package var value: String

    package init(value: String) {
        self.value = value
    }
}
