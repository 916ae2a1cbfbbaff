import Crypto
public import Foundation
import Synchronization

/// Event ids: UUIDv7 for new events, UUIDv5 for the first event of an append made with an idempotency
/// key (a retry finds the append by it).
///
/// Related: RFC 9562 (UUIDv7 §5.7, UUIDv5 §5.5).
public enum EventID {
    /// The namespace under which idempotency keys are turned into UUIDv5 ids.
    package static let idempotencyNamespace: [UInt8] = [
        0x6b, 0x3e, 0x1f, 0x0a, 0x52, 0x8c, 0x4d, 0x2e, 0x9a, 0x61, 0x0c, 0x7d, 0x35, 0xb4, 0x48, 0x11,
    ]

    private static let generator = Mutex(UUIDv7Generator())

    /// A new UUIDv7, monotonic within this process (a 12-bit counter orders ids of the same millisecond),
    /// so the unique index on ids grows at its right edge.
    public static func makeV7(now: Date = Date()) -> String {
        let milliseconds = UInt64(max(0, now.timeIntervalSince1970 * 1000))
        let bytes = generator.withLock { $0.next(milliseconds: milliseconds) }
        return format(bytes)
    }

    /// The UUIDv5 of `name` in HubStore's idempotency namespace: the same name always gives the same id.
    public static func makeV5(name: String) -> String {
        var digest = Insecure.SHA1()
        digest.update(data: idempotencyNamespace)
        digest.update(data: Array(name.utf8))
        var bytes = Array(digest.finalize().prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x50
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return format(bytes)
    }

    /// Lowercase 8-4-4-4-12 text.
    package static func format(_ bytes: [UInt8]) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        return String(unsafeUninitializedCapacity: 36) { buffer in
            var index = 0
            for (offset, byte) in bytes.enumerated() {
                if offset == 4 || offset == 6 || offset == 8 || offset == 10 {
                    buffer[index] = UInt8(ascii: "-")
                    index += 1
                }
                buffer[index] = digits[Int(byte >> 4)]
                buffer[index + 1] = digits[Int(byte & 0x0F)]
                index += 2
            }
            return index
        }
    }
}

/// RFC 9562 method 1: a 12-bit counter in `rand_a`, seeded randomly each new millisecond; when it
/// overflows the timestamp moves one millisecond ahead, so ids never go backwards.
package struct UUIDv7Generator {
    private var lastMilliseconds: UInt64 = 0
    private var counter: UInt16 = 0
    private var random = BufferedRandom()

    package mutating func next(milliseconds: UInt64) -> [UInt8] {
        if milliseconds > lastMilliseconds {
            lastMilliseconds = milliseconds
            counter = UInt16.random(in: 0..<0x400, using: &random)
        } else if counter < 0xFFF {
            counter += 1
        } else {
            lastMilliseconds += 1
            counter = 0
        }
        let time = lastMilliseconds
        let tail = random.next() as UInt64
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in 0..<6 { bytes[index] = UInt8(truncatingIfNeeded: time >> (40 - 8 * UInt64(index))) }
        bytes[6] = 0x70 | UInt8(counter >> 8)
        bytes[7] = UInt8(truncatingIfNeeded: counter)
        for index in 8..<16 { bytes[index] = UInt8(truncatingIfNeeded: tail >> (8 * UInt64(index - 8))) }
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return bytes
    }
}

/// xoshiro256** seeded from the system generator, reseeded every 4096 draws.
///
/// UUIDv7 random bits need to be unique, not secret; the system generator costs a system call per
/// draw, which showed in profiles of the write path.
package struct BufferedRandom: RandomNumberGenerator {
    private var state: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    private var remaining = 0

    package mutating func next() -> UInt64 {
        if remaining == 0 {
            var system = SystemRandomNumberGenerator()
            repeat {
                state = (system.next(), system.next(), system.next(), system.next())
            } while state == (0, 0, 0, 0)
            remaining = 4096
        }
        remaining -= 1
        let result = rotate(state.1 &* 5, 7) &* 9
        let shifted = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= shifted
        state.3 = rotate(state.3, 45)
        return result
    }

    private func rotate(_ value: UInt64, _ count: UInt64) -> UInt64 {
        (value << count) | (value >> (64 - count))
    }
}
