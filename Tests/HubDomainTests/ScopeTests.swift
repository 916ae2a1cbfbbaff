import HubDomain
import Testing

struct ScopeTests {
    @Test(arguments: [
        ("app.conversation.conversationmgr.manage", Scope.manage),
        ("https://api.egain.cloud/auth/app.conversation.conversationmgr.read", .read),
        ("https://example.test/x/app.conversation.conversationmgr.interaction.manage", .interactionManage),
        ("app.conversation.conversationmgr.interaction.read", .interactionRead),
        ("hubstore.query", .query),
        ("hubstore.admin", .admin),
    ])
    func scopesParseBareOrWithAURLPrefix(_ text: String, _ scope: Scope) {
        #expect(Scope(parsing: text) == scope)
    }

    @Test func aListParsesAndDefaultMeansEverythingGranted() throws {
        let list = try ScopeList.parse(
            "hubstore.query  https://api.egain.cloud/auth/app.conversation.conversationmgr.read"
        ).get()
        #expect(list.scopes == [.query, .read])
        #expect(list.text == "app.conversation.conversationmgr.read hubstore.query")
        #expect(
            try ScopeList.parse("https://api.egain.cloud/auth/.default", everything: [.admin]).get().scopes == [.admin]
        )
        #expect(try ScopeList.parse("").get().scopes.isEmpty)
        #expect(throws: UnknownScope(word: "app.conversation.other")) {
            try ScopeList.parse("hubstore.query app.conversation.other").get()
        }
    }
}
