import Foundation
import HubSQLite
import HubTestSupport
import Testing

/// A writer that defers its commits' WAL syncs (the writer's pipelining): what is deferred is
/// counted and handed out, syncing it settles it, and a checkpoint never copies frames that are not
/// on disk yet.
struct DeferredWALSyncTests {
    static func writer(_ path: String) throws -> Connection {
        let writer = try Connection(
            path: path,
            configuration: .init(journalModeWAL: true, synchronous: .full, bufferWALWrites: true)
        )
        try writer.execute(sql: "CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)")
        return writer
    }

    static func insert(_ writer: Connection, _ key: Int64) throws {
        try writer.transaction { try writer.run(sql: "INSERT INTO t VALUES (?, ?)", [key, "v\(key)"]) }
    }

    @Test func deferredCommitsAreHandedOutAndSettledBySyncing() async throws {
        try await withTemporaryDirectory { directory in
            let writer = try Self.writer(directory + "/d.sqlite")
            defer { writer.close() }
            // Without deferral every commit syncs at once: nothing is outstanding.
            try Self.insert(writer, 1)
            #expect(writer.takeDeferredWALSync() == nil)

            #expect(writer.deferWALSyncs(true))
            try Self.insert(writer, 2)
            let first = try #require(writer.takeDeferredWALSync())
            try Self.insert(writer, 3)
            let second = try #require(writer.takeDeferredWALSync())
            #expect(first.isCovered(by: second))
            #expect(!second.isCovered(by: first))
            // Synced on another thread while the connection writes on.
            try await Task.detached { try second.sync() }.value
            #expect(writer.takeDeferredWALSync() == nil, "the later sync covered both")
            // An earlier handle synced afterwards has nothing left to do, and does not fail.
            try first.sync()

            // Off again: commits sync themselves.
            #expect(writer.deferWALSyncs(false))
            try Self.insert(writer, 4)
            #expect(writer.takeDeferredWALSync() == nil)

            let reader = try Connection(path: directory + "/d.sqlite", configuration: .init(mode: .readOnly))
            defer { reader.close() }
            #expect(try reader.singleInt64(sql: "SELECT count(*) FROM t") == 4)
        }
    }

    /// A checkpoint writes frames into the database file: the WAL's deferred syncs are done first,
    /// so nothing is left outstanding after it.
    @Test func aCheckpointSyncsWhatWasDeferredFirst() async throws {
        try await withTemporaryDirectory { directory in
            let writer = try Self.writer(directory + "/c.sqlite")
            defer { writer.close() }
            try Self.insert(writer, 1)
            #expect(writer.deferWALSyncs(true))
            for key in 2...50 { try Self.insert(writer, Int64(key)) }
            #expect(writer.takeDeferredWALSync() != nil)
            try writer.execute(sql: "PRAGMA wal_checkpoint(PASSIVE)")
            #expect(writer.takeDeferredWALSync() == nil)
            #expect(try writer.singleText(sql: "PRAGMA integrity_check") == "ok")
        }
    }

    /// Deferral needs the buffering VFS: a connection without it says so and syncs as configured.
    @Test func aConnectionWithoutTheBufferCannotDefer() async throws {
        try await withTemporaryDirectory { directory in
            let plain = try Connection(
                path: directory + "/p.sqlite",
                configuration: .init(journalModeWAL: true, synchronous: .full)
            )
            defer { plain.close() }
            #expect(!plain.deferWALSyncs(true))
            try plain.execute(sql: "CREATE TABLE t (k INTEGER PRIMARY KEY)")
            #expect(plain.takeDeferredWALSync() == nil)
        }
    }
}
