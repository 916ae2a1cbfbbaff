import AsyncHTTPClient
import Foundation
import HubCommands
import HubDelivery
import HubDomain
@_spi(Storage) import HubEventLog
import HubHTTP
import HubReadModels
import HubSQLite
import HubVault
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

extension IngestBenchmark {
    /// How often `needle` occurs in `buffer`.
    static func occurrences(of needle: String, in buffer: ByteBuffer) -> Int {
        let pattern = Array(needle.utf8)
        return buffer.withUnsafeReadableBytes { bytes in
            guard let first = pattern.first, bytes.count >= pattern.count else { return 0 }
            var count = 0
            var index = 0
            while index <= bytes.count - pattern.count {
                if bytes[index] == first, pattern.indices.allSatisfy({ bytes[index + $0] == pattern[$0] }) {
                    count += 1
                    index += pattern.count
                } else {
                    index += 1
                }
            }
            return count
        }
    }
}

/// An atomic integer that closures can capture.
final class Counter: Sendable {
    let value: Atomic<Int>
    init(_ initial: Int) { value = Atomic(initial) }
}
