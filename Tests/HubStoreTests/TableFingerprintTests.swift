import Foundation
import HubEventLog
import HubSQLite
import HubTestSupport
import Testing

/// The fingerprint `rebuild` reports and `verify --projections` compares.
struct TableFingerprintTests {
    private func fingerprint(_ rows: [[any SQLiteBindable]], _ directory: String) throws -> TableFingerprint {
        let path = directory + "/\(UUID().uuidString).sqlite"
        let connection = try Connection(path: path, configuration: .init(mode: .readWrite(create: true)))
        defer { connection.close() }
        try connection.execute(sql: "CREATE TABLE t (a TEXT, b INTEGER, c REAL, d BLOB)")
        for row in rows { try connection.run(sql: "INSERT INTO t VALUES (?, ?, ?, ?)", row) }
        return try TableFingerprint.compute("t", connection)
    }

    @Test func sameRowsInAnyOrderHaveOneFingerprintAndAnyChangeAnother() async throws {
        try await withTemporaryDirectory { directory in
            let rows: [[any SQLiteBindable]] = [
                ["x", Int64(1), 1.5, [UInt8]([1, 2])],
                ["y", Int64(2), 0.0, [UInt8]()],
                ["", Int64(-7), 2.25, [UInt8]([0])],
            ]
            let base = try fingerprint(rows, directory)
            #expect(base.rows == 3)
            #expect(base.digest.count == 64)
            #expect(try fingerprint(rows.reversed(), directory) == base)
            // A changed value, a value moved to the next column, a type changed, a row added or repeated.
            #expect(try fingerprint([["x", Int64(1), 1.5, [UInt8]([1, 3])]] + rows.dropFirst(), directory) != base)
            #expect(try fingerprint([["x1", Int64(1), 1.5, [UInt8]([1, 2])]] + rows.dropFirst(), directory) != base)
            #expect(try fingerprint([["1", Int64(1), 1.5, [UInt8]([1, 2])]] + rows.dropFirst(), directory) != base)
            #expect(try fingerprint(rows + [rows[0]], directory) != base)
            #expect(try fingerprint(rows + [rows[0]], directory).rows == 4)
            #expect(try fingerprint([], directory).digest == String(repeating: "0", count: 64))
        }
    }
}
