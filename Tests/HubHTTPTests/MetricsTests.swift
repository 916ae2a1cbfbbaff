import Foundation
import HTTPTypes
import HubDomain
@_spi(Storage) import HubEventLog
import HubTestSupport
import HummingbirdTesting
import Synchronization
import Testing

/// Conversation metrics (`GET /v1/analytics/...`): a scripted day of three conversations, times from
/// an injected clock, whose every metric is known by hand.
@Suite struct MetricsTests {
    /// 2026-11-02T10:00:00Z, a Monday.
    static let t0: Int64 = 1_793_613_600_000

    final class ScriptedClock: Sendable {
        let now = Atomic<Int64>(MetricsTests.t0)
        func set(seconds: Int64) { now.store(MetricsTests.t0 + seconds * 1000, ordering: .relaxed) }
        func read() -> Int64 { now.load(ordering: .relaxed) }
    }

    /// The bot's callback fails for messages about a lost parcel (a delivery that fails for good).
    static let responder: CallbackServer.Responder = { request, count in
        if request.path == "/custom_bot" && request.body.contains("lost parcel") { return (500, "{}") }
        return defaultResponder(request, count)
    }

    @Test func aScriptedDayYieldsTheMetricsWorkedOutByHand() async throws {
        let clock = ScriptedClock()
        let scripted: @Sendable () -> Int64 = { clock.read() }
        try await withConversationHub(responder: Self.responder, clock: scripted) { hub in
            func send(
                at seconds: Int64,
                _ type: String = "text",
                from sender: String,
                text: String? = "…",
                in conversation: String? = nil,
                contact: String = "a@example.com",
                participant: JSONValue? = nil
            ) async throws -> String {
                clock.set(seconds: seconds)
                let accepted = try await hub.sendAccepted(
                    messageBody(
                        type,
                        from: sender,
                        text: text,
                        conversation: conversation,
                        participant: participant,
                        contact: contact
                    )
                )
                return try #require(accepted.first?.value(at: "conversation.id")?.stringValue)
            }
            let alice: JSONValue = .object(["id": "agent-1", "name": "Alice"])

            // A: the bot answers twice, the customer ends it. Contained; handle time 100 s.
            let a = try await send(at: 0, from: "customer", contact: "a@example.com")
            _ = try await send(at: 30, from: "custom_bot", in: a)
            _ = try await send(at: 60, from: "customer", in: a)
            _ = try await send(at: 90, from: "custom_bot", in: a)
            _ = try await send(at: 100, "conversation.end", from: "customer", text: nil, in: a)

            // B: escalated at 700 s, Alice answers at 900 s (time to agent 300 s), she ends it at 1200 s.
            let b = try await send(at: 600, from: "customer", contact: "b@example.com")
            _ = try await send(at: 660, from: "custom_bot", in: b)
            _ = try await send(at: 700, "escalation.transfer", from: "custom_bot", text: "a human", in: b)
            _ = try await send(at: 900, from: "custom_agent", in: b, participant: alice)
            _ = try await send(at: 1000, from: "customer", in: b)
            _ = try await send(at: 1100, from: "custom_agent", in: b, participant: alice)
            _ = try await send(at: 1200, "conversation.end", from: "custom_agent", text: nil, in: b, participant: alice)

            // C, in the next hour: the bot answers once; the customer's last message goes unanswered
            // (its delivery to the bot fails for good) and the customer leaves. Abandoned.
            let c = try await send(at: 3600, from: "customer", contact: "c@example.com")
            _ = try await send(at: 3620, from: "custom_bot", in: c)
            _ = try await send(at: 3700, from: "customer", text: "my lost parcel?", in: c)
            try await hub.waitForEvents { $0.contains { $0.type == "delivery.failed" } }
            _ = try await send(at: 4000, "conversation.end", from: "customer", text: nil, in: c)
            clock.set(seconds: 5000)

            let system = try await hub.events().filter { $0.type == "message.originated" }
            let systemAt10 = system.filter { $0.recordedAt < Self.t0 + 3_600_000 }.count
            let hours = try await Self.get(hub, "/v1/analytics/conversations?interval=hour&\(Self.range)")
            let buckets = try #require(hours["buckets"]?.arrayValue)
            #expect(buckets.count == 2)
            #expect(buckets[0]["start"] == "2026-11-02T10:00:00.000Z")
            #expect(
                buckets[0]["conversations"]
                    == .object([
                        "started": 2, "ended": 2, "escalated": 1, "botContained": 1, "containmentRate": .double(0.5),
                        "abandoned": 0, "abandonmentRate": 0,
                    ])
            )
            #expect(
                buckets[0]["messages"]
                    == .object(["customer": 4, "bot": 3, "agent": 2, "system": .integer(Int64(systemAt10))])
            )
            #expect(buckets[0]["firstResponseSeconds"] == Self.distribution(2, 30, 60))
            #expect(buckets[0]["timeToAgentSeconds"] == Self.distribution(1, 300, 300))
            #expect(buckets[0]["handleTimeSeconds"] == Self.distribution(2, 100, 600))
            #expect(buckets[0]["deliveriesFailed"] == 0)
            #expect(
                buckets[1]["conversations"]
                    == .object([
                        "started": 1, "ended": 1, "escalated": 0, "botContained": 1, "containmentRate": 1,
                        "abandoned": 1, "abandonmentRate": 1,
                    ])
            )
            #expect(buckets[1].value(at: "messages.customer") == 2)
            #expect(buckets[1].value(at: "messages.bot") == 1)
            #expect(buckets[1]["firstResponseSeconds"] == Self.distribution(1, 20, 20))
            #expect(buckets[1]["handleTimeSeconds"] == Self.distribution(1, 400, 400))
            #expect(buckets[1]["deliveriesFailed"] == 1)

            // One day: the same counts summed, the durations of all three conversations.
            let day = try await Self.get(hub, "/v1/analytics/conversations?interval=day&\(Self.range)")
            #expect(day["buckets"]?.arrayValue?.count == 1)
            #expect(day.value(at: "total.conversations.started") == 3)
            #expect(day.value(at: "total.conversations.abandoned") == 1)
            #expect(day["total"]?["firstResponseSeconds"] == Self.distribution(3, 30, 60))
            #expect(day["total"]?["handleTimeSeconds"] == Self.distribution(3, 400, 600))
            // Filters: another channel has none of it.
            let other = try await Self.get(hub, "/v1/analytics/conversations?channel=sms&\(Self.range)")
            #expect(other.value(at: "total.conversations.started") == 0)

            let agents = try await Self.get(hub, "/v1/analytics/agents?\(Self.range)")
            #expect(
                agents["agents"]
                    == .array([
                        .object([
                            "agent": .object(["id": "agent-1", "name": "Alice"]), "conversationsHandled": 1,
                            "messages": 2, "handleTimeSeconds": Self.distribution(1, 300, 300),
                        ])
                    ])
            )

            // CSV: a header and one line per interval.
            let (status, csv) = try await hub.queryText(
                "/v1/analytics/conversations?interval=hour&\(Self.range)",
                accept: "text/csv"
            )
            #expect(status == 200)
            let lines = csv.split(separator: "\r\n").map(String.init)
            #expect(lines.count == 3)
            #expect(lines[0].hasPrefix("start,conversations_started,conversations_ended,escalated,bot_contained"))
            #expect(lines[1].hasPrefix("2026-11-02T10:00:00.000Z,2,2,1,1,0.5,0,0,4,3,2,"))
            #expect(lines[1].hasSuffix(",0,30,60,300,300,100,600"))
            let (_, agentsCSV) = try await hub.queryText("/v1/analytics/agents?\(Self.range)", accept: "text/csv")
            #expect(agentsCSV.hasSuffix("agent-1,Alice,1,2,300,300\r\n"))
        }
    }

    @Test func badRangesAndFiltersAreA400AndTheRoutesNeedTheQueryScope() async throws {
        try await withConversationHub { hub in
            for path in [
                "/v1/analytics/conversations?interval=month",
                "/v1/analytics/conversations?since=yesterday",
                "/v1/analytics/conversations?since=2026-11-02T00:00:00Z&until=2026-11-01T00:00:00Z",
                "/v1/analytics/conversations?interval=hour&since=1970-01-01T00:00:00Z",
                "/v1/analytics/agents?accounts=x",
            ] {
                let (status, text) = try await hub.queryText(path)
                #expect(status == 400, "\(path): \(text)")
                #expect(text.contains("\"code\""), "\(text)")
            }
            let (status, _) = try await hub.queryText("/v1/analytics/agents", accept: "application/xml")
            #expect(status == 406)
            for path in ["/v1/analytics/conversations", "/v1/analytics/agents"] {
                let status = try await hub.api.client.execute(
                    uri: path,
                    method: .get,
                    headers: [.authorization: "Bearer \(hub.api.token)"]
                ) { $0.status }
                #expect(status == .forbidden)
            }
        }
    }

    static let range = "since=2026-11-02T10:00:00Z&until=2026-11-02T12:00:00Z"

    /// `{count, p50, p90}` as the API writes it (whole seconds without a fraction).
    static func distribution(_ count: Int64, _ p50: Int64, _ p90: Int64) -> JSONValue {
        .object(["count": .integer(count), "p50": .integer(p50), "p90": .integer(p90)])
    }

    static func get(_ hub: ConversationHub, _ path: String) async throws -> JSONValue {
        let (status, text) = try await hub.queryText(path)
        #expect(status == 200, "\(path): \(text)")
        return try JSONValue.parse(text)
    }
}
