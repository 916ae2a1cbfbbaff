import HubCommands
@_spi(Storage) import HubEventLog
import HubReadModels
import HubSQLite
import HubTestSupport
import HubTools
import HubVault
import Testing

/// Tamper evidence beyond the chain: signed checkpoints of the head, and a head kept outside.
struct LogCheckpointTests {
    /// A log of 10 events, each in a stream of its own with every nullable column set, so that an
    /// edit of any column of position 6 other than position and version is seen by the hash alone.
    func makeLog(_ directory: String) async throws {
        try await withStore(directory) { store in
            for index in 0..<10 {
                let event = EventDraft(
                    type: "t.happened",
                    data: #"{"i":\#(index)}"#,
                    account: "acme",
                    actor: "test",
                    correlationId: "c",
                    causationId: "k"
                )
                _ = try await store.append([event], to: "s/\(index)")
            }
        }
    }

    @Test(arguments: [
        ("position", "position = 100"), ("id", "id = id || 'x'"), ("stream", "stream = \(named("s/x"))"),
        ("version", "version = 2"), ("type", "type = \(named("t.other"))"), ("schema version", "schema_version = 2"),
        ("time", "recorded_at = recorded_at + 1"), ("account", "account = \(named("acmf"))"),
        ("account", "account = NULL"),
        ("actor", "actor = \(named("mallory"))"), ("correlation", "correlation_id = NULL"),
        ("causation", "causation_id = ''"),
        ("data", #"data = '{"i":99}'"#),
    ])
    func anEditOfAnyColumnIsReportedAtItsPosition(_ column: String, _ assignment: String) async throws {
        try await withTemporaryDirectory { directory in
            try await makeLog(directory)
            let connection = try Connection(path: directory + "/hub.sqlite")
            try connection.execute(sql: "DROP TRIGGER events_no_update")
            try connection.execute(
                sql: "INSERT INTO event_names (name) VALUES ('s/x'), ('t.other'), ('acmf'), ('mallory')"
            )
            try connection.execute(sql: "UPDATE event_records SET \(assignment) WHERE position = 6")
            connection.close()
            let report = try await ChainVerifier(databasePath: directory + "/hub.sqlite").verify()
            #expect(report.failure?.position == 6, "\(column): \(String(describing: report.failure))")
            #expect(report.eventCount == 5)
        }
    }

    /// 15 events and a signed checkpoint at 10; returns the data directory's key.
    func makeCheckpointedLog(_ directory: String) async throws -> LogHeadKey {
        var key: LogHeadKey?
        try await withStore(directory) { store in
            let masterKey = try MasterKey.load(directory: store.directory, environment: [:])
            let signer = LogHeadSigner(masterKey: masterKey)
            for index in 0..<15 {
                _ = try await store.append([draft("t.x", #"{"i":\#(index)}"#)], to: "s/\(index % 4)")
                if index == 9 {
                    let checkpoint = try await store.writer.perform { try LogCheckpoints.record($0, signer: signer) }
                    #expect(checkpoint?.position == 10)
                    // Nothing new to cover: no second checkpoint of the same head.
                    #expect(try await store.writer.perform { try LogCheckpoints.record($0, signer: signer) } == nil)
                }
            }
        }
        let masterKey = try MasterKey.load(directory: DataDirectory(path: directory), environment: [:])
        key = LogHeadKey(masterKey: masterKey)
        return try #require(key)
    }

    func verify(
        _ directory: String,
        _ key: LogHeadKey?,
        head: (Int64, [UInt8])? = nil
    ) async throws
        -> ChainVerifier.Report
    {
        try await ChainVerifier(databasePath: directory + "/hub.sqlite", checkpointKey: key, expectedHead: head)
            .verify()
    }

    @Test func anIntactLogVerifiesWithItsCheckpoints() async throws {
        try await withTemporaryDirectory { directory in
            let key = try await makeCheckpointedLog(directory)
            let report = try await verify(directory, key)
            #expect(report.isIntact)
            #expect(report.checkpointCount == 1)
            #expect(report.latestCheckpoint == 10)
            // Without the key the checkpoints cannot be checked, and that is an error, not a pass.
            await #expect(throws: ChainVerifierError.self) { try await verify(directory, nil) }
        }
    }

    /// The tail cut off: the chain alone still verifies, the checkpoint does not.
    @Test func aLogThatEndsBeforeItsCheckpointFails() async throws {
        try await withTemporaryDirectory { directory in
            let key = try await makeCheckpointedLog(directory)
            let connection = try Connection(path: directory + "/hub.sqlite")
            try connection.execute(sql: "DROP TRIGGER events_no_delete")
            try connection.execute(sql: "DELETE FROM event_records WHERE position > 7")
            connection.close()
            let report = try await verify(directory, key)
            #expect(report.failure?.position == 8)
            #expect(report.failure?.reason.contains("ends at position 7") == true)
            #expect(report.eventCount == 7)
        }
    }

    /// An edit with the chain recomputed after it: only the checkpoint shows it.
    @Test func aRewrittenChainDiffersFromTheCheckpoint() async throws {
        try await withTemporaryDirectory { directory in
            let key = try await makeCheckpointedLog(directory)
            try rewrite(directory, from: 5) { $0.data = #"{"i":"forged"}"# }
            let report = try await verify(directory, key)
            #expect(report.failure?.position == 10)
            #expect(report.failure?.reason.contains("hash differs from signed checkpoint #1") == true)
        }
    }

    @Test func aForgedCheckpointFails() async throws {
        try await withTemporaryDirectory { directory in
            let key = try await makeCheckpointedLog(directory)
            let connection = try Connection(path: directory + "/hub.sqlite")
            try connection.execute(sql: "DROP TRIGGER log_checkpoints_no_update")
            try connection.execute(sql: "UPDATE log_checkpoints SET position = 3")
            connection.close()
            let report = try await verify(directory, key)
            #expect(report.failure?.position == 3)
            #expect(report.failure?.reason.contains("no valid signature") == true)
        }
    }

    @Test func theCheckpointsAreAppendOnly() async throws {
        try await withTemporaryDirectory { directory in
            _ = try await makeCheckpointedLog(directory)
            let connection = try Connection(path: directory + "/hub.sqlite")
            defer { connection.close() }
            #expect(throws: SQLiteError.self) { try connection.execute(sql: "DELETE FROM log_checkpoints") }
            #expect(throws: SQLiteError.self) { try connection.execute(sql: "UPDATE log_checkpoints SET position = 1") }
        }
    }

    /// A head kept outside: the log must reach it with the same hash.
    @Test func anExpectedHeadIsChecked() async throws {
        try await withTemporaryDirectory { directory in
            let key = try await makeCheckpointedLog(directory)
            let connection = try Connection(path: directory + "/hub.sqlite")
            let hash12 = try #require(
                try EventLog.readAll(after: 11, filter: .init(), limit: 1, connection).first?.hash
            )
            connection.close()
            #expect(try await verify(directory, key, head: (12, hash12)).isIntact)
            let wrong = try await verify(directory, key, head: (12, [UInt8](repeating: 7, count: 32)))
            #expect(wrong.failure?.position == 12)
            #expect(wrong.failure?.reason.contains("the expected head") == true)
            let beyond = try await verify(directory, key, head: (20, hash12))
            #expect(beyond.failure?.position == 16)
            #expect(beyond.failure?.reason.contains("ends at position 15") == true)
            // Rewritten after 12 with the chain recomputed, the log still passes the head at 12 ...
            try rewrite(directory, from: 13) { $0.data = #"{"i":"forged"}"# }
            #expect(try await verify(directory, key, head: (12, hash12)).isIntact)
            // ... but rewritten before it, it does not.
            try rewrite(directory, from: 11) { $0.data = #"{"i":"forged"}"# }
            #expect(try await verify(directory, key, head: (12, hash12)).failure?.position == 12)
        }
    }

    /// Edits the events from `position` on and recomputes their hashes, as a careful forger would.
    func rewrite(_ directory: String, from position: Int64, _ edit: (inout RecordedEvent) -> Void) throws {
        let connection = try Connection(path: directory + "/hub.sqlite")
        defer { connection.close() }
        try connection.execute(sql: "DROP TRIGGER IF EXISTS events_no_update")
        var events: [RecordedEvent] = []
        try EventLog.scan(connection) { event in
            events.append(event)
            return true
        }
        var previous = EventHash.genesis
        for var event in events {
            if event.position >= position {
                edit(&event)
                event.hash = EventHash.compute(event, previous: previous)
                try connection.run(
                    sql: "UPDATE event_records SET data = ?, hash = ? WHERE position = ?",
                    [event.data, event.hash, event.position]
                )
            }
            previous = event.hash
        }
    }
}

/// The id of a name of the log, in SQL (`event_records` refers to streams, types, accounts and actors
/// by their ids in `event_names`).
private func named(_ name: String) -> String {
    "(SELECT id FROM event_names WHERE name = '\(name)')"
}
