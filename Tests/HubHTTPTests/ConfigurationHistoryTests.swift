import Foundation
import HTTPTypes
import HubCommands
import HubDomain
@_spi(Storage) import HubEventLog
import HubHTTP
import HubReadModels
import HubTestSupport
import HubVault
import Hummingbird
import HummingbirdTesting
import Testing

struct ConfigurationHistoryTests {
    func query(_ api: API, _ path: String) async throws -> (status: Int, json: JSONValue?) {
        try await api.client.execute(uri: path, method: .get, headers: [.authorization: "Bearer \(api.token)"]) {
            response in
            let text = String(buffer: response.body)
            return (Int(response.status.code), try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)))
        }
    }

    @Test func theAccountAsOfAMomentIsTheConfigurationOfThatMoment() async throws {
        try await withAPI(scopes: [.manage, .query]) { api, store, _ in
            let setup = try await Setup.make(api)
            let afterSetup = store.headPosition
            try await Task.sleep(for: .milliseconds(20))
            let (_, channel) = try await api.call(.get, "/channels/\(setup.channel)")
            guard case .object(var fields) = try #require(channel) else { return }
            fields["displayName"] = .string("Renamed channel")
            #expect(try await api.call(.put, "/channels/\(setup.channel)", JSONValue.object(fields).text).status == 204)
            try await Task.sleep(for: .milliseconds(20))
            let betweenTime = Timestamp.format(Int64(Date().timeIntervalSince1970 * 1000))
            try await Task.sleep(for: .milliseconds(20))
            #expect(try await api.call(.delete, "/accounts/\(setup.account)").status == 204)

            // Now: the account is gone.
            #expect(try await query(api, "/v1/accounts/\(setup.account)/configuration").status == 404)
            // As of the end of the setup: everything, with the old channel name and masked secrets.
            let (status, document) = try await query(
                api,
                "/v1/accounts/\(setup.account)/configuration?asOf=\(afterSetup)"
            )
            #expect(status == 200, "\(document?.text ?? "")")
            #expect(document?.value(at: "account.name")?.stringValue == "order_account")
            #expect(document?.value(at: "channel.displayName")?.stringValue == "Custom channel")
            #expect(document?.value(at: "orchestration.id")?.stringValue == setup.orchestration)
            #expect(document?.strings(at: "bots[].participant.name") == ["custom_bot_participant"])
            #expect(document?.strings(at: "bots[].clientApplication.id") == [setup.botApp])
            #expect(document?.strings(at: "bots[].escalationAgent.id") == [setup.agentApp])
            #expect(document?.value(at: "customer.id")?.stringValue == setup.customerApp)
            #expect(document?.strings(at: "authentications[].id") == [setup.authentication])
            #expect(document?.strings(at: "authentications[].oauth2.payload") == ["********"])
            #expect(document?.value(at: "asOf.position") == .integer(afterSetup))
            // As of a time between the rename and the deletion: the new name.
            let (_, between) = try await query(api, "/v1/accounts/\(setup.account)/configuration?asOf=\(betweenTime)")
            #expect(between?.value(at: "channel.displayName")?.stringValue == "Renamed channel")
            // Before the account existed: 404; a bad asOf: 400.
            #expect(try await query(api, "/v1/accounts/\(setup.account)/configuration?asOf=1").status == 404)
            #expect(try await query(api, "/v1/accounts/\(setup.account)/configuration?asOf=yesterday").status == 400)

            let (_, history) = try await query(api, "/v1/configuration/history?kind=channel&id=\(setup.channel)")
            let versions = try #require(history?["versions"]?.arrayValue)
            #expect(versions.map { $0["change"]?.stringValue } == ["created", "updated"])
            #expect(versions[1]["changedFields"] == .array([.string("displayName")]))
            #expect(versions.allSatisfy { $0["actor"]?.stringValue?.isEmpty == false && $0["position"] != nil })
            let (_, accountHistory) = try await query(
                api,
                "/v1/configuration/history?kind=accounts&id=\(setup.account)"
            )
            #expect(accountHistory?["versions"]?.arrayValue?.last?["change"]?.stringValue == "deleted")
            #expect(try await query(api, "/v1/configuration/history?kind=widget&id=x").status == 400)
        }
    }

    @Test func theQueryAPINeedsTheQueryScope() async throws {
        try await withAPI(scopes: [.manage]) { api, _, _ in
            let (status, json) = try await query(api, "/v1/configuration/history?kind=account&id=x")
            #expect(status == 403)
            #expect(json?["code"]?.stringValue == "403-101")
        }
    }

    @Test func configurationSurvivesARestart() async throws {
        try await withTemporaryDirectory { directory in
            let (setup, token) = try await withHub(directory) { store, tokens, app in
                let (client, _) = try await ClientRegistry(store: store).create(
                    name: "i",
                    scopes: [.manage],
                    actor: "t"
                )
                let token = tokens.issue(subject: client.id, scopes: [.manage])
                return try await app.test(.router) { client in
                    (try await Setup.make(API(client: client, token: token)), token)
                }
            }
            try await withHub(directory) { _, _, app in
                try await app.test(.router) { client in
                    // The token issued before the restart still works: the master key persisted.
                    let api = API(client: client, token: token)
                    let (status, account) = try await api.call(.get, "/accounts/\(setup.account)")
                    #expect(status == 200)
                    #expect(
                        account?.value(at: "chatConfigurations.orchestration.id")?.stringValue == setup.orchestration
                    )
                    let (_, list) = try await api.call(.get, "/clientapplications")
                    #expect(list?.value(at: "paginationInfo.count") == .integer(3))
                    #expect(try await api.call(.delete, "/accounts/\(setup.account)").status == 204)
                    #expect(try await api.call(.delete, "/channels/\(setup.channel)").status == 204)
                }
            }
        }
    }
}
