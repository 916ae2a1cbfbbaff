import Crypto
import Foundation
public import HubDomain
@_spi(Storage) public import HubEventLog
public import HubSQLite

/// Seals secret fields with AES-GCM under a per-record data key (DESIGN.md §6).
///
/// Data keys live in `vault_keys`, wrapped by a key derived from the master key; destroying a
/// record's data key (erasure) makes its sealed values unreadable everywhere, while the hash chain,
/// which covers the sealed bytes, still verifies. A sealed value is the string `$sealed:v1:` followed
/// by base64 of nonce ‖ ciphertext ‖ tag.
///
/// A message's content is sealed under a key of its own derived (HKDF-SHA256, the record's name as
/// its info) from its conversation's content key, the record `conversation-key/<N>` (N: the position of
/// the conversation's `conversation.started`), so that a message costs no key row: `$sealed:v2:<N>:`
/// followed by base64 of nonce ‖ ciphertext ‖ tag. Destroying one such message's key means giving
/// every other message sealed under the conversation's key a key row of its own (the key derived for
/// it) and destroying the conversation's (``separate(_:from:_:now:)``); a record's own key row, when
/// there is one, is the key of its sealed values in either form.
public struct SecretVault: Sendable {
    package static let prefix = "$sealed:v1:"
    package static let derivedPrefix = "$sealed:v2:"
    /// What reads show instead of a secret.
    public static let mask = "********"
    private let wrappingKeyBytes: [UInt8]
    /// Shared by the copies of this vault (the intake's callers and the writer).
    let contentKeys = ContentKeyCache()
    /// Every seal's nonce.
    private static let nonces = NonceSource()

    public init(masterKey: MasterKey) {
        wrappingKeyBytes = masterKey.derivedKey(purpose: "hubstore.vault-wrapping.v1").withUnsafeBytes { Array($0) }
    }

    /// Whether a stored string is sealed.
    public static func isSealed(_ text: String) -> Bool { text.hasPrefix(prefix) || text.hasPrefix(derivedPrefix) }

    /// The record of the content key of the conversation whose `conversation.started` is at `position`.
    public static func contentKeyRecord(_ position: Int64) -> String { contentKeyRecordPrefix + String(position) }
    /// What a content key's record name starts with, before its number.
    public static let contentKeyRecordPrefix = "conversation-key/"

    /// The conversation content key a sealed value's key is derived from (`$sealed:v2:<N>:…`), if any.
    public static func contentKey(of sealed: String) -> Int64? {
        guard sealed.hasPrefix(derivedPrefix) else { return nil }
        let rest = sealed.utf8.dropFirst(derivedPrefix.utf8.count)
        guard let colon = rest.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        return Int64(String(decoding: rest[..<colon], as: UTF8.self))
    }

    /// Seals `plaintext` under the data key of `record`, creating the key on first use.
    /// Runs inside the writer's transaction.
    public func seal(
        _ plaintext: String,
        record: String,
        _ connection: Connection,
        now: Int64,
        newRecord: Bool = false
    ) throws -> String {
        let key =
            try newRecord
            ? newDataKey(record: record, connection, now: now) : dataKey(record: record, connection, now: now)
        let box = try AES.GCM.seal(Array(plaintext.utf8), using: key, nonce: Self.nonces.next())
        guard let combined = box.combined else { throw SealingError.failed }
        return Self.prefix + combined.base64EncodedString()
    }

    /// Opens a sealed value (for delivery, which must send the real secret).
    public func open(_ sealed: String, record: String, _ connection: Connection) throws -> String {
        try open(sealed, record: record) { try wrappedKey(record: $0, connection) }
    }

    /// Opens a sealed value with the wrapped keys `wrappedKeys` gives by record (a bundle's keys file):
    /// the record's own key, or the conversation content key its key is derived from.
    public func open(_ sealed: String, record: String, wrappedKeys: (String) throws -> [UInt8]?) throws -> String {
        let derivedFrom = Self.contentKey(of: sealed)
        let body: Substring
        if let derivedFrom {
            body = sealed.dropFirst(Self.derivedPrefix.count + String(derivedFrom).count + 1)
        } else if sealed.hasPrefix(Self.prefix) {
            body = sealed.dropFirst(Self.prefix.count)
        } else {
            throw SealingError.notSealed
        }
        guard let data = Data(base64Encoded: String(body)) else { throw SealingError.notSealed }
        let key: SymmetricKey
        if let wrapped = try wrappedKeys(record) {
            key = try unwrap(wrapped)
        } else if let derivedFrom, let wrapped = try wrappedKeys(Self.contentKeyRecord(derivedFrom)) {
            key = ContentKeyDerivation(try unwrap(wrapped)).key(record: record)
        } else {
            throw SealingError.keyDestroyed
        }
        let plaintext = try AES.GCM.open(AES.GCM.SealedBox(combined: data), using: key)
        return String(decoding: plaintext, as: UTF8.self)
    }

    // MARK: - Conversation content keys

    /// Makes the content key of the conversation whose `conversation.started` is at `position`.
    public func createContentKey(_ position: Int64, _ connection: Connection, now: Int64) throws {
        _ = try newDataKey(record: Self.contentKeyRecord(position), connection, now: now)
    }

    /// Seals a message's content (`record`: `message/<id>`) under a key derived from the content key of
    /// its conversation (on `stream`); `nil` when the conversation has none (started before content
    /// keys, or one of its messages was erased for good: its messages then get keys of their own).
    public func sealContent(
        _ plaintext: String,
        record: String,
        contentKey position: Int64,
        stream: String,
        _ connection: Connection
    ) throws -> String? {
        guard let wrapped = try wrappedKey(record: Self.contentKeyRecord(position), connection) else { return nil }
        let keys = ContentKeyDerivation(try unwrap(wrapped))
        contentKeys.store(keys, number: position, for: stream)
        return try Self.seal(plaintext, record: record, under: keys, number: position)
    }

    /// A message's content sealed before the writer's transaction, under the content key the writer
    /// last sealed its conversation's messages under; `nil` when it has not (yet). The writer keeps it
    /// only if that key is still the conversation's.
    public func prepareContent(_ plaintext: String, record: String, stream: String) throws -> PreparedContentSeal? {
        guard let (number, keys) = contentKeys.keys(for: stream) else { return nil }
        return PreparedContentSeal(
            stream: stream,
            contentKey: number,
            sealed: try Self.seal(plaintext, record: record, under: keys, number: number)
        )
    }

    /// Forgets the content key the writer used for a conversation (its key was destroyed).
    public func forgetContentKey(of stream: String) {
        contentKeys.forget(stream)
    }

    private static func seal(
        _ plaintext: String,
        record: String,
        under keys: ContentKeyDerivation,
        number: Int64
    ) throws
        -> String
    {
        let key = keys.key(record: record)
        guard let combined = try AES.GCM.seal(Array(plaintext.utf8), using: key, nonce: nonces.next()).combined else {
            throw SealingError.failed
        }
        return derivedPrefix + "\(number):" + combined.base64EncodedString()
    }

    /// Before a conversation's content key is destroyed: each of `records` (the messages sealed under it
    /// that are kept) gets the key derived for it as a key row of its own, unless it has one.
    public func separate(_ records: [String], from position: Int64, _ connection: Connection, now: Int64) throws {
        guard let wrapped = try wrappedKey(record: Self.contentKeyRecord(position), connection) else { return }
        let keys = ContentKeyDerivation(try unwrap(wrapped))
        for record in records where try wrappedKey(record: record, connection) == nil {
            try store(keys.key(record: record), record: record, connection, now: now)
        }
    }

    /// Whether `record` has a key row of its own.
    public func hasKey(_ record: String, _ connection: Connection) throws -> Bool {
        try wrappedKey(record: record, connection) != nil
    }

    /// Destroys a record's data key, so that what was sealed under it (in the log, in exports) can
    /// never be opened again. Run it in a transaction that erases securely
    /// (``LogTransaction/eraseSecurely()``), so the wrapped key leaves no copy in the data directory.
    public func shred(record: String, _ connection: Connection) throws {
        try connection.run(sql: "DELETE FROM vault_keys WHERE id = ?", [record])
    }

    private func dataKey(record: String, _ connection: Connection, now: Int64) throws -> SymmetricKey {
        if let wrapped = try wrappedKey(record: record, connection) { return try unwrap(wrapped) }
        return try newDataKey(record: record, connection, now: now)
    }

    /// A key for a record that has none yet.
    private func newDataKey(record: String, _ connection: Connection, now: Int64) throws -> SymmetricKey {
        let key = SymmetricKey(size: .bits256)
        try store(key, record: record, connection, now: now)
        return key
    }

    /// Stores `key`, wrapped, as `record`'s key (the INSERT fails on a duplicate rather than replacing it).
    private func store(_ key: SymmetricKey, record: String, _ connection: Connection, now: Int64) throws {
        try connection.run(
            sql: "INSERT INTO vault_keys (id, wrapped, created_at) VALUES (?, ?, ?)",
            [record, try wrap(key), now]
        )
    }

    private func wrappedKey(record: String, _ connection: Connection) throws -> [UInt8]? {
        let statement = try connection.cachedStatement(sql: "SELECT wrapped FROM vault_keys WHERE id = ?")
        defer { statement.reset() }
        try statement.bind(record, at: 1)
        return try statement.step() ? statement.blob(at: 0) : nil
    }

    /// A data key wrapped under `source`'s master key, wrapped under this vault's instead (an import
    /// into a data directory with a master key of its own).
    public func rewrap(_ wrapped: [UInt8], from source: SecretVault) throws -> [UInt8] {
        try wrap(try source.unwrap(wrapped))
    }

    /// A data key as `vault_keys` holds it: sealed under the wrapping key.
    private func wrap(_ key: SymmetricKey) throws -> [UInt8] {
        let box = try AES.GCM.seal(key.withUnsafeBytes { Array($0) }, using: wrappingKey, nonce: Self.nonces.next())
        guard let combined = box.combined else { throw SealingError.failed }
        return Array(combined)
    }

    private func unwrap(_ wrapped: [UInt8]) throws -> SymmetricKey {
        SymmetricKey(data: try AES.GCM.open(AES.GCM.SealedBox(combined: wrapped), using: wrappingKey))
    }

    private var wrappingKey: SymmetricKey { SymmetricKey(data: wrappingKeyBytes) }

    package enum SealingError: Error {
        case failed, notSealed, keyDestroyed
    }
}

/// A message's content sealed before the writer's transaction under its conversation's content key
/// (``SecretVault/prepareContent(_:record:stream:)``).
public struct PreparedContentSeal: Sendable {
    /// The conversation's stream, and the number of the content key it was sealed under.
    public var stream: String
    public var contentKey: Int64
    /// `$sealed:v2:<contentKey>:` + the sealed box.
    public var sealed: String
}

/// Where a string of a configuration sits (``JSONValue/mappingStrings(at:_:)``).
public struct StringLocation: Sendable, Hashable {
    /// With indexes, as errors name attributes: `roles[0].headers[1].value`.
    public var path: String
    /// With each array element named by its `name`, lower-cased, when it has one, and by its index
    /// otherwise: `roles[customer].headers[x-api-key].value`. The second element of the same name is
    /// `[x-api-key#2]`. A masked secret sent back is matched to the stored one by this key, so
    /// reordering, adding or dropping headers keeps each header's own secret.
    public var key: String
}

extension JSONValue {
    /// Rewrites the string at each path (`[]` steps visit every element); `transform` gets the value
    /// and where it sits.
    public func mappingStrings(
        at paths: [String],
        _ transform: (String, StringLocation) throws -> JSONValue
    ) rethrows
        -> JSONValue
    {
        var result = self
        for path in paths {
            result = try result.mapping(
                steps: path.split(separator: ".").map(String.init)[...],
                location: StringLocation(path: "", key: ""),
                transform
            )
        }
        return result
    }

    /// The strings at `paths` by their location's key.
    public func strings(byKeyAt paths: [String]) -> [String: String] {
        var found: [String: String] = [:]
        _ = mappingStrings(at: paths) { value, location in
            found[location.key] = value
            return .string(value)
        }
        return found
    }

    private func mapping(
        steps: ArraySlice<String>,
        location: StringLocation,
        _ transform: (String, StringLocation) throws -> JSONValue
    ) rethrows -> JSONValue {
        guard let step = steps.first else {
            if case .string(let text) = self { return try transform(text, location) }
            return self
        }
        let isArray = step.hasSuffix("[]")
        let key = isArray ? String(step.dropLast(2)) : step
        guard case .object(var fields) = self, let child = fields[key] else { return self }
        func joined(_ prefix: String) -> String { prefix.isEmpty ? key : prefix + "." + key }
        let childLocation = StringLocation(path: joined(location.path), key: joined(location.key))
        if isArray {
            guard case .array(let items) = child else { return self }
            var seen: [String: Int] = [:]
            fields[key] = .array(
                try items.enumerated().map { index, item in
                    var name = String(index)
                    if let itemName = item["name"]?.stringValue?.lowercased() {
                        seen[itemName, default: 0] += 1
                        let count = seen[itemName]!
                        name = count == 1 ? itemName : "\(itemName)#\(count)"
                    }
                    let itemLocation = StringLocation(
                        path: childLocation.path + "[\(index)]",
                        key: childLocation.key + "[\(name)]"
                    )
                    return try item.mapping(steps: steps.dropFirst(), location: itemLocation, transform)
                }
            )
        } else {
            fields[key] = try child.mapping(steps: steps.dropFirst(), location: childLocation, transform)
        }
        return .object(fields)
    }
}

extension SecretVault: SealedValueOpener {
    /// ``open(_:record:_:)``, or `nil` once the record's key was destroyed (erasure).
    public func openIfKept(_ sealed: String, record: String, _ connection: Connection) throws -> String? {
        do {
            return try open(sealed, record: record, connection)
        } catch SealingError.keyDestroyed {
            return nil
        }
    }
}
