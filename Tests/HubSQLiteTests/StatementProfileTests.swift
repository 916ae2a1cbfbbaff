import Foundation
import HubSQLite
import HubTestSupport
import Testing

/// A connection's statement profile counts each SQL text's runs and SQLite's time for them.
struct StatementProfileTests {
    /// A connection on a new database in a temporary directory, counting into a new profile.
    private func withProfiledConnection(
        _ body: (_ directory: String, StatementProfile, Connection) throws -> Void
    ) async throws {
        try await withTemporaryDirectory { directory in
            let profile = StatementProfile()
            let connection = try Connection(
                path: directory + "/t.sqlite",
                configuration: .init(statementProfile: profile)
            )
            defer { connection.close() }
            try body(directory, profile, connection)
        }
    }

    @Test func eachStatementIsCountedOncePerRunUnderItsSQL() async throws {
        try await withProfiledConnection { _, profile, connection in
            try connection.execute(sql: "CREATE TABLE t (i INTEGER PRIMARY KEY, s TEXT)")
            profile.reset()
            // A cached statement run three times, and the same SQL prepared anew twice (a new
            // `sqlite3_stmt` each time, whose address may be the last one's): one entry of five runs.
            let insert = "INSERT INTO t (s) VALUES (?)"
            for text in ["a", "b", "c"] {
                try connection.run(sql: insert, [text])
            }
            for text in ["d", "e"] {
                let statement = try connection.prepare(sql: insert)
                try statement.bind(text, at: 1)
                try statement.execute()
            }
            // A statement stepped through three rows is one run.
            let select = try connection.prepare(sql: "SELECT s FROM t WHERE i <= 3 ORDER BY i")
            var rows = 0
            while try select.step() { rows += 1 }
            #expect(rows == 3)

            let entries = profile.entries
            #expect(entries.map(\.sql).sorted() == [insert, "SELECT s FROM t WHERE i <= 3 ORDER BY i"].sorted())
            #expect(entries.first { $0.sql == insert }?.runs == 5)
            #expect(entries.first { $0.sql.hasPrefix("SELECT") }?.runs == 1)
            #expect(entries.allSatisfy { $0.nanoseconds >= 0 })

            profile.reset()
            #expect(profile.entries.isEmpty)
            try connection.run(sql: insert, ["f"])
            #expect(profile.entries.map(\.runs) == [1])
        }
    }

    @Test func aConnectionWithoutAProfileCountsNothing() async throws {
        try await withProfiledConnection { directory, profile, _ in
            let other = try Connection(path: directory + "/t.sqlite")
            defer { other.close() }
            try other.execute(sql: "CREATE TABLE t (i INTEGER)")
            try other.run(sql: "INSERT INTO t VALUES (1)")
            #expect(profile.entries.isEmpty)
        }
    }
}
