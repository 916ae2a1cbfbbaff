import Foundation
import HTTPTypes
import HubDomain
@_spi(Storage) import HubEventLog
import HubReadModels
import HubSQLite
import HubTestSupport
import HummingbirdTesting
import Testing

/// `GET /v1/search`: full-text search over what clients wrote, on a conversation driven through the API.
@Suite struct SearchTests {
    /// The conversations a search finds (their ids), and the whole answer.
    static func search(_ hub: ConversationHub, _ query: String) async throws -> (ids: [String], body: JSONValue) {
        let encoded = query.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? query
        let (status, text) = try await hub.queryText("/v1/search?q=\(encoded)")
        #expect(status == 200, "\(text)")
        let body = try JSONValue.parse(text)
        let ids = (body["results"]?.arrayValue ?? []).compactMap { $0.value(at: "conversation.id")?.stringValue }
        return (ids, body)
    }

    @Test func anAgentsWordIsFoundWithItsSnippetAndNotOnceHiddenOrErased() async throws {
        try await withConversationHub { hub in
            let started = try await hub.sendAccepted(messageBody(id: "c-1", text: "Where is my parcel?"))
            let conversation = try #require(started.first?.value(at: "conversation.id")?.stringValue)
            _ = try await hub.sendAccepted(
                messageBody(
                    "escalation.transfer",
                    from: "custom_bot",
                    text: "needs a human",
                    conversation: conversation
                )
            )
            _ = try await hub.sendAccepted(
                messageBody(
                    from: "custom_agent",
                    id: "a-1",
                    text: "Your parcel left the Rotterdam depot this morning.",
                    conversation: conversation,
                    participant: .object(["name": "Alice"])
                )
            )
            // A second conversation, redacted: its text is never indexed.
            var redacted = messageBody(id: "c-2", text: "My card is 4111 Rotterdam", contact: "other@example.com")
            if case .object(var root) = redacted, case .object(var messages)? = root["messages"],
                case .array(var list)? = messages["message"], case .object(var first) = list[0],
                case .object(var content)? = first["content"]
            {
                content["redact"] = true
                first["content"] = .object(content)
                list[0] = .object(first)
                messages["message"] = .array(list)
                root["messages"] = .object(messages)
                redacted = .object(root)
            }
            _ = try await hub.sendAccepted(redacted)

            let (found, body) = try await Self.search(hub, "rotterdam")
            #expect(found == [conversation])
            let hit = try #require(body["results"]?.arrayValue?.first)
            #expect(hit["snippet"]?.stringValue?.contains("the <mark>Rotterdam</mark> depot") == true, "\(hit)")
            #expect(hit.value(at: "message.sender.type") == "custom_agent")
            #expect(hit.value(at: "conversation.escalated") == .bool(true))
            // Prefixes, phrases, boolean operators, and filters.
            #expect(try await Self.search(hub, "rotter*").ids == [conversation])
            #expect(try await Self.search(hub, "\"left the rotterdam\"").ids == [conversation])
            #expect(try await Self.search(hub, "\"rotterdam left\"").ids.isEmpty)
            #expect(try await Self.search(hub, "parcel NOT depot").ids == [conversation], "the customer's message")
            #expect(try await Self.search(hub, "parcel AND depot").ids == [conversation])
            let (status, text) = try await hub.queryText("/v1/search?q=rotterdam&sender=customer")
            let customerOnly = try JSONValue.parse(text)["results"]?.arrayValue ?? []
            #expect(status == 200 && customerOnly.isEmpty)
            let (_, agentOnly) = try await hub.queryText("/v1/search?q=rotterdam&sender=custom_agent&escalated=true")
            #expect(agentOnly.contains(conversation))
            let (_, notEscalated) = try await hub.queryText("/v1/search?q=rotterdam&escalated=false")
            #expect(!notEscalated.contains(conversation))

            // Hidden by delete.soft: not found; undone: found again; deleted for good: never again.
            func control(_ type: String, _ id: String) async throws {
                _ = try await hub.sendAccepted(
                    messageBody(
                        type,
                        id: id,
                        text: nil,
                        value: .object(["messageId": "c-1"]),
                        conversation: conversation
                    )
                )
            }
            #expect(try await Self.search(hub, "where").ids == [conversation])
            try await control("delete.soft", "c-3")
            #expect(try await Self.search(hub, "where").ids.isEmpty)
            try await control("undo", "c-4")
            #expect(try await Self.search(hub, "where").ids == [conversation])
            try await control("delete.permanent", "c-5")
            #expect(try await Self.search(hub, "where").ids.isEmpty)
            #expect(try await Self.search(hub, "parcel").ids == [conversation], "the agent's message is still there")
            // The erased text's words left the index itself (not only the results): the index reads
            // its texts from `messages`, and was told which words the emptied row had.
            let indexed = try await hub.store.pool.read { connection in
                try ["where", "parcel"].map { word in
                    try connection.singleInt64(
                        sql: "SELECT count(*) FROM message_text WHERE message_text MATCH ?",
                        [word]
                    )
                }
            }
            #expect(indexed == [0, 1])
        }
    }

    @Test func badSearchesAreA400ThatSaysWhatIsWrong() async throws {
        try await withConversationHub { hub in
            for (query, expected) in [
                ("q=order%20AND%20(", "syntax error"), ("q=nosuch:word", "no such column"), ("", "q"),
                ("q=x&limit=0", "limit"), ("q=x&state=closed", "state"), ("q=x&escalated=yes", "escalated"),
                ("q=x&since=monday", "since"), ("q=x&cursor=abc", "cursor"), ("q=x&text=y", "text"),
            ] {
                let (status, text) = try await hub.queryText("/v1/search?\(query)")
                #expect(status == 400, "\(query): \(text)")
                #expect(text.contains(expected), "\(query): \(text)")
            }
            // Only the query scope may search.
            let status = try await hub.api.client.execute(
                uri: "/v1/search?q=x",
                method: .get,
                headers: [.authorization: "Bearer \(hub.api.token)"]
            ) { $0.status }
            #expect(status == .forbidden)
        }
    }

    @Test func pastTheWindowTheNewestMatchesComeByRecency() async throws {
        try await withConversationHub { hub in
            var conversations: [String] = []
            for index in 1...4 {
                let accepted = try await hub.sendAccepted(
                    messageBody(
                        id: "w-\(index)",
                        text: "walrus number \(index)",
                        contact: "w\(index)@example.com",
                        phone: "55500\(index)"
                    )
                )
                conversations.append(try #require(accepted.first?.value(at: "conversation.id")?.stringValue))
            }
            let windowed = try await SearchQueries(store: hub.store, rankedWindow: 3)
                .search("walrus", .init(), offset: 0, limit: 10)
            #expect(windowed.ranking == .recency)
            let newest = windowed.hits.compactMap { $0.value(at: "conversation.id")?.stringValue }
            #expect(newest == Array(conversations.reversed().prefix(3)))
            #expect(windowed.hits.allSatisfy { $0["score"] == .null })
            // Filters apply to the window: the customer's messages only, by recency and by relevance.
            let customer = SearchQueries.Filter(sender: "customer", escalated: false)
            let filtered = try await SearchQueries(store: hub.store, rankedWindow: 2)
                .search("walrus", customer, offset: 0, limit: 10)
            #expect(filtered.ranking == .recency)
            #expect(
                filtered.hits.compactMap { $0.value(at: "conversation.id")?.stringValue } == [
                    conversations[3], conversations[2],
                ]
            )
            let none = try await SearchQueries(store: hub.store, rankedWindow: 2)
                .search("walrus", .init(sender: "custom_agent"), offset: 0, limit: 10)
            #expect(none.hits.isEmpty)
            let relevant = try await SearchQueries(store: hub.store, rankedWindow: 10)
                .search("walrus", customer, offset: 0, limit: 10)
            #expect(relevant.ranking == .relevance && relevant.hits.count == 4)
            let ranked = try await SearchQueries(store: hub.store, rankedWindow: 10)
                .search("walrus", .init(), offset: 0, limit: 10)
            #expect(ranked.ranking == .relevance && ranked.hits.count == 4)
            #expect(
                ranked.hits.allSatisfy {
                    if case .double? = $0["score"] { return true }
                    if case .integer? = $0["score"] { return true }
                    return false
                }
            )
            let (_, body) = try await Self.search(hub, "walrus")
            #expect(body["ranking"] == "relevance")
        }
    }

    /// A conversation is one hit however many of its messages match: it counts them, and names its best
    /// (by recency, the newest of the window; by relevance, all of them count); another conversation's
    /// filter leaves it out.
    @Test func aConversationIsOneHitWithItsBestMessageAndItsCount() async throws {
        try await withConversationHub { hub in
            let first = try await hub.sendAccepted(messageBody(id: "k-1", text: "kiwi one"))
            let conversation = try #require(first.first?.value(at: "conversation.id")?.stringValue)
            var ids = [try #require(first.first?["id"]?.stringValue)]
            for index in 2...3 {
                let next = try await hub.sendAccepted(
                    messageBody(id: "k-\(index)", text: "kiwi number \(index)", conversation: conversation)
                )
                ids.append(try #require(next.first?["id"]?.stringValue))
            }
            let other = try await hub.sendAccepted(
                messageBody(id: "o-1", text: "kiwi elsewhere", contact: "o@example.com", phone: "555009")
            )
            let otherConversation = try #require(other.first?.value(at: "conversation.id")?.stringValue)

            // The window holds the three newest matches: the other conversation's and two of the first's.
            let windowed = try await SearchQueries(store: hub.store, rankedWindow: 3)
                .search("kiwi", .init(), offset: 0, limit: 10)
            #expect(windowed.ranking == .recency)
            #expect(
                windowed.hits.compactMap { $0.value(at: "conversation.id")?.stringValue } == [
                    otherConversation, conversation,
                ]
            )
            let hit = try #require(windowed.hits.last)
            #expect(hit["matchingMessages"] == .integer(2))
            #expect(hit.value(at: "message.id")?.stringValue == ids[2], "the newest of its matches")

            let ranked = try await SearchQueries(store: hub.store, rankedWindow: 10)
                .search("kiwi", .init(), offset: 0, limit: 10)
            #expect(ranked.ranking == .relevance)
            let counts = Dictionary(
                uniqueKeysWithValues: ranked.hits.compactMap { hit -> (String, JSONValue)? in
                    guard let id = hit.value(at: "conversation.id")?.stringValue else { return nil }
                    return (id, hit["matchingMessages"] ?? .null)
                }
            )
            #expect(counts == [conversation: .integer(3), otherConversation: .integer(1)])
            #expect(
                ranked.hits.first { $0.value(at: "conversation.id")?.stringValue == conversation }?
                    .value(at: "conversation.state") == "active"
            )

            // A filter on the conversation (not on the message) still picks among them.
            _ = try await hub.sendAccepted(
                messageBody(
                    "escalation.transfer",
                    from: "custom_bot",
                    text: "needs a human",
                    conversation: otherConversation
                )
            )
            let escalated = try await SearchQueries(store: hub.store, rankedWindow: 10)
                .search("kiwi", .init(escalated: true), offset: 0, limit: 10)
            #expect(escalated.hits.compactMap { $0.value(at: "conversation.id")?.stringValue } == [otherConversation])
        }
    }

    @Test func pagesOfResultsFollowTheCursor() async throws {
        try await withConversationHub { hub in
            for index in 1...5 {
                _ = try await hub.sendAccepted(
                    messageBody(
                        id: "p-\(index)",
                        text: "lost luggage number \(index)",
                        contact: "p\(index)@example.com",
                        phone: "55500\(index)"
                    )
                )
            }
            var seen: [String] = []
            var path = "/v1/search?q=luggage&limit=2"
            var pages = 0
            while true {
                let (status, text) = try await hub.queryText(path)
                #expect(status == 200, "\(text)")
                let body = try JSONValue.parse(text)
                seen += (body["results"]?.arrayValue ?? []).compactMap { $0.value(at: "conversation.id")?.stringValue }
                pages += 1
                guard let cursor = body["nextCursor"]?.stringValue else { break }
                path = "/v1/search?q=luggage&limit=2&cursor=\(cursor)"
            }
            #expect(pages == 3)
            #expect(seen.count == 5 && Set(seen).count == 5)
        }
    }
    /// The index's writes wait for the end of the writer's batch: a request refused inside the
    /// writer leaves none of them behind, and the messages after it are indexed as usual.
    @Test func aRefusedRequestLeavesNothingInTheIndex() async throws {
        try await withConversationHub { hub in
            var request = messageBody(id: "r-1", text: "refused zeppelin")
            let second = messageBody(id: "r-2", text: "second", conversation: "0190f000-0000-7000-8000-000000000000")
            if case .object(var root) = request, case .object(var messages)? = root["messages"],
                case .array(let list)? = messages["message"],
                case .array(let more)? = second.value(at: "messages")?["message"]
            {
                messages["message"] = .array(list + more)
                root["messages"] = .object(messages)
                request = .object(root)
            }
            let (status, json) = try await hub.send(request)
            #expect(status == 400, "\(json?.text ?? "")")
            _ = try await hub.sendAccepted(messageBody(id: "r-3", text: "accepted zeppelin"))
            let (found, body) = try await Self.search(hub, "zeppelin")
            #expect(found.count == 1)
            #expect(body["results"]?.arrayValue?.first?["snippet"]?.stringValue?.contains("accepted") == true)
            let (indexed, listed) = try await hub.store.pool.read { connection in
                (
                    try connection.singleInt64(sql: "SELECT count(*) FROM message_text") ?? -1,
                    // Each under its message's row.
                    try connection.singleInt64(
                        sql: "SELECT count(*) FROM message_text t JOIN messages m ON m.rowid = t.rowid"
                    ) ?? -2
                )
            }
            #expect(indexed == listed && indexed == 1)
        }
    }
}
