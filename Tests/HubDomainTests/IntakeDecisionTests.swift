import HubDomain
import Testing

/// The intake decision of one message, without SQLite or HTTP: channel restrictions, routing, state
/// changes and the hub's own messages.
struct IntakeDecisionTests {
    let bot = Recipient(application: "bot-app", type: "custom_bot", participant: "bot-participant")
    let agent = Recipient(application: "agent-app", type: "custom_agent")
    let customer = Recipient(application: "customer-app", type: "customer")

    func routing(
        channel: String = #"{"type": "web_chat", "restrictions": {"inbound": {"maxTextLength": 20}}}"#
    )
        throws -> AccountRouting
    {
        AccountRouting(
            plan: RoutingPlan(bot: bot, escalationAgent: agent, customer: customer),
            timeoutMinutes: 30,
            entryPoint: nil,
            channel: ChannelRules(try JSONValue.parse(channel))
        )
    }

    /// One message of a RequestMessages body, validated as the API validates it.
    func message(
        _ type: String,
        from sender: String,
        text: String? = "hi",
        value: String? = nil
    ) throws -> IncomingMessage {
        var content = text.map { #""text": "\#($0)""# } ?? ""
        if let value { content += (content.isEmpty ? "" : ", ") + #""value": \#(value)"# }
        let body = """
            {"messages": {"message": [{"messageId": "m1", "type": {"value": "\(type)"}, "content": {\(content)},
              "sender": {"type": "\(sender)"}, "conversation": {"id": "21822806-88c3-43b3-8eed-097b4f0d68a7"}}]}}
            """
        return try #require(try RequestMessages.validate(try JSONValue.parse(body)).messages.first)
    }

    func decide(
        _ message: IncomingMessage,
        _ state: ConversationState,
        routing: AccountRouting? = nil,
        botTookPart: Bool = true
    ) throws -> IntakeDecision {
        try IntakeDecision.decide(
            message,
            path: "messages.message[0]",
            state: state,
            routing: try routing ?? self.routing(),
            customerIdentifiable: true,
            botTookPart: { botTookPart },
            now: 50
        )
    }

    @Test func aCustomerMessageGoesToTheBotAndChangesNothingButActivity() throws {
        let decision = try decide(try message("text", from: "customer"), ConversationState(lastActivity: 1))
        #expect(decision.recipients == [bot])
        #expect(decision.changes == [])
        #expect(decision.state.lastActivity == 50)
        #expect(decision.systemMessages == [])
    }

    @Test func anEscalationEscalatesAndTellsTheCustomer() throws {
        let decision = try decide(
            try message("escalation.transfer", from: "custom_bot", text: "to an agent"),
            ConversationState(lastActivity: 1)
        )
        #expect(decision.recipients == [agent])
        #expect(decision.changes == [.escalated])
        #expect(decision.systemMessages.map(\.recipient) == [customer])
    }

    @Test func anAgentJoinAssignsAndAnEndEnds() throws {
        let escalated = ConversationState(status: .escalated, lastActivity: 1)
        let join = try decide(
            try message("agent.join", from: "custom_agent", text: nil, value: #"{"agent": {"id": "alice"}}"#),
            escalated
        )
        #expect(join.changes == [.assigned(agent: "alice", queue: nil)])
        let end = try decide(try message("conversation.end", from: "custom_agent", text: "bye"), join.state)
        #expect(end.changes == [.ended])
        #expect(end.recipients == [customer, bot])
        // A conversation that started escalated, skipping the bot: the bot is not told of its end.
        let skipped = try decide(
            try message("conversation.end", from: "custom_agent", text: "bye"),
            join.state,
            botTookPart: false
        )
        #expect(skipped.recipients == [customer])
    }

    @Test func theChannelsRestrictionsRefuseOrRecordOnly() throws {
        let long = try message("text", from: "customer", text: String(repeating: "x", count: 21))
        let refusal = #expect(throws: Rejection.self) { try decide(long, ConversationState(lastActivity: 1)) }
        #expect(refusal?.reason == .invalidValue)
        // Typing events from the hub's side, whose outbound features leave them out, are recorded only.
        let noTyping = try routing(
            channel: #"{"type": "web_chat", "restrictions": {"outbound": {"features": ["attachments"]}}}"#
        )
        let typing = try decide(
            try message("typing.start", from: "custom_bot", text: nil),
            ConversationState(lastActivity: 1),
            routing: noTyping
        )
        #expect(typing.recipients == [])
        #expect(
            try decide(try message("typing.start", from: "custom_bot", text: nil), ConversationState(lastActivity: 1))
                .recipients == [customer]
        )
    }

    @Test func anEndedConversationTakesNoMoreMessages() throws {
        let refusal = #expect(throws: Rejection.self) {
            try decide(try message("text", from: "customer"), ConversationState(status: .ended, lastActivity: 1))
        }
        #expect(refusal?.reason == .conversationEnded)
    }
}
