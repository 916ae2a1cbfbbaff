import Crypto
import Foundation
import HubCommands
import HubDomain
import HubEventLog
import HubReadModels
import HubVault

/// Signed, short-lived URLs for asset upload and download (spec §6.1 [P]): the `signature` query
/// parameter is an HS256 JWT `{method, assetId, size, contentType, exp}` under a key derived from the
/// master key, so only the hub can make one and it names exactly one operation on one asset.
struct AssetURLSigner: Sendable {
    struct Claims: Sendable, Equatable {
        var method: String
        var assetId: String
        var size: Int64
        var contentType: String
        var expiresAt: Int64
    }

    static let lifetimeSeconds: Int64 = 15 * 60
    private let keyBytes: [UInt8]

    init(masterKey: MasterKey) {
        keyBytes = masterKey.derivedKey(purpose: "hubstore.asset-url.v1").withUnsafeBytes { Array($0) }
    }

    /// A signature for `method` on `asset`, valid for 15 minutes; and its expiry (ms since 1970).
    func sign(method: String, asset: AssetRecord, now: Date = Date()) -> (signature: String, expiresAt: Int64) {
        let expiresAt = Int64(now.timeIntervalSince1970) + Self.lifetimeSeconds
        let payload: JSONValue = .object([
            "method": .string(method), "assetId": .string(asset.id), "size": .integer(asset.size),
            "contentType": .string(asset.contentType), "exp": .integer(expiresAt),
        ])
        let header = Base64URL.encode(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
        let input = header + "." + Base64URL.encode(Array(payload.text.utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: SymmetricKey(data: keyBytes))
        return (input + "." + Base64URL.encode(Array(mac)), expiresAt * 1000)
    }

    /// The claims of a valid, unexpired signature; `nil` otherwise.
    func verify(_ signature: String, now: Date = Date()) -> Claims? {
        let parts = signature.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let mac = Base64URL.decode(parts[2]) else { return nil }
        let input = parts[0] + "." + parts[1]
        guard
            HMAC<SHA256>.isValidAuthenticationCode(
                mac,
                authenticating: Array(input.utf8),
                using: SymmetricKey(data: keyBytes)
            ),
            let payloadBytes = Base64URL.decode(parts[1]),
            let payload = try? JSONValue.parse(bytes: payloadBytes),
            let method = payload["method"]?.stringValue, let assetId = payload["assetId"]?.stringValue,
            case .integer(let size)? = payload["size"], let contentType = payload["contentType"]?.stringValue,
            case .integer(let expiresAt)? = payload["exp"], Int64(now.timeIntervalSince1970) < expiresAt
        else { return nil }
        return Claims(method: method, assetId: assetId, size: size, contentType: contentType, expiresAt: expiresAt)
    }
}
