import Foundation
import HubSQLite
import HubTestSupport
import Testing

/// A writer waiting for the lock while another connection commits and at once begins again (as a
/// rebuild fills its tables beside a server) gets in at the first short gap, instead of starving.
struct BusyWaitTests {
    final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var raised = false
        var isRaised: Bool { lock.withLock { raised } }
        func raise() { lock.withLock { raised = true } }
    }

    @Test func aWaitingWriterGetsTheLockInTheOtherWritersShortGaps() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/t.sqlite"
            let setup = try Connection(path: path)
            try setup.execute(sql: "PRAGMA journal_mode = WAL")
            try setup.execute(sql: "CREATE TABLE t (v INTEGER)")
            setup.close()
            let stop = Flag()
            let started = Flag()
            // The other writer: 100 ms transactions, 2 ms apart, for up to 20 s.
            let other = Thread {
                guard let connection = try? Connection(path: path) else { return }
                defer { connection.close() }
                let deadline = ContinuousClock.now + .seconds(20)
                while !stop.isRaised && ContinuousClock.now < deadline {
                    try? connection.execute(sql: "BEGIN IMMEDIATE")
                    started.raise()
                    try? connection.execute(sql: "INSERT INTO t VALUES (1)")
                    Thread.sleep(forTimeInterval: 0.1)
                    try? connection.execute(sql: "COMMIT")
                    Thread.sleep(forTimeInterval: 0.002)
                }
            }
            other.start()
            defer { stop.raise() }
            while !started.isRaised { try await Task.sleep(for: .milliseconds(1)) }
            let connection = try Connection(path: path, configuration: .init(busyTimeout: .seconds(5)))
            defer { connection.close() }
            var waits: [Duration] = []
            for _ in 0..<10 {
                let begun = ContinuousClock.now
                try connection.execute(sql: "BEGIN IMMEDIATE")
                waits.append(begun.duration(to: .now))
                try connection.execute(sql: "INSERT INTO t VALUES (2)")
                try connection.execute(sql: "COMMIT")
                try await Task.sleep(for: .milliseconds(20))
            }
            stop.raise()
            // A wait ends at one of the other writer's next gaps: its 102 ms cycle, plus scheduling, which
            // on a loaded machine can miss a gap or a few. SQLite's own busy handler, sleeping up to
            // 100 ms at a time, keeps missing the 2 ms gaps until its 5 s timeout fails the BEGIN.
            #expect(waits.allSatisfy { $0 < .milliseconds(2500) }, "waits: \(waits)")
            #expect(waits.sorted()[waits.count / 2] < .milliseconds(400), "waits: \(waits)")
        }
    }
}
