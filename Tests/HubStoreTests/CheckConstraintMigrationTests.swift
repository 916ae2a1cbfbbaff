import Foundation
import HubCommands
@_spi(Storage) import HubEventLog
import HubReadModels
import HubSQLite
import HubTestSupport
import HubVault
import Testing

/// 0008 rewrote the `IN (...)` checks of the conversation, message and outbox tables as comparisons:
/// SQLite built a temporary b-tree of the list every time it checked one.
struct CheckConstraintMigrationTests {
    @Test func rowsColumnsAndIndexesSurviveTheRebuild() async throws {
        try await withTemporaryDirectory { directory in
            let connection = try Connection(path: directory + "/m.sqlite")
            defer { connection.close() }
            let before = Migrator(migrations: Array(EventStoreSchema.migrations.prefix(7)))
            _ = try before.migrate(connection, recordedAt: 1)
            try connection.execute(
                sql: """
                    INSERT INTO conversations VALUES ('c1', 'a1', 'addr', 'chat', 'ep', 'cu1', '{"name":"N"}', 'email',
                        'egain', 'escalated', 1, 'agent', 'q', 10, NULL, 20, 2, 7);
                    INSERT INTO messages (rowid, conversation, seq, id, message_id, type, sender_type, sender,
                        recipients, text, content, attributes, transcript, status, created_at, sent_at, hidden, erased,
                        deliveries_pending, position)
                    VALUES (41, 'c1', 1, 'm1', 'x1', 'text', 'customer', '{"type":"customer"}', '[]', 'hi',
                        '{"text":"hi"}', NULL, 1, 'sent', 11, 12, 0, 0, 0, 5),
                        (42, 'c1', 2, 'm2', NULL, 'text', 'custom_bot', '{"type":"custom_bot"}', '[]', 'yo',
                        '{"text":"yo"}', '[{"name":"a","value":"b"}]', 1, 'accepted', 13, NULL, 1, 0, 1, 6);
                    INSERT INTO deliveries (rowid, id, conversation, message, seq, application, role, sender_type,
                        payload, state, attempts, next_attempt_at, created_at, finished_at, last_status, last_error,
                        last_latency_ms, request)
                    VALUES (9, 'd1', 'c1', 'm2', 2, 'app', 'custom_bot', 'custom_bot', '{"messages":{}}', 'pending',
                        2, 99, 13, NULL, 503, 'busy', 40, 'r1'),
                        (10, 'd0', 'c1', 'm1', 1, 'app', 'customer', 'customer', NULL, 'succeeded', 1, 11, 11, 12, 200,
                        NULL, 3, NULL);
                    """
            )
            // The rowid tables keep their rowids; conversations has none.
            func contents() throws -> [String] {
                try [
                    rows(connection.prepare(sql: "SELECT * FROM conversations ORDER BY id")),
                    rows(connection.prepare(sql: "SELECT rowid, * FROM messages ORDER BY rowid")),
                    rows(connection.prepare(sql: "SELECT rowid, * FROM deliveries ORDER BY rowid")),
                ]
            }
            let indexes =
                "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_schema WHERE type = 'index' ORDER BY name)"
            let rowsBefore = try contents()
            let indexesBefore = try connection.singleText(sql: indexes)

            #expect(
                try Migrator(migrations: Array(EventStoreSchema.migrations.prefix(8))).migrate(
                    connection,
                    recordedAt: 2
                )
                    == ["0008_checks_without_in_lists.sql"]
            )
            #expect(try contents() == rowsBefore)
            #expect(try connection.singleText(sql: indexes) == indexesBefore)
            #expect(try connection.singleText(sql: "PRAGMA integrity_check") == "ok")
            // The rules are the same: a value outside the list is still refused.
            #expect(throws: SQLiteError.self) {
                try connection.execute(sql: "UPDATE messages SET status = 'lost' WHERE id = 'm1'")
            }
            #expect(throws: SQLiteError.self) {
                try connection.execute(sql: "UPDATE deliveries SET state = 'gone' WHERE id = 'd1'")
            }
            #expect(throws: SQLiteError.self) {
                try connection.execute(sql: "UPDATE conversations SET state = 'paused' WHERE id = 'c1'")
            }
        }
    }

    /// The writer's statements on these tables build no temporary b-tree any more.
    @Test(arguments: [
        "INSERT INTO messages (conversation, seq, id, type, sender_type, sender, recipients, content, transcript, status, created_at, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        "UPDATE messages SET status = ? WHERE id = ?",
        "INSERT INTO deliveries (id, conversation, message, seq, application, role, sender_type, state, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        "UPDATE deliveries SET state = ?, attempts = ? WHERE id = ? AND state = 'pending'",
        "UPDATE conversations SET state = ?, last_activity = ? WHERE id = ?",
    ])
    func noTemporaryBTreeIsBuiltToCheckAValue(sql: String) async throws {
        try await withTemporaryDirectory { directory in
            let connection = try Connection(path: directory + "/e.sqlite")
            defer { connection.close() }
            _ = try EventStoreSchema.migrator.migrate(connection, recordedAt: 1)
            let explain = try connection.prepare(sql: "EXPLAIN " + sql)
            var opcodes: [String] = []
            while try explain.step() { opcodes.append(explain.text(at: 1)) }
            #expect(!opcodes.isEmpty)
            #expect(!opcodes.contains("OpenEphemeral"))
        }
    }
}

/// Every row of a statement, each as its columns' text joined (NULL as `∅`).
private func rows(_ statement: Statement) throws -> String {
    var lines: [String] = []
    while try statement.step() {
        lines.append(
            (0..<statement.columnCount).map { statement.isNull(at: $0) ? "∅" : statement.text(at: $0) }
                .joined(separator: "|")
        )
    }
    return lines.joined(separator: "\n")
}
