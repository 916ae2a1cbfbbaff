import Crypto

/// The keys derived from one conversation content key: HKDF-SHA256 (RFC 5869) with no salt, the
/// record's name as the info, 32 bytes. Extracting is done once per content key; each message's key
/// is then one HMAC, from the pseudorandom key's prepared HMAC (the same bytes as
/// `HKDF<SHA256>.deriveKey(inputKeyMaterial:info:outputByteCount: 32)`).
///
/// `@unchecked Sendable`: `HMAC` is a value type (its hash states copy on write) that swift-crypto does
/// not mark `Sendable`; it is only ever copied out of here, never mutated in place.
struct ContentKeyDerivation: @unchecked Sendable {
    private static let infoPrefix = Array("hubstore.message-content.v1|".utf8)
    private let expand: HMAC<SHA256>

    init(_ contentKey: SymmetricKey) {
        // Extract: HMAC with the salt as key; no salt is HashLen zero bytes, as an empty key is.
        let pseudorandomKey = contentKey.withUnsafeBytes { material in
            HMAC<SHA256>.authenticationCode(for: material, using: SymmetricKey(data: [UInt8]()))
        }
        expand = HMAC<SHA256>(key: SymmetricKey(data: pseudorandomKey))
    }

    /// The key of `record`: T(1) = HMAC(PRK, info ‖ 0x01), all the 32 bytes asked for.
    func key(record: String) -> SymmetricKey {
        // One update: each goes through swift-crypto's generic `DataProtocol` path, region by region.
        var input = Self.infoPrefix
        input.reserveCapacity(input.count + record.utf8.count + 1)
        input.append(contentsOf: record.utf8)
        input.append(0x01)
        var mac = expand
        mac.update(data: input)
        return SymmetricKey(data: mac.finalize())
    }
}
