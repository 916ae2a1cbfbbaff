import HubCommands
@_spi(Storage) import HubEventLog
import HubReadModels
import HubSQLite
import HubTestSupport
import HubTools
import HubVault
import Testing

struct HashChainTests {
    @Test(arguments: ["edit", "delete", "swap"])
    func tamperingIsReportedAtTheRightPosition(_ tampering: String) async throws {
        try await withTemporaryDirectory { directory in
            try await withStore(directory) { store in
                for index in 0..<10 {
                    _ = try await store.append([draft("t", #"{"i":\#(index)}"#)], to: "s/\(index % 3)")
                }
            }
            let connection = try Connection(path: directory + "/hub.sqlite")
            try connection.execute(sql: "DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete")
            let expected: Int64
            switch tampering {
            case "edit":
                try connection.execute(sql: #"UPDATE event_records SET data = '{"i":99}' WHERE position = 6"#)
                expected = 6
            case "delete":
                try connection.execute(sql: "DELETE FROM event_records WHERE position = 4")
                expected = 4
            default:
                // Swap the contents of positions 7 and 8 (same stream versions kept valid by swapping streams too).
                try connection.execute(
                    sql: """
                        UPDATE event_records SET position = -7 WHERE position = 7;
                        UPDATE event_records SET position = 7 WHERE position = 8;
                        UPDATE event_records SET position = 8 WHERE position = -7;
                        """
                )
                expected = 7
            }
            connection.close()
            let report = try await ChainVerifier(databasePath: directory + "/hub.sqlite").verify()
            #expect(report.failure?.position == expected)
            #expect(report.eventCount == expected - 1)
        }
    }
}
