import Foundation
import HubSQLite
import HubTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

private struct Refused: Error {}

/// The threads a connection's calls ran on.
private final class ThreadSet: Sendable {
    let threads = Mutex<Set<pthread_t>>([])
}

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

    @Test func theWriterRunsEveryCallOnOneThreadOfItsOwn() async throws {
        try await withTemporaryDirectory { directory in
            let pool = try await DatabasePool(path: directory + "/p.sqlite", configuration: .init(readerCount: 1))
            let seen = ThreadSet()
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<32 {
                    group.addTask {
                        _ = try? await pool.writer.perform { _ in
                            seen.threads.withLock { _ = $0.insert(pthread_self()) }
                        }
                    }
                }
            }
            // 32 calls from concurrent tasks, one thread; a DispatchQueue would have used several.
            #expect(seen.threads.withLock { $0.count } == 1)
            // Named, so that `top -H` shows it.
            let name = try await pool.writer.perform { _ in
                try String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)
            }
            #expect(name == "hubstore-writer\n")
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
