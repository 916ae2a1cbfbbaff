import Crypto
import Foundation
import HubDomain
import HubVault
import Synchronization
import _CryptoExtras

/// What a verified AppJWT says (connector spec §2.2).
struct AppJWTClaims: Sendable, Equatable {
    /// `aud`: the account.
    var account: String
    /// `azp`: the app installation's `client_id`.
    var clientId: String
    var expiresAt: Int64
}

/// What a verified ConsumerJWS says (connector spec §2.3).
struct ConsumerClaims: Sendable, Equatable {
    var account: String
    var externalId: String
    /// 64 hex characters, the same for the same account and `ext_consumer_id`.
    var consumerId: String
    /// The installation that issued it (webhooks of its conversations go to that app).
    var clientId: String
}

/// Issues and checks the connector's tokens: AppJWTs (RS256, 60 minutes, as LivePerson's Sentinel
/// issues them) and ConsumerJWSs (HS256 under a key derived from the master key; they never expire).
///
/// The RSA key is made on first use and kept for the life of the process: after a restart, AppJWTs
/// issued before it are refused with 401 `40102`, and connectors get a new one, as LivePerson tells
/// them to on any 401.
final class ConnectorTokens: Sendable {
    static let appJWTLifetime: Int64 = 3600
    private let consumerKeyBytes: [UInt8]
    private let rsa = Mutex<(key: _RSA.Signing.PrivateKey, kid: String)?>(nil)

    init(masterKey: MasterKey) {
        consumerKeyBytes = masterKey.derivedKey(purpose: "hubstore.connector-consumer-jws.v1").withUnsafeBytes {
            Array($0)
        }
    }

    /// Why an AppJWT is refused, in the order the checks run (spec §2.5).
    enum AppJWTProblem: Error, Equatable {
        /// Bad signature, not a JWT, or expired → 401 `40102`.
        case invalid
        /// `iss` not `Sentinel`, or `aud` missing → 400 `40001`.
        case missingClaim
        /// `aud` is another account → 401 `40102`.
        case otherAccount
    }

    // MARK: - AppJWT

    func issueAppJWT(account: String, clientId: String, now: Date = Date()) throws -> String {
        let (key, kid) = try signingKey()
        let issuedAt = Int64(now.timeIntervalSince1970)
        let header: JSONValue = .object(["alg": "RS256", "kid": .string(kid), "typ": "JWT"])
        let claims: JSONValue = .object([
            "aud": .string(account), "azp": .string(clientId), "scope": "msg.consumer", "iss": "Sentinel",
            "iat": .integer(issuedAt), "exp": .integer(issuedAt + Self.appJWTLifetime),
        ])
        let input = Base64URL.encode(Array(header.text.utf8)) + "." + Base64URL.encode(Array(claims.text.utf8))
        let signature = try key.signature(for: Array(input.utf8), padding: .insecurePKCS1v1_5)
        return input + "." + Base64URL.encode(Array(signature.rawRepresentation))
    }

    /// The claims of an AppJWT for `account`, or the first problem.
    func verifyAppJWT(_ token: String, account: String, now: Date = Date()) -> Result<AppJWTClaims, AppJWTProblem> {
        guard let (header, claims, input, signature) = Self.parts(token),
            header["alg"] == "RS256",
            let key = rsa.withLock({ $0?.key.publicKey }),
            key.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature),
                for: Array(input.utf8),
                padding: .insecurePKCS1v1_5
            ),
            case .integer(let expiresAt)? = claims["exp"], Int64(now.timeIntervalSince1970) < expiresAt
        else { return .failure(.invalid) }
        guard claims["iss"] == "Sentinel", let audience = claims["aud"]?.stringValue else {
            return .failure(.missingClaim)
        }
        guard audience == account else { return .failure(.otherAccount) }
        guard let clientId = claims["azp"]?.stringValue else { return .failure(.invalid) }
        return .success(AppJWTClaims(account: audience, clientId: clientId, expiresAt: expiresAt))
    }

    private func signingKey() throws -> (key: _RSA.Signing.PrivateKey, kid: String) {
        try rsa.withLock { held in
            if let held { return held }
            let made = (key: try _RSA.Signing.PrivateKey(keySize: .bits2048), kid: "appjwt-" + Self.day(Date()))
            held = made
            return made
        }
    }

    // MARK: - ConsumerJWS

    private var consumerKey: SymmetricKey { SymmetricKey(data: consumerKeyBytes) }

    /// `hex(sha256(account + ":" + ext_consumer_id))` (spec §2.3, proposed): the same consumer for the
    /// same external id, whichever app or token asks.
    static func consumerId(account: String, externalId: String) -> String {
        SHA256.hash(data: Array("\(account):\(externalId)".utf8)).map { String(format: "%02x", $0) }.joined()
    }

    func issueConsumerJWS(account: String, externalId: String, clientId: String) -> String {
        let header: JSONValue = .object(["alg": "HS256", "typ": "JWT"])
        let claims: JSONValue = .object([
            "account_id": .string(account), "ext_consumer_id": .string(externalId),
            "lp_consumer_id": .string(Self.consumerId(account: account, externalId: externalId)),
            "azp": .string(clientId),
        ])
        let input = Base64URL.encode(Array(header.text.utf8)) + "." + Base64URL.encode(Array(claims.text.utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: consumerKey)
        return input + "." + Base64URL.encode(Array(mac))
    }

    /// The claims of a ConsumerJWS this hub issued for `account`; `nil` otherwise.
    func verifyConsumerJWS(_ token: String, account: String) -> ConsumerClaims? {
        guard let (header, claims, input, signature) = Self.parts(token), header["alg"] == "HS256",
            HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: Array(input.utf8), using: consumerKey),
            claims["account_id"]?.stringValue == account,
            let externalId = claims["ext_consumer_id"]?.stringValue,
            let consumerId = claims["lp_consumer_id"]?.stringValue,
            let clientId = claims["azp"]?.stringValue
        else { return nil }
        return ConsumerClaims(account: account, externalId: externalId, consumerId: consumerId, clientId: clientId)
    }

    // MARK: - JWT parts

    /// Header, claims, signing input and signature of a compact JWT; `nil` when it is not one.
    private static func parts(_ token: String) -> (JSONValue, JSONValue, String, [UInt8])? {
        let pieces = token.split(separator: ".", omittingEmptySubsequences: false)
        guard token.utf8.count <= 8192, pieces.count == 3,
            let headerBytes = Base64URL.decode(pieces[0]), let claimBytes = Base64URL.decode(pieces[1]),
            let signature = Base64URL.decode(pieces[2]),
            let header = try? JSONValue.parse(bytes: headerBytes), let claims = try? JSONValue.parse(bytes: claimBytes),
            case .object = claims
        else { return nil }
        return (header, claims, String(pieces[0] + "." + pieces[1]), Array(signature))
    }

    private static func day(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter.string(from: date)
    }
}
