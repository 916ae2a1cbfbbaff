import Crypto
import Testing

@testable import HubVault

struct NonceSourceTests {
    /// Across several refills of its buffer, no nonce repeats and none is the buffer's zeroes.
    @Test func noncesAreTwelveRandomBytesNeverHandedOutTwice() throws {
        let source = NonceSource()
        var seen: Set<[UInt8]> = []
        for _ in 0..<2_000 {
            let bytes = try source.next().withUnsafeBytes { Array($0) }
            #expect(bytes.count == 12)
            #expect(bytes != [UInt8](repeating: 0, count: 12))
            seen.insert(bytes)
        }
        #expect(seen.count == 2_000)
    }
}
