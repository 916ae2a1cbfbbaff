import HubSQLite
import HubTestSupport
import Testing

@testable import HubCommands
@_spi(Storage) @testable import HubEventLog
@testable import HubReadModels
@testable import HubVault

/// Routing never uses configuration that did not commit. Accounts are resolved inside the writer's
/// transaction, from configuration that may still roll back, and the position a rolled-back event
/// held is taken by the next one: a cache keyed on the position alone revived the rolled-back
/// resolution.
struct AccountDirectoryRollbackTests {
    struct Rejected: Error {}

    @Test func aResolutionMadeFromConfigurationThatRolledBackIsNeverUsed() async throws {
        try await withConversationHub { hub in
            let directory = AccountDirectory()
            let account = hub.setup.account
            @Sendable func recordChange(_ transaction: LogTransaction, address: String?) throws -> Int64 {
                // An account.updated event, as the API appends it; the configuration projection applies it.
                let state = try transaction.connection.singleText(
                    sql: """
                        SELECT json_set(state, '$.address', coalesce(?, json_extract(state, '$.address')))
                        FROM config_resources WHERE kind = 'account' AND id = ?
                        """,
                    [address, account]
                )
                try transaction.append(
                    [EventDraft(type: "account.updated", data: state ?? "{}", actor: "test")],
                    to: "account/\(account)"
                )
                return transaction.lastPosition
            }
            // A change that is rolled back, after routing resolved the account from it.
            let rolledBack = await catching {
                try await hub.store.writer.perform { transaction -> Int64 in
                    let position = try recordChange(transaction, address: "rolled-back")
                    #expect(try directory.account(id: account, transaction.connection)?.address == "rolled-back")
                    _ = position
                    throw Rejected()
                }
            }
            #expect(throws: Rejected.self) { try rolledBack.get() }
            // Another change takes the same position and commits.
            let before = hub.store.headPosition
            let committed = try await hub.store.writer.perform { try recordChange($0, address: nil) }
            #expect(committed == before + 1)
            // Routing sees what committed.
            let address = try await hub.store.writer.perform { transaction in
                try directory.account(id: account, transaction.connection)?.address
            }
            #expect(address == ConversationSetup.address)
        }
    }
}
