import HubSQLite
import HubTestSupport
import Testing

/// The connection's statement cache, keyed by SQL text (hashed from a sample of its bytes).
struct StatementCacheTests {
    @Test func textsThatDifferOnlyOutsideTheHashedBytesAreDifferentStatements() async throws {
        try await withTemporaryDirectory { directory in
            let connection = try Connection(path: directory + "/t.sqlite")
            defer { connection.close() }
            // Same length, same bytes everywhere but the 8th: the hashed words are all alike.
            let padding = String(repeating: "x", count: 200)
            let texts = (1...9).map { "SELECT \($0) AS value, '\(padding)' AS padding" }
            #expect(Set(texts.map(\.utf8.count)).count == 1)
            for _ in 0..<2 {
                for (index, sql) in texts.enumerated() {
                    #expect(try connection.singleInt64(sql: sql) == Int64(index + 1))
                }
            }
        }
    }

    @Test func theSameTextIsPreparedOnceEvenWhenBuiltAnew() async throws {
        try await withTemporaryDirectory { directory in
            let connection = try Connection(path: directory + "/t.sqlite")
            defer { connection.close() }
            let table = "sqlite_schema"
            let first = try connection.cachedStatement(sql: "SELECT count(*) FROM \(table)")
            let again = try connection.cachedStatement(sql: "SELECT count(*) FROM \(table)")
            #expect(first === again)
            // Shorter than one hashed word.
            #expect(try connection.cachedStatement(sql: "SELECT 1") === connection.cachedStatement(sql: "SELECT 1"))
            #expect(try connection.singleInt64(sql: "SELECT 2") == 2)
        }
    }
}
