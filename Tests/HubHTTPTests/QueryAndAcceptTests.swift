import Foundation
import HTTPTypes
import HubCommands
import HubDomain
@_spi(Storage) import HubEventLog
import HubReadModels
import HubTestSupport
import HubVault
import Hummingbird
import HummingbirdTesting
import Testing

@testable import HubHTTP

/// Issue 13 items 11 and 13: query parameter names are percent-decoded; `Accept` is negotiated per
/// RFC 9110.
struct QueryAndAcceptTests {
    /// `GET path` with the API's token and `accept`; status, Content-Type and body.
    func get(_ api: API, _ path: String, accept: String? = nil) async throws -> (Int, String?, String) {
        var headers: HTTPFields = [.authorization: "Bearer \(api.token)"]
        if let accept { headers[.accept] = accept }
        return try await api.client.execute(uri: path, method: .get, headers: headers) {
            (Int($0.status.code), $0.headers[.contentType], String(buffer: $0.body))
        }
    }

    @Test func percentEncodedParameterNamesWorkOnEveryRouteThatReadsTheQuery() async throws {
        try await withAPI(scopes: [.manage, .query]) { api, _, _ in
            // As Python requests and URLSearchParams send `$pagesize` and `$pagenum`.
            let (status, _, body) = try await get(
                api,
                "/conversation/conversationmgr/v3/channels?%24pagesize=2&%24pagenum=3"
            )
            #expect(status == 200, "\(body)")
            let page = try JSONValue.parse(bytes: Array(body.utf8))
            #expect(page.value(at: "paginationInfo.pagesize") == .integer(2))
            #expect(page.value(at: "paginationInfo.pagenum") == .integer(3))
            // A decoded name is still checked: an unknown one is named decoded in the 400.
            let (unknown, _, refusal) = try await get(api, "/conversation/conversationmgr/v3/channels?%24bogus=1")
            #expect(unknown == 400)
            #expect(refusal.contains("'$bogus'"), "\(refusal)")
            // And a decoded value is still range-checked.
            #expect(try await get(api, "/conversation/conversationmgr/v3/channels?%24pagesize=%3900").0 == 400)
            // The query API: names encoded in full, values encoded too; `+` stays a plus sign.
            for path in [
                "/v1/conversations?%6C%69%6D%69%74=1&%73tate=active", "/v1/assets?%63onversation=x",
                "/v1/conversations?contact=%2B15551234567", "/v1/configuration/history?%6Bind=account&%69d=x",
            ] {
                let (status, _, body) = try await get(api, path)
                #expect(status == 200 || (status == 404 && body.contains("404-101")), "\(path): \(status) \(body)")
            }
            let asOf = try await get(api, "/v1/accounts/\(UUID().uuidString)/configuration?%61s%4Ff=1")
            #expect(asOf.0 == 404 && asOf.2.contains("404-101"), "\(asOf)")
        }
    }

    @Test func negotiationWeighsQValuesWildcardsAndZero() {
        let offers = ["application/json", "application/x-ndjson", "text/plain"]
        func pick(_ accept: String?) -> String? { ContentNegotiation(accept: accept).preferred(offers) }
        #expect(pick(nil) == "application/json")
        #expect(pick("") == "application/json")
        #expect(pick("*/*") == "application/json")
        // axios's default: JSON is listed first with the same weight.
        #expect(pick("application/json, text/plain, */*") == "application/json")
        #expect(pick("text/plain") == "text/plain")
        #expect(pick("text/*") == "text/plain")
        #expect(pick("text/plain, */*") == "text/plain")
        #expect(pick("application/json;q=0.5, text/plain") == "text/plain")
        #expect(pick("application/json;q=0.9, application/x-ndjson;q=1.0") == "application/x-ndjson")
        #expect(pick("TEXT/PLAIN;charset=utf-8;q=0.8, application/json;q=0.7") == "text/plain")
        // q=0 excludes, even when a wildcard would admit it.
        #expect(pick("application/json;q=0, */*") == "application/x-ndjson")
        #expect(pick("application/json;q=0, application/x-ndjson;q=0, text/plain;q=0") == nil)
        #expect(pick("*/*;q=0") == nil)
        #expect(pick("image/png") == nil)
        #expect(pick("image/png, */*;q=0.1") == "application/json")
        #expect(ContentNegotiation(accept: "application/json;q=0, */*").preferred(["application/json"]) == nil)
    }

    @Test func theTranscriptFollowsTheClientsWeights() async throws {
        try await withConversationHub { hub in
            let accepted = try await hub.sendAccepted(messageBody(text: "Hello"))
            let conversation = try #require(accepted.first?.value(at: "conversation.id")?.stringValue)
            let path = "/v1/conversations/\(conversation)/transcript"
            for (accept, expected) in [
                ("application/json, text/plain, */*", "application/json"),  // axios
                ("*/*", "application/json"), ("text/plain", "text/plain"), ("text/plain, */*", "text/plain"),
                ("application/json;q=0.1, text/plain;q=0.9", "text/plain"),
                ("application/x-ndjson, application/json;q=0.5", "application/x-ndjson"),
                ("text/*;q=0.5, application/*;q=0.4", "text/plain"),
            ] {
                let (status, type, body) = try await get(hub.query, path, accept: accept)
                #expect(status == 200, "\(accept): \(body)")
                #expect(type?.hasPrefix(expected) == true, "\(accept): \(type ?? "none")")
            }
            let (_, type, _) = try await get(hub.query, path)
            #expect(type == "application/json")
            for accept in ["application/json;q=0, application/x-ndjson;q=0, text/plain;q=0", "image/png"] {
                let (status, _, body) = try await get(hub.query, path, accept: accept)
                #expect(status == 406 && body.contains("406-101"), "\(accept): \(body)")
            }
            // The configuration routes refuse JSON at q=0 even behind a wildcard.
            let (refused, _, _) = try await get(
                hub.api,
                "/conversation/conversationmgr/v3/channels",
                accept: "application/json;q=0, */*"
            )
            #expect(refused == 406)
        }
    }
}
