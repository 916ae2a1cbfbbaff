import Crypto
public import Foundation
import HubCommands
public import HubDomain
import HubEventLog
import HubReadModels
public import HubVault
import Synchronization

/// What a verified bearer token says.
public struct TokenClaims: Sendable, Equatable {
    /// The client id, or `operator` for tokens made with `hubstore token`.
    public var subject: String
    public var scopes: Set<Scope>
    public var issuedAt: Int64
    public var expiresAt: Int64
}

/// Issues and verifies the hub's bearer tokens: JWTs signed with HMAC-SHA256 (`HS256`) under a key
/// derived from the data directory's master key, so `hubstore token` and the server agree offline.
public struct TokenService: Sendable {
    /// The `sub` of tokens made by `hubstore token` for operators (not a registered client).
    public static let operatorSubject = "operator"
    static let issuer = "hubstore"
    private let keyBytes: [UInt8]
    /// Tokens already verified, so a busy client's requests skip the HMAC and JSON work.
    private let verified = VerifiedTokens()

    public init(masterKey: MasterKey) {
        keyBytes = masterKey.derivedKey(purpose: "hubstore.token-signing.v1").withUnsafeBytes { Array($0) }
    }

    /// A signed token for `subject` with `scopes`, valid for `lifetime` from `now`.
    public func issue(
        subject: String,
        scopes: Set<Scope>,
        lifetime: Duration = .seconds(3600),
        now: Date = Date()
    )
        -> String
    {
        let issuedAt = Int64(now.timeIntervalSince1970)
        let claims: [String: Any] = [
            "iss": Self.issuer, "sub": subject, "scope": ScopeList(scopes).text, "iat": issuedAt,
            "exp": issuedAt + lifetime.components.seconds, "jti": EventID.makeV7(),
        ]
        let header = Base64URL.encode(Data(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
        let payload = Base64URL.encode(try! JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys]))
        let signingInput = header + "." + payload
        return signingInput + "." + Base64URL.encode(Data(signature(signingInput)))
    }

    /// The claims of a token whose signature, issuer and expiry check out; `nil` otherwise.
    public func verify(_ token: String, now: Date = Date()) -> TokenClaims? {
        if let claims = verified.claims(token) {
            return Int64(now.timeIntervalSince1970) < claims.expiresAt ? claims : nil
        }
        guard let claims = verifySignatureAndClaims(token, now: now) else { return nil }
        verified.insert(token, claims)
        return claims
    }

    private func verifySignatureAndClaims(_ token: String, now: Date) -> TokenClaims? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let givenSignature = Base64URL.decode(parts[2]) else { return nil }
        let signingInput = parts[0] + "." + parts[1]
        guard
            HMAC<SHA256>.isValidAuthenticationCode(givenSignature, authenticating: Array(signingInput.utf8), using: key)
        else { return nil }
        guard let headerData = Base64URL.decode(parts[0]),
            let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any],
            header["alg"] as? String == "HS256",
            let payloadData = Base64URL.decode(parts[1]),
            let payload = try? JSONSerialization.jsonObject(with: payloadData) as? [String: Any],
            payload["iss"] as? String == Self.issuer,
            let subject = payload["sub"] as? String,
            let expiresAt = (payload["exp"] as? NSNumber)?.int64Value,
            let issuedAt = (payload["iat"] as? NSNumber)?.int64Value,
            let scopeText = payload["scope"] as? String,
            case .success(let scopes) = ScopeList.parse(scopeText, everything: [])
        else { return nil }
        guard Int64(now.timeIntervalSince1970) < expiresAt else { return nil }
        return TokenClaims(subject: subject, scopes: scopes.scopes, issuedAt: issuedAt, expiresAt: expiresAt)
    }

    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    private func signature(_ input: String) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: key))
    }
}

/// A bounded memo of verified tokens (emptied when full; tokens are re-verified after that).
final class VerifiedTokens: Sendable {
    private let entries = Mutex<[String: TokenClaims]>([:])
    static let capacity = 4096

    func claims(_ token: String) -> TokenClaims? { entries.withLock { $0[token] } }

    func insert(_ token: String, _ claims: TokenClaims) {
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[token] = claims
        }
    }
}
