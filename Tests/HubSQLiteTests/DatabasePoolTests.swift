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

    @Test func insertOrReplaceFiresDeleteTriggers() async throws {
        try await withTemporaryDirectory { directory in
            let connection = try Connection(path: directory + "/c.sqlite")
            defer { connection.close() }
            #expect(try connection.singleInt64(sql: "PRAGMA recursive_triggers") == 1)
            try connection.execute(
                sql: """
                    CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT);
                    CREATE TRIGGER t_no_delete BEFORE DELETE ON t BEGIN SELECT RAISE(ABORT, 'no delete'); END;
                    INSERT INTO t VALUES (1, 'a');
                    """
            )
            let error = #expect(throws: SQLiteError.self) {
                try connection.execute(sql: "INSERT OR REPLACE INTO t VALUES (1, 'b')")
            }
            #expect(error?.code == .constraint)
            #expect(try connection.singleText(sql: "SELECT v FROM t WHERE k = 1") == "a")
        }
    }
}
