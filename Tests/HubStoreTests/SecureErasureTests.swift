import Foundation
@_spi(Storage) import HubEventLog
import HubSQLite
import HubTestSupport
import Synchronization
import Testing

/// A batch that erases securely leaves nothing in the WAL once nothing holds it there (DESIGN.md §6).
struct SecureErasureTests {
    /// A reader's snapshot keeps the writer from truncating the WAL right after an erasure commits.
    /// Once the reader has let go, the writer truncates it, even if nothing more is written: it used to
    /// try again only after a later batch, and an idle hub kept the erased pages in the WAL.
    @Test func aTruncationAReaderHeldOffIsDoneOnceItLetsGoWithoutAnotherWrite() async throws {
        try await withTemporaryDirectory { directory in
            try await withStore(directory) { store in
                _ = try await store.append([draft()], to: "s/1")
                let reading = Atomic<Bool>(false)
                let release = Atomic<Bool>(false)
                async let held: Void = store.pool.read { connection in
                    // A snapshot that ends in the WAL, held until released.
                    _ = try connection.singleInt64(sql: "SELECT count(*) FROM event_records")
                    reading.store(true, ordering: .sequentiallyConsistent)
                    while !release.load(ordering: .sequentiallyConsistent) { usleep(1000) }
                }
                while !reading.load(ordering: .sequentiallyConsistent) { try await Task.sleep(for: .milliseconds(1)) }
                try await store.writer.perform { transaction in
                    transaction.eraseSecurely()
                    try transaction.append([draft("test.erased")], to: "s/1")
                }
                let wal = directory + "/hub.sqlite-wal"
                func walSize() -> Int { (try? FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int) ?? 0 }
                #expect(walSize() > 0, "the reader let the truncation through")
                release.store(true, ordering: .sequentiallyConsistent)
                try await held
                let deadline = ContinuousClock.now + .seconds(5)
                while walSize() > 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
                #expect(walSize() == 0)
            }
        }
    }
}
