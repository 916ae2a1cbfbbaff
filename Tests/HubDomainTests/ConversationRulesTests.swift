import HubDomain
import Testing

struct ConversationRulesTests {
    let bot = Recipient(application: "bot-app", type: "custom_bot", participant: "bot-participant")
    let agent = Recipient(application: "agent-app", type: "custom_agent")
    let customer = Recipient(application: "customer-app", type: "customer")
    var withBot: RoutingPlan { RoutingPlan(bot: bot, escalationAgent: agent, customer: customer) }

    @Test func customerToBotToEscalationToAgentToEnd() throws {
        var state = ConversationState(lastActivity: 0)
        func send(_ type: String, _ sender: SenderType, _ content: JSONValue = .null) throws -> RoutingDecision {
            let decision = try ConversationRules.route(
                type,
                from: sender,
                content: content,
                state: state,
                plan: withBot,
                now: 10
            )
            state = decision.state
            return decision
        }
        #expect(try send("text", .customer).recipients == [bot])
        #expect(try send("typing.start", .customBot).recipients == [customer])
        #expect(try send("text", .customBot).recipients == [customer])
        let escalation = try send("escalation.transfer", .customBot)
        #expect(escalation.recipients == [agent])
        #expect(state.status == .escalated)
        #expect(escalation.systemMessages.map(\.type) == ["conversation.state"])
        #expect(escalation.systemMessages.first?.recipient == customer)
        #expect(escalation.systemMessages.first?.content.value(at: "value.status") == "escalated")
        // After escalation the customer talks to the agent application.
        #expect(try send("text", .customer).recipients == [agent])
        let join = try send(
            "agent.join",
            .customAgent,
            .object(["value": .object(["agent": .object(["id": "agent-7"])])])
        )
        #expect(join.recipients == [customer])
        #expect(state.assignedAgent == "agent-7")
        #expect(
            try send("queue.transfer", .customAgent, .object(["value": .object(["queue": .object(["id": "billing"])])]))
                .recipients == [customer]
        )
        #expect(state.queue == "billing")
        #expect(try send("text", .customAgent).recipients == [customer])
        // Every other party learns of the end: the customer and the bot whose session it was (spec §4.3 [P]).
        #expect(try send("conversation.end", .customAgent).recipients == [customer, bot])
        #expect(state.status == .ended)
        let ended = #expect(throws: Rejection.self) { try send("text", .customer) }
        #expect(ended?.reason == .conversationEnded)
        #expect(state.lastActivity == 10)
    }

    @Test func withoutABotTheCustomerTalksToTheFirstAgentApplication() throws {
        let plan = RoutingPlan(agent: agent, customer: customer)
        let state = ConversationState(lastActivity: 0)
        #expect(
            try ConversationRules.route("text", from: .customer, state: state, plan: plan, now: 1).recipients == [agent]
        )
        #expect(
            try ConversationRules.route("text", from: .egainAgent, state: state, plan: plan, now: 1).recipients == [
                customer
            ]
        )
        let end = try ConversationRules.route("conversation.end", from: .customer, state: state, plan: plan, now: 1)
        #expect(end.recipients == [agent])
        #expect(end.state.status == .ended)
    }

    @Test func conversationEndReachesEveryOtherParty() throws {
        func end(
            from sender: SenderType,
            _ status: ConversationState.Status,
            plan: RoutingPlan? = nil,
            botBypassed: Bool = false
        ) throws -> [Recipient] {
            try ConversationRules.route(
                "conversation.end",
                from: sender,
                state: ConversationState(status: status, lastActivity: 0),
                plan: plan ?? withBot,
                now: 1,
                botBypassed: botBypassed
            ).recipients
        }
        // With the bot: the agent is no party yet.
        #expect(try end(from: .customer, .active) == [bot])
        #expect(try end(from: .customBot, .active) == [customer])
        // Escalated by the bot: customer, bot and agent; each end reaches the two others.
        #expect(try end(from: .customAgent, .escalated) == [customer, bot])
        #expect(try end(from: .egainAgent, .escalated) == [customer, bot])
        #expect(try end(from: .customer, .escalated) == [bot, agent])
        #expect(try end(from: .customBot, .escalated) == [customer, agent])
        // Started escalated (bypassVaDuration): the bot never had a session.
        #expect(try end(from: .customAgent, .escalated, botBypassed: true) == [customer])
        #expect(try end(from: .customer, .escalated, botBypassed: true) == [agent])
        // Without a bot.
        let botless = RoutingPlan(agent: agent, customer: customer)
        #expect(try end(from: .customAgent, .active, plan: botless) == [customer])
        #expect(try end(from: .customer, .active, plan: botless) == [agent])
    }

    @Test func theMatrixIsCheckedBeforeRouting() {
        let state = ConversationState(lastActivity: 0)
        let refused = #expect(throws: Rejection.self) {
            try ConversationRules.route("agent.join", from: .customBot, state: state, plan: withBot, now: 1)
        }
        #expect(refused?.reason == .notPermitted)
    }

    @Test func aConversationContinuesUntilTheAccountTimeoutElapses() {
        let open = ConversationState(lastActivity: 1_000_000)
        #expect(ConversationRules.continues(open, timeoutMinutes: 30, now: 1_000_000 + 29 * 60_000))
        #expect(!ConversationRules.continues(open, timeoutMinutes: 30, now: 1_000_000 + 30 * 60_000))
        #expect(ConversationRules.continues(open, timeoutMinutes: nil, now: .max))
        #expect(
            !ConversationRules.continues(
                ConversationState(status: .ended, lastActivity: 0),
                timeoutMinutes: nil,
                now: 0
            )
        )
        #expect(!ConversationRules.isTranscriptLine("typing.start"))
        #expect(ConversationRules.isTranscriptLine("text"))
    }
}

/// `forwardTranscript` and `bypassVaDuration` (spec §5.2 item 6).
struct BotOptionRulesTests {
    let bot = Recipient(application: "bot-app", type: "custom_bot", participant: "bot-participant")
    let agent = Recipient(application: "agent-app", type: "custom_agent")
    let customer = Recipient(application: "customer-app", type: "customer")

    func plan(forward: Bool = false, bypass: Double? = nil) -> RoutingPlan {
        RoutingPlan(
            bot: bot,
            escalationAgent: agent,
            customer: customer,
            forwardTranscript: forward,
            bypassBotMinutes: bypass
        )
    }

    @Test(arguments: [
        (true, ConversationState.Status.active, true, true),
        (false, .active, true, false),
        (true, .escalated, true, false),
        (true, .active, false, false),
    ])
    func anEndedBotSessionForwardsItsTranscript(
        forward: Bool,
        status: ConversationState.Status,
        identifiable: Bool,
        forwarded: Bool
    ) throws {
        let decision = try ConversationRules.route(
            "conversation.end",
            from: .customBot,
            state: ConversationState(status: status, lastActivity: 0),
            plan: plan(forward: forward),
            now: 10,
            customerIdentifiable: identifiable
        )
        let transcripts = decision.systemMessages.filter(\.carriesTranscript)
        #expect(transcripts.count == (forwarded ? 1 : 0))
        if forwarded {
            #expect(transcripts[0].recipient == agent)
            #expect(transcripts[0].type == "text")
            #expect(transcripts[0].attributes == ConversationRules.transcriptAttributes)
        }
    }

    @Test func aReturningCustomerBypassesTheBotWithinTheDuration() {
        let minute: Int64 = 60_000
        #expect(ConversationRules.bypassesBot(plan: plan(bypass: 5), previousActivity: 0, now: 4 * minute))
        #expect(!ConversationRules.bypassesBot(plan: plan(bypass: 5), previousActivity: 0, now: 5 * minute))
        #expect(!ConversationRules.bypassesBot(plan: plan(bypass: 5), previousActivity: nil, now: 1))
        #expect(!ConversationRules.bypassesBot(plan: plan(bypass: nil), previousActivity: 0, now: 1))
        #expect(!ConversationRules.bypassesBot(plan: plan(bypass: 0), previousActivity: 0, now: 1))
        var withoutAgent = plan(bypass: 5)
        withoutAgent.escalationAgent = nil
        #expect(!ConversationRules.bypassesBot(plan: withoutAgent, previousActivity: 0, now: 1))
    }
}
