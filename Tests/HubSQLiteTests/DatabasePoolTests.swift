import HubSQLite
import HubTestSupport
import Testing

private struct Refused: Error {}

struct DatabasePoolTests {
    @Test func readersSeeCommittedWritesAndKeepASnapshot() async throws {
        try await withTemporaryDirectory { directory in
            let pool = try await DatabasePool(path: directory + "/p.sqlite", configuration: .init(readerCount: 2))
            try await pool.write { try $0.execute(sql: "CREATE TABLE t (v INTEGER)") }
            try await pool.write { try $0.run(sql: "INSERT INTO t VALUES (1)") }
            #expect(try await pool.read { try $0.singleInt64(sql: "SELECT count(*) FROM t") } == 1)
            // A failed write leaves nothing behind.
            await #expect(throws: Refused.self) {
                try await pool.write { connection in
                    try connection.run(sql: "INSERT INTO t VALUES (2)")
                    throw Refused()
                }
            }
            #expect(try await pool.read { try $0.singleInt64(sql: "SELECT count(*) FROM t") } == 1)
            #expect(try await pool.writer.perform { try $0.singleText(sql: "PRAGMA journal_mode") } == "wal")
            await pool.close()
            await #expect(throws: SQLiteError.self) { try await pool.read { _ in 0 } }
        }
    }

    @Test func theWriterKeepsSubJournalsInMemoryAndCheckpointsEvery4000Pages() async throws {
        try await withTemporaryDirectory { directory in
            let pool = try await DatabasePool(path: directory + "/p.sqlite", configuration: .init(readerCount: 1))
            // temp_store 2 = MEMORY; SQLite's default (0) spills a savepoint's sub-journal to a file.
            #expect(try await pool.writer.perform { try $0.singleInt64(sql: "PRAGMA temp_store") } == 2)
            #expect(try await pool.writer.perform { try $0.singleInt64(sql: "PRAGMA wal_autocheckpoint") } == 4000)
            await pool.close()
        }
    }
}
