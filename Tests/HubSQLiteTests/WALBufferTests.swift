import Foundation
import HubSQLite
import HubTestSupport
import Testing

/// The writer's WAL writes go through the `hubstore-wal-buffer` VFS, which gathers each commit's
/// frames into a few large writes. What it must never change: what another connection sees after a
/// commit, what is in the files, and what survives reopening.
struct WALBufferTests {
    @Test func thePoolsWriterBuffersItsWALWritesAndItsReadersDoNot() async throws {
        try await withTemporaryDirectory { directory in
            let pool = try await DatabasePool(path: directory + "/p.sqlite", configuration: .init(readerCount: 1))
            #expect(try await pool.writer.perform { $0.vfsName } == "hubstore-wal-buffer")
            #expect(try await pool.read { $0.vfsName } == "unix")
            await pool.close()
        }
    }

    @Test func everyCommitIsVisibleToAnotherConnectionAtOnce() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/w.sqlite"
            let writer = try Connection(
                path: path,
                configuration: .init(journalModeWAL: true, synchronous: .full, bufferWALWrites: true)
            )
            defer { writer.close() }
            #expect(writer.vfsName == "hubstore-wal-buffer")
            try writer.execute(sql: "CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)")
            let reader = try Connection(path: path, configuration: .init(mode: .readOnly))
            defer { reader.close() }
            for round in 1...300 {
                // Several pages per commit, some rewritten from earlier commits.
                try writer.transaction {
                    for row in 0..<20 {
                        try writer.run(
                            sql: "INSERT OR REPLACE INTO t VALUES (?, ?)",
                            [Int64((round * 20 + row) % 1500), String(repeating: "r\(round)", count: 60)]
                        )
                    }
                }
                let seen = try reader.singleText(sql: "SELECT v FROM t WHERE k = ?", [Int64((round * 20 + 19) % 1500)])
                #expect(seen == String(repeating: "r\(round)", count: 60))
                if seen != String(repeating: "r\(round)", count: 60) { break }
            }
            #expect(try reader.singleText(sql: "PRAGMA integrity_check") == "ok")
        }
    }

    /// In synchronous=NORMAL a commit is published without a sync, which is where the buffer would
    /// report a failed write: such a connection writes through the default VFS.
    @Test func withoutFullSynchronousNothingIsBuffered() async throws {
        try await withTemporaryDirectory { directory in
            let writer = try Connection(
                path: directory + "/n.sqlite",
                configuration: .init(journalModeWAL: true, synchronous: .normal, bufferWALWrites: true)
            )
            defer { writer.close() }
            #expect(writer.vfsName == "unix")
        }
    }

    /// A transaction larger than the buffer (8 MiB) and than one write (64 KiB) goes out in pieces;
    /// after a checkpoint and a reopen every byte is there.
    @Test func aLargeTransactionSurvivesCheckpointAndReopen() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/l.sqlite"
            let blob = (0..<(20 * 1024 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
            do {
                let writer = try Connection(
                    path: path,
                    configuration: .init(journalModeWAL: true, synchronous: .full, bufferWALWrites: true)
                )
                defer { writer.close() }
                try writer.execute(sql: "CREATE TABLE b (id INTEGER PRIMARY KEY, data BLOB NOT NULL)")
                try writer.transaction {
                    try writer.run(sql: "INSERT INTO b VALUES (1, ?)", [blob])
                    for id in 2...400 {
                        try writer.run(sql: "INSERT INTO b VALUES (?, zeroblob(3000))", [Int64(id)])
                    }
                }
                let reader = try Connection(path: path, configuration: .init(mode: .readOnly))
                defer { reader.close() }
                #expect(try reader.singleInt64(sql: "SELECT count(*) FROM b") == 400)
                try writer.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
            }
            let reopened = try Connection(path: path, configuration: .init(mode: .readOnly))
            defer { reopened.close() }
            let statement = try reopened.prepare(sql: "SELECT data FROM b WHERE id = 1")
            #expect(try statement.step())
            #expect(statement.blob(at: 0) == blob)
            #expect(try reopened.singleText(sql: "PRAGMA integrity_check") == "ok")
        }
    }
}
