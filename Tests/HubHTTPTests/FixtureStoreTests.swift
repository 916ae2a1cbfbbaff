import Foundation
import HTTPTypes
import HubCommands
import HubDomain
@_spi(Storage) import HubEventLog
import HubHTTP
import HubReadModels
import HubSQLite
import HubTestSupport
import HubVault
import Hummingbird
import HummingbirdTesting
import Testing

/// A data directory written by the version before projections (`Tests/Fixtures/store-v1`, see its
/// README) opens, rebuilds its read models from the log, and has the same tables and answers.
@Suite struct FixtureStoreTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/store-v1").path
    /// The client the fixture's API answers were fetched with (it has every scope).
    static let client = "01a2325c-82c8-71fd-bfb3-65ad31172fe8"

    static func copyFixture(to directory: String) throws {
        let files = FileManager.default
        for name in ["hub.sqlite", "master.key", "assets"] {
            try files.copyItem(atPath: fixture + "/" + name, toPath: directory + "/" + name)
        }
    }

    @Test func theReadModelsRebuiltFromTheLogAreTheOnesTheOldVersionWrote() async throws {
        try await withTemporaryDirectory { directory in
            let saved = directory + "/saved"
            let data = directory + "/data"
            try FileManager.default.createDirectory(atPath: saved, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
            try Self.copyFixture(to: saved)
            try Self.copyFixture(to: data)
            // Opening finds no projection state (the old version never wrote it) and rebuilds all.
            let store = try await EventStore.open(.init(dataDirectory: data), readModels: .hub)
            // The old version's tables; the projections that came after it (search, metrics, the connector's)
            // are built from the log.
            let newer: Set = ["search", "metrics", "connector-apps", "connector", "routing"]
            // The transcripts' version 5 says each list of recipients once, in `message_recipients`.
            let tables = store.projections.projections.filter { !newer.contains($0.name) }.flatMap(\.schema.tables)
                .filter { $0 != "message_recipients" }
            let search = try #require(store.projections.projection(named: "search"))
            await store.close()
            #expect(tables.count == 9)
            let connection = try Connection(path: data + "/hub.sqlite")
            defer { connection.close() }
            try connection.run(sql: "ATTACH DATABASE ? AS saved", [saved + "/hub.sqlite"])
            #expect(try connection.singleInt64(sql: "SELECT count(*) FROM projection_state") == 10)
            // Migration 0012 and the outbox's version 2 key the vault's keys and the deliveries by their
            // ids (WITHOUT ROWID): no separate index on the id, and every key still opens (the
            // transcripts compared below are opened with them).
            for table in ["vault_keys", "deliveries"] {
                #expect(
                    try connection.singleInt64(
                        sql: "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                            + "AND name LIKE 'sqlite_autoindex%'",
                        [table]
                    ) == 0,
                    "\(table)"
                )
                let definition = try connection.singleText(sql: "SELECT sql FROM sqlite_master WHERE name = ?", [table])
                #expect(definition?.contains("WITHOUT ROWID") == true, "\(table)")
            }
            #expect(try connection.singleInt64(sql: "SELECT count(*) FROM vault_keys") ?? 0 > 0)
            // The old version's routings carry their configurations whole: none is recorded apart.
            #expect(try connection.singleInt64(sql: "SELECT count(*) FROM routing_configurations") == 0)
            // The search index names each message by its transcript row's rowid (its documents, by
            // `_docsize`: a scan of the index reads its external content, `messages`).
            #expect(
                try connection.singleInt64(
                    sql: "SELECT count(*) FROM message_text_docsize d JOIN messages m ON m.rowid = d.id"
                ) == 9
            )
            #expect(try connection.singleInt64(sql: "SELECT count(*) FROM metrics_conversations") ?? 0 > 0)
            #expect(search.schema.tables == ["message_text"])
            for table in tables {
                let rows = try connection.singleInt64(sql: "SELECT count(*) FROM saved.\(table)") ?? 0
                #expect(rows > 0, "the fixture has rows in \(table)")
                // The columns both versions have (a later one added `conversations.erased`, 0 for all of
                // them, and `messages.requests`; the outbox's version 3 dropped `state` and `finished_at`).
                let names = try connection.prepare(
                    sql:
                        "SELECT name FROM pragma_table_info(?1, 'saved') INTERSECT SELECT name FROM pragma_table_info(?1)"
                )
                try names.bind([table])
                var columns: [String] = []
                while try names.step() { columns.append(names.text(at: 0)) }
                let list = columns.joined(separator: ", ")
                // A message's recipients are read through their reference (ConversationProjection.recipients),
                // and its conversation's id through the conversation's number (transcripts version 6).
                let rebuiltList = columns.map {
                    switch (table, $0) {
                    case ("messages", "recipients"):
                        "coalesce((SELECT r.json FROM main.message_recipients AS r WHERE r.id = recipients), '[]')"
                    case ("messages", "conversation"):
                        "(SELECT c.id FROM main.conversations AS c WHERE c.number = conversation)"
                    default: $0
                    }
                }.joined(separator: ", ")
                // The outbox keeps its pending deliveries only.
                let kept = table == "deliveries" ? " WHERE state = 'pending'" : ""
                let onlySaved = try connection.singleInt64(
                    sql:
                        "SELECT count(*) FROM (SELECT \(list) FROM saved.\(table)\(kept) EXCEPT SELECT \(rebuiltList) FROM main.\(table))"
                )
                let onlyRebuilt = try connection.singleInt64(
                    sql:
                        "SELECT count(*) FROM (SELECT \(rebuiltList) FROM main.\(table) EXCEPT SELECT \(list) FROM saved.\(table)\(kept))"
                )
                #expect(
                    onlySaved == 0 && onlyRebuilt == 0,
                    "\(table): \(onlySaved ?? -1) rows only as saved, \(onlyRebuilt ?? -1) only rebuilt"
                )
            }
        }
    }

    /// The migrations an old store needs are named before they run (0014 rewrites the whole log).
    @Test func pendingMigrationsAreLoggedBeforeTheyRun() async throws {
        try await withTemporaryDirectory { directory in
            try Self.copyFixture(to: directory)
            let lines = LogLines()
            let store = try await EventStore.open(
                .init(dataDirectory: directory),
                logger: lines.logger,
                readModels: .hub
            )
            await store.close()
            let applying = try #require(lines.all.firstIndex { $0.hasPrefix("info applying migrations") })
            let applied = try #require(lines.all.firstIndex { $0.hasPrefix("info applied migrations") })
            #expect(applying < applied)
            #expect(lines.all[applying].contains("0014_event_names_said_once.sql"), "\(lines.all[applying])")
        }
    }

    @Test func theAPIAnswersWhatTheOldVersionAnswered() async throws {
        let answers = try JSONValue.parse(String(contentsOfFile: Self.fixture + "/answers.json", encoding: .utf8))
        guard case .object(let expected) = answers else {
            Issue.record("answers.json is not an object")
            return
        }
        #expect(expected.count >= 15)
        try await withTemporaryDirectory { directory in
            try Self.copyFixture(to: directory)
            let (store, tokens, app) = try await makeHub(directory)
            let token = tokens.issue(subject: Self.client, scopes: Set(Scope.allCases))
            try await store.withWriter { _ in
                try await app.test(.router) { client in
                    for (request, recorded) in expected.sorted(by: { $0.key < $1.key }) {
                        // The first answer was saved as its bare body.
                        let answer: JSONValue =
                            recorded["status"] == nil ? .object(["status": .integer(200), "body": recorded]) : recorded
                        var path = String(request.dropFirst("GET ".count))
                        var accept = "application/json"
                        if path.hasSuffix(" text") {
                            path = String(path.dropLast(" text".count))
                            accept = "text/plain"
                        }
                        if path.hasPrefix("v3/") { path = "/conversation/conversationmgr/" + path }
                        let (status, body) = try await client.execute(
                            uri: path,
                            method: .get,
                            headers: [.authorization: "Bearer \(token)", .accept: accept]
                        ) { (Int($0.status.code), String(buffer: $0.body)) }
                        #expect(.integer(Int64(status)) == answer["status"], "\(request)")
                        if accept == "text/plain" {
                            #expect(.string(body) == answer["body"], "\(request)")
                        } else {
                            let got = try JSONValue.parse(body)
                            #expect(Self.withoutURLs(got) == Self.withoutURLs(answer["body"] ?? .null), "\(request)")
                        }
                    }
                }
            }
            await store.close()
        }
    }

    /// Signed URLs change with every answer.
    static func withoutURLs(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let fields):
            .object(fields.filter { $0.key != "contentUrl" && $0.key != "contentUrlExpiry" }.mapValues(withoutURLs))
        case .array(let items): .array(items.map(withoutURLs))
        default: value
        }
    }
}
