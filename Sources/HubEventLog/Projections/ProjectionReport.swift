import Foundation
import HubSQLite

/// A rebuilt projection: its tables' row counts and fingerprints, as of `position`.
public struct ProjectionReport: Sendable, Equatable {
    public var name: String
    public var version: Int
    public var position: Int64
    public var tables: [TableFingerprint]
}

extension ProjectionReport {
    /// Each projection's report, its tables fingerprinted on one snapshot. The projections are split
    /// in two groups of about as many rows, the second fingerprinted on a connection and thread of its
    /// own beside the first: reading and hashing every row of a large store takes seconds.
    static func fingerprinting(
        _ projections: [any Projection],
        position: Int64,
        _ connection: Connection
    ) throws -> [ProjectionReport] {
        @Sendable func reports(_ group: [any Projection], _ connection: Connection) throws -> [ProjectionReport] {
            try connection.transaction(.deferred) {
                try group.map { projection in
                    ProjectionReport(
                        name: projection.name,
                        version: projection.version,
                        position: position,
                        tables: try projection.schema.tables.map { try TableFingerprint.compute($0, connection) }
                    )
                }
            }
        }
        var rows: [String: Int64] = [:]
        for projection in projections {
            rows[projection.name] = try projection.schema.tables.reduce(0) { sum, table in
                sum + (try connection.singleInt64(sql: "SELECT count(*) FROM \(table)") ?? 0)
            }
        }
        // Largest first, each to the lighter group.
        var groups: ([String], [String]) = ([], [])
        var weights: (Int64, Int64) = (0, 0)
        for projection in projections.sorted(by: { rows[$0.name, default: 0] > rows[$1.name, default: 0] }) {
            let weight = rows[projection.name, default: 0]
            if weights.0 <= weights.1 {
                groups.0.append(projection.name)
                weights.0 += weight
            } else {
                groups.1.append(projection.name)
                weights.1 += weight
            }
        }
        let beside = projections.filter { groups.1.contains($0.name) }
        guard !beside.isEmpty else { return try reports(projections, connection) }
        let other = ProducerThread<[ProjectionReport]>(name: "hubstore-prints", capacity: 1) {
            [path = connection.path] send in
            // Read-write without create (a read-only open of a WAL database fails without its -shm),
            // but query-only.
            let reader = try Connection(path: path, configuration: .init(mode: .readWrite(create: false)))
            defer { reader.close() }
            try reader.execute(sql: "PRAGMA query_only = ON")
            _ = send(try reports(beside, reader))
        }
        defer { other.cancel() }
        let here = try reports(projections.filter { groups.0.contains($0.name) }, connection)
        let there = try other.next() ?? []
        let byName = Dictionary(uniqueKeysWithValues: (here + there).map { ($0.name, $0) })
        return projections.compactMap { byName[$0.name] }
    }
}
