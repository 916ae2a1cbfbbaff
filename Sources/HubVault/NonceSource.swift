import Crypto
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// AES-GCM nonces from the system's random generator (`arc4random_buf`: the kernel's `getrandom` on
/// Linux), read 4,092 bytes at a time: one call per 341 seals instead of two per seal (swift-crypto's
/// own nonce reads eight bytes a call). Each byte is handed out once.
final class NonceSource: Sendable {
    private static let nonceSize = 12
    private static let refill = 4096 / nonceSize * nonceSize
    private let state = Mutex<(bytes: [UInt8], next: Int)>(([], 0))

    init() {}

    func next() throws -> AES.GCM.Nonce {
        let bytes = state.withLock { state -> ArraySlice<UInt8> in
            if state.next + Self.nonceSize > state.bytes.count {
                state.bytes = [UInt8](repeating: 0, count: Self.refill)
                state.bytes.withUnsafeMutableBytes { buffer in
                    if let base = buffer.baseAddress { arc4random_buf(base, buffer.count) }
                }
                state.next = 0
            }
            defer { state.next += Self.nonceSize }
            return state.bytes[state.next..<state.next + Self.nonceSize]
        }
        return try AES.GCM.Nonce(data: bytes)
    }
}
