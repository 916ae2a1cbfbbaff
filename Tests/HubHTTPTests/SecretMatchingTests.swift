import Foundation
import HTTPTypes
import HubCommands
import HubDomain
@_spi(Storage) import HubEventLog
import HubReadModels
import HubTestSupport
import HubVault
import Testing

/// A masked secret sent back keeps the stored secret of the header with that name, not of the
/// header at that position (issue 13 item 12).
struct SecretMatchingTests {
    /// GET, then `edit` the body (without `id` and `created`), then PUT; returns the PUT's answer.
    func roundTrip(
        _ api: API,
        _ path: String,
        _ edit: (inout [String: JSONValue]) -> Void
    ) async throws -> (status: Int, json: JSONValue?) {
        let (_, current) = try await api.call(.get, path)
        var fields = try #require(current?.objectValue)
        fields["id"] = nil
        fields["created"] = nil
        edit(&fields)
        return try await api.call(.put, path, JSONValue.object(fields).text)
    }

    static func reversed(_ headers: JSONValue?) -> JSONValue {
        .array((headers?.arrayValue ?? []).reversed())
    }

    @Test func reorderedMaskedHeadersKeepTheirOwnSecrets() async throws {
        try await withConversationHub { hub in
            let customerApp = "/clientapplications/\(hub.setup.customerApp)"
            // The customer app's role gets two headers with real values.
            let (set, setBody) = try await roundTrip(hub.api, customerApp) { fields in
                guard case .array(var roles)? = fields["roles"], case .object(var role) = roles[0] else { return }
                role["headers"] = .array([
                    .object(["name": "X-cust", "value": "c1"]), .object(["name": "X-Api-Key", "value": "KEY-123"]),
                ])
                roles[0] = .object(role)
                fields["roles"] = .array(roles)
            }
            #expect(set == 204, "\(setBody?.text ?? "")")
            // Sent back masked, in reverse order.
            let (swapped, swappedBody) = try await roundTrip(hub.api, customerApp) { fields in
                guard case .array(var roles)? = fields["roles"], case .object(var role) = roles[0] else { return }
                #expect(role["headers"]?.arrayValue?.allSatisfy { $0["value"] == .string(SecretVault.mask) } == true)
                role["headers"] = Self.reversed(role["headers"])
                roles[0] = .object(role)
                fields["roles"] = .array(roles)
            }
            #expect(swapped == 204, "\(swappedBody?.text ?? "")")
            // The same for the bot's OAuth2 token request headers (Content-Type, X-Api-Key).
            let (_, authentications) = try await hub.api.call(.get, "/authentications?$pagesize=75")
            let oauth = try #require(
                authentications?["authentication"]?.arrayValue?.first { $0["type"] == "oauth2" }?["id"]?.stringValue
            )
            let (oauthSwapped, oauthBody) = try await roundTrip(hub.api, "/authentications/\(oauth)") { fields in
                guard case .object(var settings)? = fields["oauth2"] else { return }
                settings["headers"] = Self.reversed(settings["headers"])
                fields["oauth2"] = .object(settings)
            }
            #expect(oauthSwapped == 204, "\(oauthBody?.text ?? "")")

            // A bot reply reaches the customer app with each header's own value; the bot's token
            // request carries its own.
            let first = try await hub.sendAccepted(messageBody(text: "Hello"))
            let conversation = try #require(first.first?.value(at: "conversation.id")?.stringValue)
            _ = try await hub.sendAccepted(messageBody(from: "custom_bot", text: "Hi", conversation: conversation))
            try await hub.callbacks.waitFor {
                $0.contains { $0.path == "/customer" } && $0.contains { $0.path == "/token" }
            }
            let callback = try #require(hub.callbacks.requests(to: "/customer").first)
            #expect(callback.header("x-api-key") == "KEY-123")
            #expect(callback.header("x-cust") == "c1")
            let token = try #require(hub.callbacks.requests(to: "/token").first)
            #expect(token.header("x-api-key") == "key-123")
            #expect(token.header("content-type") == "application/json")
        }
    }

    @Test func droppingAHeaderKeepsTheOthersSecretsAndAMaskWithoutASecretIsRefused() async throws {
        try await withConversationHub { hub in
            let (_, authentications) = try await hub.api.call(.get, "/authentications?$pagesize=75")
            let oauth = try #require(
                authentications?["authentication"]?.arrayValue?.first { $0["type"] == "oauth2" }?["id"]?.stringValue
            )
            let path = "/authentications/\(oauth)"
            // Content-Type dropped: X-Api-Key, now first, keeps key-123 (not Content-Type's value).
            let (dropped, droppedBody) = try await roundTrip(hub.api, path) { fields in
                guard case .object(var settings)? = fields["oauth2"] else { return }
                settings["headers"] = .array(Array((settings["headers"]?.arrayValue ?? []).dropFirst()))
                fields["oauth2"] = .object(settings)
            }
            #expect(dropped == 204, "\(droppedBody?.text ?? "")")
            // A masked value for a header that has no stored secret is refused, naming it.
            let (refused, refusedBody) = try await roundTrip(hub.api, path) { fields in
                guard case .object(var settings)? = fields["oauth2"] else { return }
                var headers = settings["headers"]?.arrayValue ?? []
                headers.append(.object(["name": "X-New", "value": .string(SecretVault.mask)]))
                settings["headers"] = .array(headers)
                fields["oauth2"] = .object(settings)
            }
            #expect(refused == 400)
            #expect(refusedBody?["code"] == "400-102")
            #expect(refusedBody?.value(at: "details")?.arrayValue?.first?["value"] == "oauth2.headers[1].value")
            // So is a masked secret in a new resource.
            let (created, createdBody) = try await hub.api.call(
                .post,
                "/authentications",
                #"{"name": "masked", "type": "basic", "basicAuth": {"username": "u", "password": "********"}}"#
            )
            #expect(created == 400)
            #expect(createdBody?.value(at: "details")?.arrayValue?.first?["value"] == "basicAuth.password")

            let first = try await hub.sendAccepted(messageBody(text: "Hello"))
            #expect(first.count == 1)
            try await hub.callbacks.waitFor { $0.contains { $0.path == "/token" } }
            let token = try #require(hub.callbacks.requests(to: "/token").first)
            #expect(token.header("x-api-key") == "key-123")
        }
    }
}
