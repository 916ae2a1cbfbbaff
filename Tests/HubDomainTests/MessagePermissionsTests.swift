import HubDomain
import Testing

/// eGain's matrix, row by row, as published (spec §4.2): customer, egain_agent, custom_agent, egain_bot, custom_bot.
let publishedMatrix: [(String, String)] = [
    ("text", "YYYYY"), ("typing.start", "YYYYY"), ("typing.end", "YYYYY"), ("escalation.transfer", "NYYYY"),
    ("pagePush", "NYYYY"), ("conversation.state", "NYYNN"), ("agent.join", "NYYNN"), ("agent.available", "NYYNN"),
    ("agent.unavailable", "NYYNN"), ("agent.transfer", "NYYNN"), ("queue.transfer", "NYYNN"),
    ("richMessage.listpicker", "NYYYY"), ("richMessage.quickreply", "NYYYY"), ("richMessage.template", "NYYYY"),
    ("richMessage.timepicker", "NYYYY"), ("richMessage.richlink", "NYYYY"), ("richMessage.form", "NYYYY"),
    ("richMessage.payment", "NYYYY"), ("richMessage.app", "NYYYY"), ("richMessage.authentication", "NYYYY"),
    ("authentication.success", "YNNNN"), ("authentication.failure", "YNNNN"), ("customer.info", "YYYYY"),
    ("customer.active", "YNNNN"), ("customer.inactive", "YNNNN"), ("error", "YYYYY"), ("delete.soft", "YNNNN"),
    ("delete.permanent", "YNNNN"), ("undo", "YNNNN"), ("conversation.end", "YYYYY"),
]

struct MessagePermissionsTests {
    static let senders: [SenderType] = [.customer, .egainAgent, .customAgent, .egainBot, .customBot]

    @Test(arguments: publishedMatrix)
    func everyRowOfThePublishedMatrixHolds(_ type: String, _ row: String) throws {
        for (sender, cell) in zip(Self.senders, row) {
            let allowed = cell == "Y"
            #expect(MessagePermissions.allows(sender, toSend: type) == allowed, "\(sender.rawValue) \(type)")
            if allowed {
                try MessagePermissions.check(sender, toSend: type)
            } else {
                let error = #expect(throws: Rejection.self) { try MessagePermissions.check(sender, toSend: type) }
                #expect(error?.reason == .notPermitted)
            }
        }
    }

    @Test func theMatrixHasExactlyThePublishedTypes() throws {
        #expect(MessagePermissions.messageTypes == Set(publishedMatrix.map(\.0)))
        let error = #expect(throws: Rejection.self) { try MessagePermissions.check(.customer, toSend: "smoke.signal") }
        #expect(error?.reason == .invalidValue)
        #expect(SenderType(rawValue: "business_notification") == nil)
    }
}
