import Foundation
import HubCommands
@_spi(Storage) import HubEventLog
import HubReadModels
import HubSQLite
import HubTestSupport
import HubTools
import HubVault
import Testing

/// The writer under storage faults (issue: a full disk lost acknowledged messages). Random batches run
/// while writes, syncs and truncations of the data directory fail; afterwards every acknowledged event
/// must be in the log where it was acknowledged, the log gapless with its chain intact, the model
/// table written beside the events equal to them, and the published head never past the log's end.
struct FaultInjectionTests {
    @Test(arguments: [1, 2, 3, 4, 5, 6])
    func randomBatchesUnderRandomFaultsNeverLoseAnAcknowledgment(seed: UInt64) async throws {
        try await withTemporaryDirectory { directory in
            defer { FaultInjection.disarm(directory: directory) }
            let (acknowledged, failures, injected) = try await withStore(
                directory,
                configure: { $0.vfs = FaultInjection.vfsName }
            ) { store in
                var random = SplitMix64(seed: seed)
                var acknowledged: [String: (position: Int64, data: String)] = [:]
                var failures = 0
                var injected = 0
                try await store.pool.write { connection in
                    try connection.execute(
                        sql: "CREATE TABLE fault_model (id TEXT PRIMARY KEY, position INTEGER NOT NULL)"
                    )
                    // A small page cache, so batches spill pages to the WAL before their commit, as large
                    // ones do (100 KB messages from 12 senders): a write failing then makes SQLite roll
                    // back the whole transaction in the middle of the batch.
                    try connection.execute(sql: "PRAGMA cache_size = 16")
                }
                for round in 0..<30 {
                    let operations = [FaultInjection.Operations.write, .sync, .truncate, .all].randomElement(
                        using: &random
                    )!
                    let sticky = random.next() % 4 == 0
                    FaultInjection.arm(
                        directory: directory,
                        operations: operations,
                        skip: Int(random.next() % 12),
                        count: sticky ? nil : Int(1 + random.next() % 3)
                    )
                    let commands = (0..<Int(1 + random.next() % 24)).map { index in
                        FaultCommand(
                            stream: "s/\(random.next() % 5)",
                            events: Int(1 + random.next() % 3),
                            size: Int(random.next() % 4) * 5_000,
                            key: random.next() % 5 == 0 ? "k-\(random.next() % 20)" : nil,
                            rejects: random.next() % 6 == 0,
                            tag: "r\(round)c\(index)"
                        )
                    }
                    let results = await withTaskGroup(of: (FaultCommand, Result<AppendResult, any Error>).self) {
                        group in
                        for command in commands {
                            group.addTask { (command, await catching { try await command.run(on: store) }) }
                        }
                        return await group.reduce(into: []) { $0.append($1) }
                    }
                    injected += FaultInjection.injected(directory: directory)
                    FaultInjection.disarm(directory: directory)
                    for (command, result) in results {
                        switch result {
                        case .success(let appended) where !appended.isReplay:
                            for (offset, id) in appended.eventIds.enumerated() {
                                acknowledged[id] = (appended.positions[offset], command.data(offset))
                            }
                        case .success: break
                        case .failure: failures += 1
                        }
                    }
                    // With nothing in flight, the published head is the log's real end.
                    let end = try await store.pool.read {
                        try $0.singleInt64(sql: "SELECT coalesce(max(position), 0) FROM events") ?? 0
                    }
                    #expect(store.headPosition == end, "seed \(seed) round \(round)")
                }
                // Writes resume once the faults are gone.
                let after = try await store.append([draft()], to: "s/after")
                acknowledged[after.eventIds[0]] = (after.positions[0], draft().data)
                return (acknowledged, failures, injected)
            }
            #expect(injected > 0, "no fault was injected (seed \(seed))")
            #expect(failures > 0, "no command failed (seed \(seed))")

            // Reopened without faults: every acknowledgment holds, the log is whole.
            try await withStore(directory) { store in
                let events = try await store.readAll(limit: .max)
                let byId = Dictionary(uniqueKeysWithValues: events.map { ($0.id, $0) })
                for (id, expected) in acknowledged {
                    let found = byId[id]
                    #expect(found?.position == expected.position, "seed \(seed): acknowledged event \(id) lost")
                    #expect(found?.data == expected.data, "seed \(seed): acknowledged event \(id) changed")
                }
                #expect(events.map(\.position) == (0..<events.count).map { Int64($0 + 1) }, "seed \(seed): gaps")
                let model = try await store.pool.read { connection in
                    let statement = try connection.prepare(
                        sql: "SELECT id, position FROM fault_model ORDER BY position"
                    )
                    var rows: [String] = []
                    while try statement.step() { rows.append("\(statement.text(at: 0))@\(statement.int64(at: 1))") }
                    return rows
                }
                #expect(model == events.filter { $0.stream != "s/after" }.map { "\($0.id)@\($0.position)" })
            }
            let report = try await ChainVerifier(databasePath: directory + "/hub.sqlite").verify()
            #expect(report.isIntact, "seed \(seed): \(report.failure.map(String.init(describing:)) ?? "")")
        }
    }
}

/// One random command: appends events to a stream and writes a row per event to the model table in
/// the same transaction; some carry an idempotency key, some are rejected after writing.
private struct FaultCommand: Sendable {
    var stream: String
    var events: Int
    var size: Int
    var key: String?
    var rejects: Bool
    var tag: String

    struct Rejected: Error {}

    func data(_ offset: Int) -> String {
        #"{"tag":"\#(tag)","n":\#(offset),"pad":"\#(String(repeating: "x", count: size))"}"#
    }

    func run(on store: EventStore) async throws -> AppendResult {
        let drafts = (0..<events).map { draft("test.happened", data($0)) }
        return try await store.writer.perform { transaction in
            let appended = try transaction.append(drafts, to: stream, idempotencyKey: key.map(IdempotencyKey.init))
            if !appended.isReplay {
                for (id, position) in zip(appended.eventIds, appended.positions) {
                    try transaction.connection.run(
                        sql: "INSERT INTO fault_model (id, position) VALUES (?, ?)",
                        [id, position]
                    )
                }
            }
            if rejects { throw Rejected() }
            return appended
        }
    }
}

/// A small seeded generator, so a failing seed reproduces.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
