import Foundation
@_spi(Storage) import HubEventLog
import HubSQLite
import HubTestSupport
import HubTools
import Testing

private struct RolledBack: Error {}

/// The log's names said once (migration 0014): `event_records` refers to each stream, type, account and
/// actor by its id in `event_names`, and the view `events` reads as the table it replaced.
struct EventNamesTests {
    @Test func aStoreWrittenBeforeTheNamesTableReadsTheSameAfterItsMigration() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/hub.sqlite"
            // A log as the versions before 0014 wrote it: a table of names spelled out in every row.
            var written: [RecordedEvent] = []
            do {
                let connection = try Connection(path: path)
                defer { connection.close() }
                let before = Migrator(migrations: EventStoreSchema.migrations.filter { $0.name < "0014" })
                _ = try before.migrate(connection, recordedAt: 1)
                var previous = EventHash.genesis
                for index in 0..<30 {
                    var event = RecordedEvent(
                        position: Int64(index + 1),
                        id: EventID.makeV7(),
                        stream: "s/\(index % 4)",
                        version: Int64(index / 4 + 1),
                        type: index % 3 == 0 ? "a.one" : "b.two",
                        schemaVersion: 1,
                        recordedAt: 1_000 + Int64(index),
                        account: index % 5 == 0 ? nil : "acc\(index % 2)",
                        actor: "actor\(index % 3)",
                        correlationId: index % 2 == 0 ? "c\(index)" : nil,
                        causationId: nil,
                        data: #"{"i":\#(index)}"#,
                        hash: []
                    )
                    event.hash = EventHash.compute(event, previous: previous)
                    previous = event.hash
                    try connection.run(
                        sql: "INSERT INTO events (\(EventLog.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [
                            event.position, event.id, event.stream, event.version, event.type,
                            event.schemaVersion, event.recordedAt, event.account, event.actor, event.correlationId,
                            event.causationId, event.data, event.hash,
                        ]
                    )
                    written.append(event)
                }
            }
            let expected = written
            try await withStore(directory) { store in
                #expect(try await store.readAll() == expected)
                #expect(try await store.readStream("s/1").map(\.position) == [2, 6, 10, 14, 18, 22, 26, 30])
                #expect(try await store.readAll(filter: .init(account: "acc0")).count == 12)
                let next = try await store.append([draft()], to: "s/1")
                #expect(next.positions == [31])
                #expect(next.versions == [9])
            }
            #expect(try await ChainVerifier(databasePath: path).verify().isIntact)
            let connection = try Connection(path: path)
            defer { connection.close() }
            // 2 types, 3 actors, 2 accounts and 4 streams, each once, the types first (the smallest ids);
            // then the type and actor of the event appended after the migration.
            #expect(try connection.singleInt64(sql: "SELECT count(*) FROM event_names") == 13)
            #expect(try connection.singleText(sql: "SELECT name FROM event_names WHERE id = 1") == "b.two")
            #expect(try connection.singleInt64(sql: "SELECT count(*) FROM sqlite_schema WHERE name = 'events'") == 1)
            #expect(try connection.singleText(sql: "SELECT type FROM sqlite_schema WHERE name = 'events'") == "view")
        }
    }

    @Test func anInsertIntoTheViewInternsItsNames() async throws {
        try await withTemporaryDirectory { directory in
            try await withStore(directory) { store in _ = try await store.append([draft()], to: "s/1") }
            let connection = try Connection(path: directory + "/hub.sqlite")
            defer { connection.close() }
            try connection.execute(
                sql: """
                    INSERT INTO events SELECT position + 1, id || 'x', 's/new', 1, 'test.other', schema_version,
                        recorded_at, 'acme', actor, NULL, NULL, data, hash FROM events
                    """
            )
            let rows = try connection.prepare(sql: "SELECT stream, type, account, actor FROM events ORDER BY position")
            var read: [[String?]] = []
            while try rows.step() { read.append((0..<4).map { rows.optionalText(at: $0) }) }
            #expect(read == [["s/1", "test.happened", nil, "test"], ["s/new", "test.other", "acme", "test"]])
            #expect(try connection.singleInt64(sql: "SELECT count(*) FROM event_names") == 6)
        }
    }

    @Test func aNameAddedByARolledBackCommandIsAddedAgainByItsBatchMates() async throws {
        try await withTemporaryDirectory { directory in
            try await withStore(directory) { store in
                // Commands queued together share a batch. Every other one brings new names and then fails,
                // so the names its savepoint added are gone when its batch-mates append with them.
                await withTaskGroup(of: Void.self) { group in
                    for index in 0..<60 {
                        group.addTask {
                            _ = try? await store.writer.perform { transaction in
                                try transaction.append(
                                    [draft("t.\(index % 6)", account: "acc/\(index % 7)")],
                                    to: "fresh/\(index % 5)"
                                )
                                if index % 2 == 1 { throw RolledBack() }
                            }
                        }
                    }
                }
                let events = try await store.readAll()
                #expect(events.count == 30)
                var expected: [String: Int] = [:]
                for index in stride(from: 0, to: 60, by: 2) { expected["fresh/\(index % 5)", default: 0] += 1 }
                for (stream, count) in expected {
                    #expect(try await store.readStream(stream).count == count, "\(stream)")
                }
                #expect(Set(events.map(\.type)) == Set(stride(from: 0, to: 6, by: 2).map { "t.\($0)" }))
            }
            let connection = try Connection(path: directory + "/hub.sqlite")
            defer { connection.close() }
            // No record refers to a name that is not there.
            #expect(try connection.singleInt64(sql: "SELECT count(*) FROM event_records") == 30)
            #expect(try await ChainVerifier(databasePath: directory + "/hub.sqlite").verify().isIntact)
        }
    }
}
