import Foundation
import HTTPTypes
import HubDomain
@_spi(Storage) import HubEventLog
import HubHTTP
import HubTestSupport
import Hummingbird
import HummingbirdTesting
import Testing

/// `GET /v1/events` on the log of `Tests/Fixtures/store-v1` (74 events: configuration, two
/// conversations with sealed content, assets, deliveries).
@Suite struct EventFeedTests {
    static func withFixtureHub(
        _ body: @Sendable (TokenService, any TestClientProtocol) async throws -> Void
    ) async throws {
        try await withTemporaryDirectory { directory in
            try FixtureStoreTests.copyFixture(to: directory)
            try await withHub(directory) { _, tokens, app in
                try await app.test(.router) { client in try await body(tokens, client) }
            }
        }
    }

    static func get(
        _ client: any TestClientProtocol,
        _ uri: String,
        token: String?,
        accept: String? = nil
    ) async throws -> (status: HTTPResponse.Status, headers: HTTPFields, body: String) {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        if let accept { headers[.accept] = accept }
        return try await client.execute(uri: uri, method: .get, headers: headers) {
            ($0.status, $0.headers, String(buffer: $0.body))
        }
    }

    static func positions(_ body: String) throws -> [Int64] {
        try (JSONValue.parse(body)["events"]?.arrayValue ?? []).compactMap {
            if case .integer(let position)? = $0["position"] { position } else { nil }
        }
    }

    @Test func pagesFollowTheCursorAndTheLinkToTheEndOfTheLog() async throws {
        try await Self.withFixtureHub { tokens, client in
            let token = tokens.issue(subject: TokenService.operatorSubject, scopes: [.audit])
            var uri = "/v1/events?limit=30"
            var seen: [Int64] = []
            var pages = 0
            while true {
                let (status, headers, body) = try await Self.get(client, uri, token: token)
                #expect(status == .ok, "\(body)")
                seen += try Self.positions(body)
                pages += 1
                guard let link = headers[HTTPField.Name("Link")!] else {
                    #expect(try JSONValue.parse(body)["nextCursor"] == nil)
                    break
                }
                let next = try #require(link.firstMatch(of: /<([^>]+)>; rel="next"/)).1
                #expect(next.contains("limit=30&cursor="))
                uri = String(next)
            }
            #expect(seen == Array(1...74))
            #expect(pages == 3)
            // One event in the export form: the stored data as it is (sealed), the hash in hex.
            let (_, _, body) = try await Self.get(client, "/v1/events?from=9&limit=1", token: token)
            let event = try #require(JSONValue.parse(body)["events"]?.arrayValue?.first)
            #expect(event["type"] == "conversation.started")
            #expect(event.value(at: "data.customer.identity")?.stringValue?.hasPrefix("$sealed:v1:") == true)
            #expect(event["hash"]?.stringValue?.count == 64)
            #expect(try JSONValue.parse(body)["head"] == .integer(74))
            // NDJSON: the same lines as an export bundle holds.
            let (_, headers, ndjson) = try await Self.get(
                client,
                "/v1/events?from=70",
                token: token,
                accept: "application/x-ndjson"
            )
            #expect(headers[.contentType] == "application/x-ndjson")
            #expect(ndjson.split(separator: "\n").count == 5)
        }
    }

    @Test func filtersSelectByTypeStreamAccountAndTime() async throws {
        try await Self.withFixtureHub { tokens, client in
            let token = tokens.issue(subject: TokenService.operatorSubject, scopes: [.audit])
            func events(_ query: String) async throws -> [JSONValue] {
                let (status, _, body) = try await Self.get(client, "/v1/events?limit=1000&\(query)", token: token)
                #expect(status == .ok, "\(body)")
                return try JSONValue.parse(body)["events"]?.arrayValue ?? []
            }
            let started = try await events("type=conversation.started")
            #expect(started.map { $0["position"] } == [.integer(9), .integer(44)])
            let both = try await events("type=conversation.started,%20message.erased")
            #expect(both.count == 3)
            let stream = try #require(started.first?["stream"]?.stringValue)
            let conversation = try await events("stream=\(stream)")
            #expect(conversation.allSatisfy { $0["stream"]?.stringValue == stream } && conversation.count > 3)
            let assets = try await events("stream=asset/")
            #expect(assets.allSatisfy { $0["stream"]?.stringValue?.hasPrefix("asset/") == true })
            #expect(assets.count >= 5)
            let account = try #require(started.first?["account"]?.stringValue)
            #expect(try await events("account=\(account)").allSatisfy { $0["account"]?.stringValue == account })
            #expect(try await events("account=no-such-account").isEmpty)
            // Recorded times: the second conversation's start and later.
            guard case .integer(let at)? = started.last?["recordedAt"] else { throw Failure("no time") }
            let later = try await events("since=\(Timestamp.format(at))")
            #expect(later.first?["position"] == .integer(44))
            let earlier = try await events("until=\(Timestamp.format(at - 1))")
            #expect(earlier.last.flatMap { if case .integer(let p)? = $0["position"] { p } else { nil } } ?? 99 < 44)
        }
    }

    @Test func contentIsOpenedOnlyForTheContentScopeAndNeverWhenErased() async throws {
        try await Self.withFixtureHub { tokens, client in
            let audit = tokens.issue(subject: TokenService.operatorSubject, scopes: [.audit])
            let content = tokens.issue(subject: TokenService.operatorSubject, scopes: [.audit, .auditContent])
            let uri = "/v1/events?type=conversation.started,message.received&limit=1000"
            let (_, _, sealed) = try await Self.get(client, uri, token: audit)
            #expect(!sealed.contains("john.smith@example.com"))
            #expect(!sealed.contains("I need help"))
            let (_, _, opened) = try await Self.get(client, uri, token: content)
            let events = try JSONValue.parse(opened)["events"]?.arrayValue ?? []
            let customer = try #require(events.first?.value(at: "data.customer.identity"))
            #expect(customer.value(at: "name")?.stringValue == "John Smith")
            let received = events.filter { $0["type"] == "message.received" }
            #expect(received.count == 15)
            // Every content is opened but the erased one's, whose key is gone.
            let stillSealed = received.filter { $0.value(at: "data.content")?.stringValue != nil }
            #expect(stillSealed.count == 1)
            #expect(received.filter { $0.value(at: "data.content")?.objectValue != nil }.count == 14)
            // A customer's participant is sealed under the customer's key: opened too.
            #expect(received.first?.value(at: "data.sender.participant.name")?.stringValue == "John Smith")
        }
    }

    @Test(arguments: [
        ("/v1/events?from=0", "from"), ("/v1/events?cursor=bm9wZQ", "cursor"), ("/v1/events?limit=0", "limit"),
        ("/v1/events?limit=1001", "limit"), ("/v1/events?since=yesterday", "since"), ("/v1/events?q=x", "q"),
        ("/v1/events/live?heartbeat=0", "heartbeat"), ("/v1/events/live?limit=5", "limit"),
    ])
    func badParametersAreA400ThatNamesThem(_ uri: String, _ name: String) async throws {
        try await Self.withFixtureHub { tokens, client in
            let token = tokens.issue(subject: TokenService.operatorSubject, scopes: [.audit])
            let (status, _, body) = try await Self.get(client, uri, token: token)
            #expect(status == .badRequest, "\(body)")
            #expect(body.contains(name), "\(body)")
        }
    }

    @Test func everyFeedRouteNeedsTheAuditScope() async throws {
        try await Self.withFixtureHub { tokens, client in
            let query = tokens.issue(subject: TokenService.operatorSubject, scopes: [.query, .admin, .manage])
            for uri in ["/v1/events", "/v1/events/live"] {
                #expect(try await Self.get(client, uri, token: nil).status == .unauthorized)
                let (status, _, body) = try await Self.get(client, uri, token: query)
                #expect(status == .forbidden)
                #expect(body.contains("hubstore.audit"))
            }
            // Only the content scope is not enough either: it widens the feed, it does not grant it.
            let content = tokens.issue(subject: TokenService.operatorSubject, scopes: [.auditContent])
            #expect(try await Self.get(client, "/v1/events", token: content).status == .forbidden)
        }
    }

    @Test func aConversationsHistoryHasItsEventsConfigurationVersionsAndDeliveryAttempts() async throws {
        try await Self.withFixtureHub { tokens, client in
            let conversation = "01a2325c-6d27-703e-b388-841159ac624b"
            let query = tokens.issue(subject: TokenService.operatorSubject, scopes: [.query])
            let (status, _, body) = try await Self.get(
                client,
                "/v1/conversations/\(conversation)/history",
                token: query
            )
            #expect(status == .ok, "\(body)")
            let trail = try JSONValue.parse(body)
            #expect(trail.value(at: "head.position") == .integer(74))
            #expect(trail.value(at: "head.hash")?.stringValue?.count == 64)
            let events = trail["events"]?.arrayValue ?? []
            #expect(events.first?["type"] == "conversation.started")
            #expect(events.allSatisfy { $0["stream"]?.stringValue == "conversation/\(conversation)" })
            let versions = events.compactMap { if case .integer(let v)? = $0["version"] { v } else { nil } }
            #expect(versions == Array(1...Int64(events.count)))
            // Every routed message: what it was, the configuration it was routed under, its deliveries.
            let messages = trail["messages"]?.arrayValue ?? []
            #expect(messages.count == events.filter { $0["type"] == "message.routed" }.count)
            let first = try #require(messages.first)
            #expect(first["messageId"] == "customer-1")
            #expect(first.value(at: "sender.type") == "customer")
            #expect(first.value(at: "configuration.account.position") == .integer(8))
            #expect(first.value(at: "configuration.account.recordedAt")?.stringValue?.hasPrefix("2026-12-01T") == true)
            let attempts = first["deliveries"]?.arrayValue ?? []
            #expect(attempts.first?["outcome"] == "succeeded" && attempts.first?["status"] == .integer(200))
            #expect(attempts.first?["role"] == "custom_bot")
            // Each delivery a message was routed to has its attempts.
            let delivered = messages.filter { !($0["recipients"]?.arrayValue ?? []).isEmpty }
            #expect(delivered.allSatisfy { !($0["deliveries"]?.arrayValue ?? []).isEmpty })
            // The audit scope reads it too; others do not; unknown ids are a 404.
            let audit = tokens.issue(subject: TokenService.operatorSubject, scopes: [.audit])
            #expect(try await Self.get(client, "/v1/conversations/\(conversation)/history", token: audit).status == .ok)
            let admin = tokens.issue(subject: TokenService.operatorSubject, scopes: [.admin])
            #expect(
                try await Self.get(client, "/v1/conversations/\(conversation)/history", token: admin).status
                    == .forbidden
            )
            for id in ["01a2325c-6d27-703e-b388-000000000000", "not-an-id"] {
                #expect(try await Self.get(client, "/v1/conversations/\(id)/history", token: query).status == .notFound)
            }
        }
    }
}

private struct Failure: Error {
    var description: String
    init(_ description: String) { self.description = description }
}
