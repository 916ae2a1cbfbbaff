import Foundation
import HTTPTypes
import HubCommands
import HubDomain
@_spi(Storage) import HubEventLog
import HubHTTP
import HubReadModels
import HubTestSupport
import HubVault
import Hummingbird
import HummingbirdTesting
import Testing

/// `GET /v1/log/head`: the latest signed checkpoint, checkable by whoever keeps it, with only the
/// public key.
struct LogHeadTests {
    @Test func theLatestSignedCheckpointIsServedToQueryAndAdminTokens() async throws {
        try await withTemporaryDirectory { directory in
            try await withHub(directory) { store, tokens, app in
                let query = tokens.issue(subject: TokenService.operatorSubject, scopes: [.query])
                let admin = tokens.issue(subject: TokenService.operatorSubject, scopes: [.admin])
                let other = tokens.issue(subject: TokenService.operatorSubject, scopes: [.interactionRead])
                let signer = LogHeadSigner(masterKey: try MasterKey.load(directory: store.directory, environment: [:]))
                try await app.test(.router) { client in
                    try await client.execute(
                        uri: "/v1/log/head",
                        method: .get,
                        headers: [.authorization: "Bearer \(query)"]
                    ) {
                        #expect($0.status == .notFound)
                        #expect(String(buffer: $0.body).contains(#""code":"404-101""#))
                    }
                    for index in 0..<3 { _ = try await store.append([draft()], to: "s/\(index)") }
                    _ = try await store.writer.perform { try LogCheckpoints.record($0, signer: signer) }
                    _ = try await store.append([draft()], to: "s/9")
                    var body = ""
                    for token in [query, admin] {
                        try await client.execute(
                            uri: "/v1/log/head",
                            method: .get,
                            headers: [.authorization: "Bearer \(token)"]
                        ) {
                            #expect($0.status == .ok)
                            body = String(buffer: $0.body)
                        }
                    }
                    try await client.execute(
                        uri: "/v1/log/head",
                        method: .get,
                        headers: [.authorization: "Bearer \(other)"]
                    ) {
                        #expect($0.status == .forbidden)
                    }
                    try await client.execute(uri: "/v1/log/head", method: .get) { #expect($0.status == .unauthorized) }

                    // The checkpoint covers position 3, not the event appended after it.
                    let fields = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
                    #expect(fields["position"] as? Int == 3)
                    #expect(fields["algorithm"] as? String == "Ed25519")
                    let hash = try #require(fields["hash"] as? String)
                    #expect(fields["head"] as? String == "3:\(hash)")
                    let third = try #require(try await store.readAll(after: 2, limit: 1).first)
                    #expect(hash == hex(third.hash))
                    // Checked as an outsider would: the public key and the fields, nothing else.
                    let publicKey = try #require(fields["publicKey"] as? String)
                    let key = try #require(LogHeadKey(rawRepresentation: bytes(publicKey)))
                    let time = try #require(fields["recordedAt"] as? String)
                    let recordedAt = try #require(Timestamp.milliseconds(time))
                    let signature = try #require(fields["signature"] as? String)
                    var checkpoint = LogCheckpoint(
                        position: 3,
                        headHash: bytes(hash),
                        recordedAt: recordedAt,
                        signature: bytes(signature)
                    )
                    #expect(hex(checkpoint.signedBytes) == fields["signedBytes"] as? String)
                    #expect(key.isValid(checkpoint))
                    checkpoint.position = 4
                    #expect(!key.isValid(checkpoint))
                }
            }
        }
    }

    func hex(_ bytes: [UInt8]) -> String { bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() }

    func bytes(_ hex: String) -> [UInt8] {
        var result: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            result.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return result
    }
}
