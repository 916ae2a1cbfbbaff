// API clients (`ClientRegistry`, stream `client/<id>`).

/// `client.created`: a client that may ask for tokens, with a salted SHA-256 of its secret (never the secret).
package struct ClientCreated: NamedDomainEvent {
    package static var type: String { "client.created" }
    package static var schemaVersion: Int { 1 }

    package var id: String
    package var name: String
    /// Scope names, sorted.
    package var scopes: [String]
    /// 16 random bytes, lowercase hex.
    package var secretSalt: String
    /// SHA-256 of salt and secret, lowercase hex.
    package var secretHash: String

    package init(id: String, name: String, scopes: [String], secretSalt: String, secretHash: String) {
        self.id = id
        self.name = name
        self.scopes = scopes
        self.secretSalt = secretSalt
        self.secretHash = secretHash
    }
}

/// `client.revoked`: the client's tokens stop working and it gets no new ones.
package struct ClientRevoked: NamedDomainEvent {
    package static var type: String { "client.revoked" }
    package static var schemaVersion: Int { 1 }

    package var id: String

    package init(id: String) {
        self.id = id
    }
}
