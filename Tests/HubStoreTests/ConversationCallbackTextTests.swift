import HubDomain
import HubSQLite
import HubTestSupport
import Testing

@testable import HubCommands
@testable import HubEventLog
@testable import HubReadModels
@testable import HubVault

/// The outbox splices a conversation's callback item from its row; it must be the text the parsed
/// row would write.
struct ConversationCallbackTextTests {
    @Test(
        arguments: [
            (#"{"contacts":{"contact":[{"address":"j@example.com","type":"email"}]},"name":"Jö \"J\""}"#, "1001"),
            (nil, nil),
            (#"{"name":"x"}"#, nil),
        ] as [(String?, String?)]
    )
    func splicedTextEqualsTheParsedRowsText(_ customer: String?, _ entryPoint: String?) async throws {
        try await withTemporaryDirectory { directory in
            let connection = try Connection(path: directory + "/t.sqlite")
            defer { connection.close() }
            let statement = try connection.prepare(sql: "SELECT ?, ?, ?, ?, ?, ?")
            try statement.bind(["c-1", "a-1", "+1 \"555\"", "custom_channel", entryPoint, customer])
            #expect(try statement.step())
            let row = ConversationRow(
                id: "c-1",
                account: "a-1",
                address: "+1 \"555\"",
                channelType: "custom_channel",
                entryPoint: entryPoint,
                customer: "customer-1",
                customerState: try customer.map { try JSONValue.parse($0) },
                contact: nil,
                origin: "egain",
                state: ConversationState(lastActivity: 0),
                escalated: false,
                startedAt: 0,
                endedAt: nil,
                messageCount: 0
            )
            #expect(ConversationRow.callbackText(statement) == row.callbackJSON.text)
        }
    }
}
