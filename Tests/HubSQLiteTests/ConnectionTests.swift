import CHubSQLite
import Foundation
import HubSQLite
import HubTestSupport
import Testing

private struct Refused: Error {}

struct ConnectionTests {
    @Test func valuesRoundTripIncludingEdgeCases() async throws {
        try await withTemporaryDirectory { directory in
            let connection = try Connection(path: directory + "/t.sqlite")
            defer { connection.close() }
            try connection.execute(sql: "CREATE TABLE t (i INTEGER, s TEXT, b BLOB, n TEXT) STRICT")
            let insert = try connection.cachedStatement(sql: "INSERT INTO t VALUES (?, ?, ?, ?)")
            let cases: [(Int64, String, [UInt8])] = [
                (Int64.max, "", []),
                (-1, "a\u{0}b", [0, 1, 2]),
                (0, "héllo ✓ 😀", [UInt8](repeating: 0xAB, count: 1000)),
            ]
            for (i, s, b) in cases {
                try insert.bind(i, at: 1)
                try insert.bind(s, at: 2)
                try insert.bind(b, at: 3)
                try insert.bind(String?.none, at: 4)
                try insert.execute()
            }
            let select = try connection.prepare(sql: "SELECT i, s, b, n, typeof(s), typeof(b) FROM t ORDER BY rowid")
            for (i, s, b) in cases {
                #expect(try select.step())
                #expect(select.int64(at: 0) == i)
                #expect(select.text(at: 1) == s)
                #expect(select.blob(at: 2) == b)
                #expect(select.isNull(at: 3))
                #expect(select.optionalText(at: 3) == nil)
                // '' and an empty blob are values, not NULL.
                #expect(select.text(at: 4) == "text")
                #expect(select.text(at: 5) == "blob")
            }
            #expect(try select.step() == false)
        }
    }

    @Test func errorsCarryExtendedCodeAndSQL() async throws {
        try await withTemporaryDirectory { directory in
            let connection = try Connection(path: directory + "/t.sqlite")
            defer { connection.close() }
            try connection.execute(sql: "CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER CHECK (v > 0)) STRICT")
            try connection.run(sql: "INSERT INTO t VALUES (?, ?)", ["a", 1])
            let duplicate = #expect(throws: SQLiteError.self) {
                try connection.run(sql: "INSERT INTO t VALUES (?, ?)", ["a", 2])
            }
            #expect(duplicate?.extendedCode == .constraintPrimaryKey)
            #expect(duplicate?.code == .constraint)
            #expect(duplicate?.sql == "INSERT INTO t VALUES (?, ?)")
            let check = #expect(throws: SQLiteError.self) {
                try connection.run(sql: "INSERT INTO t VALUES (?, ?)", ["b", -1])
            }
            #expect(check?.extendedCode == .constraintCheck)
            // The cached statement that failed is usable again.
            try connection.run(sql: "INSERT INTO t VALUES (?, ?)", ["c", 3])
            #expect(try connection.singleInt64(sql: "SELECT count(*) FROM t") == 2)
        }
    }

    @Test func doubleQuotedStringLiteralsAreRejected() async throws {
        try await withTemporaryDirectory { directory in
            let connection = try Connection(path: directory + "/t.sqlite")
            defer { connection.close() }
            try connection.execute(sql: "CREATE TABLE t (a TEXT)")
            #expect(throws: SQLiteError.self) { try connection.execute(sql: "SELECT * FROM t WHERE a = \"nope\"") }
        }
    }

    @Test func transactionRollsBackOnThrow() async throws {
        try await withTemporaryDirectory { directory in
            let connection = try Connection(path: directory + "/t.sqlite")
            defer { connection.close() }
            try connection.execute(sql: "CREATE TABLE t (v INTEGER)")
            #expect(throws: Refused.self) {
                try connection.transaction {
                    try connection.run(sql: "INSERT INTO t VALUES (1)")
                    throw Refused()
                }
            }
            #expect(try connection.singleInt64(sql: "SELECT count(*) FROM t") == 0)
            #expect(connection.isInTransaction == false)
        }
    }

    @Test func aSavepointUndoesOnlyItsPart() async throws {
        try await withTemporaryDirectory { directory in
            let connection = try Connection(path: directory + "/t.sqlite")
            defer { connection.close() }
            try connection.execute(sql: "CREATE TABLE t (v INTEGER)")
            try connection.transaction {
                try connection.run(sql: "INSERT INTO t VALUES (1)")
                do {
                    try connection.savepoint("inner") {
                        try connection.run(sql: "INSERT INTO t VALUES (2)")
                        throw Refused()
                    }
                } catch is Refused {}
                try connection.savepoint("kept") { try connection.run(sql: "INSERT INTO t VALUES (3)") }
            }
            #expect(try connection.singleText(sql: "SELECT group_concat(v) FROM t") == "1,3")
            #expect(connection.isInTransaction == false)
        }
    }

    @Test func aFileThatIsNotADatabaseFailsAtOpen() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/garbage.sqlite"
            try Data(repeating: 0x42, count: 8192).write(to: URL(fileURLWithPath: path))
            let error = #expect(throws: SQLiteError.self) { _ = try Connection(path: path) }
            #expect(error?.code == .notADatabase)
        }
    }

    @Test func readOnlyConnectionCannotWrite() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/t.sqlite"
            let writer = try Connection(path: path)
            try writer.execute(sql: "CREATE TABLE t (v INTEGER)")
            writer.close()
            let reader = try Connection(path: path, configuration: .init(mode: .readOnly))
            defer { reader.close() }
            let error = #expect(throws: SQLiteError.self) { try reader.execute(sql: "INSERT INTO t VALUES (1)") }
            #expect(error?.code == .readOnly)
        }
    }

    @Test func sqliteKeepsNoMemoryStatistics() async throws {
        try await withTemporaryDirectory { directory in
            let connection = try Connection(path: directory + "/m.sqlite")
            defer { connection.close() }
            try connection.execute(sql: "CREATE TABLE t (v TEXT); INSERT INTO t VALUES (zeroblob(100000));")
            // With statistics on, every allocation takes SQLite's global mutex to count it.
            #expect(sqlite3_memory_used() == 0)
        }
    }
}
