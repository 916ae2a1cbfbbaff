import Crypto
import Foundation
@_spi(Storage) import HubEventLog

/// Keyed hashes of customer contact addresses (DESIGN.md §6): customers are found by
/// HMAC-SHA-256 of a normalised address under a key derived from the master key, so the
/// projection's lookup columns never hold a contact in plaintext.
public struct ContactKeys: Sendable {
    private let keyBytes: [UInt8]

    public init(masterKey: MasterKey) {
        keyBytes = masterKey.derivedKey(purpose: "hubstore.contact-lookup.v1").withUnsafeBytes { Array($0) }
    }

    /// The lookup key of an address: trimmed, lower-cased, hashed; hex.
    public func key(_ address: String) -> String {
        let normalised = address.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let code = HMAC<SHA256>.authenticationCode(for: Array(normalised.utf8), using: SymmetricKey(data: keyBytes))
        return code.hexEncoded
    }
}
