import Crypto
import Testing

@testable import HubVault

/// A message's key from its conversation's content key: what sealed content under it since December
/// 2026 must keep opening to, whatever computes it.
struct ContentKeyDerivationTests {
    @Test func eachKeyIsTheHKDFOfTheContentKeyWithTheRecordAsInfo() {
        let records = ["message/01a237a7-eeed-73ec-95a3-60c22f065964", "message/", "message/é-ü-中", "x"]
        for _ in 0..<20 {
            let contentKey = SymmetricKey(size: .bits256)
            let derivation = ContentKeyDerivation(contentKey)
            for record in records {
                let expected = HKDF<SHA256>.deriveKey(
                    inputKeyMaterial: contentKey,
                    info: Array("hubstore.message-content.v1|\(record)".utf8),
                    outputByteCount: 32
                )
                #expect(derivation.key(record: record) == expected, "\(record)")
            }
        }
    }

    @Test func aDerivationGivesTheSameKeyEachTimeAndAnotherForAnotherRecord() {
        let derivation = ContentKeyDerivation(SymmetricKey(size: .bits256))
        let first = derivation.key(record: "message/a")
        #expect(derivation.key(record: "message/a") == first)
        #expect(derivation.key(record: "message/b") != first)
        #expect(ContentKeyDerivation(SymmetricKey(size: .bits256)).key(record: "message/a") != first)
    }
}
