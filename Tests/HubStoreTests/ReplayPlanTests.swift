import Foundation
import HubDomain
import HubTestSupport
import HubTools
import Testing

/// What `hubstore replay` reads from a source: the plan from the log of `Tests/Fixtures/store-v1`
/// (an authentication created and deleted at 42–43, configuration updates at 39–41 and 66, a second
/// conversation from 44 whose messages are hidden, restored, hidden and erased), under each filter.
@Suite struct ReplayPlanTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/store-v1").path

    static func plan(
        _ filters: ReplayFilters = .init(),
        withKey: Bool = true
    ) async throws -> ReplaySource.Loaded {
        try await withTemporaryDirectory { directory in
            for name in ["hub.sqlite", "assets"] + (withKey ? ["master.key"] : []) {
                try FileManager.default.copyItem(atPath: fixture + "/" + name, toPath: directory + "/" + name)
            }
            return try await ReplaySource(path: directory).withPlan(filters) { $0 }
        }
    }

    @Test func theWholeLogIsTheLiveConfigurationInSetupOrderThenEveryConversation() async throws {
        let loaded = try await Self.plan()
        let plan = loaded.plan
        #expect(
            plan.resources.map(\.kind) == [
                .authentication, .clientApplication, .clientApplication, .clientApplication, .participant, .channel,
                .orchestration, .account,
            ]
        )
        #expect(plan.conversations.count == 2)
        #expect(plan.messageCount == 15)
        #expect(loaded.hasMasterKey && loaded.sealedSecrets.isEmpty)
        // Secrets and contents are opened; the channel is as its last update left it.
        let authentication = plan.resources[0].state
        #expect(authentication.value(at: "basicAuth.password")?.stringValue?.hasPrefix("$sealed") == false)
        let second = plan.conversations[1]
        #expect(second.identity.flatMap { try? JSONValue.parse($0) }?["name"] != nil)
        #expect(second.messages.filter(\.hidden).count == 1)
        let erased = try #require(second.messages.first { $0.erased })
        #expect(erased.content == nil, "its key was shredded")
        #expect(second.messages.filter { !$0.erased }.allSatisfy { $0.content != nil })
        #expect(plan.assets.count >= 1)
    }

    @Test func filtersTakeAPartOfTheLog() async throws {
        // Up to 42: the authentication created at 42 is still there, and only the first conversation.
        let early = try await Self.plan(.init(until: .position(42))).plan
        #expect(early.resources.filter { $0.kind == .authentication }.count == 2)
        #expect(early.conversations.count == 1)
        #expect(early.lastPosition == 42)
        // From 10: the second conversation only (the first started at 9).
        let late = try await Self.plan(.init(since: .position(10))).plan
        #expect(late.conversations.count == 1)
        #expect(late.resources.count == 8, "the configuration is replayed whatever the range")
        let configuration = try await Self.plan(.init(configOnly: true)).plan
        #expect(configuration.conversations.isEmpty && configuration.resources.count == 8)
        // An account by its address: it and what it uses; an unknown account: nothing.
        let account = try await Self.plan(.init(account: "1000")).plan
        #expect(account.resources.count == 8 && account.conversations.count == 2)
        let none = try await Self.plan(.init(account: "no-such-account")).plan
        #expect(none.resources.isEmpty && none.conversations.isEmpty)
    }

    @Test func withoutTheMasterKeyTheSecretsStaySealedAndTheirResourcesAreNamed() async throws {
        let loaded = try await Self.plan(withKey: false)
        #expect(!loaded.hasMasterKey)
        let authentication = loaded.plan.resources[0]
        #expect(loaded.sealedSecrets.contains("authentication/\(authentication.id)"))
        #expect(authentication.state.value(at: "basicAuth.password")?.stringValue?.hasPrefix("$sealed") == true)
        // The create body: no id or times, references mapped, the sealed secret replaced.
        var ids: [ResourceKind: [String: String]] = [:]
        for resource in loaded.plan.resources {
            ids[resource.kind, default: [:]][resource.id] = "new-" + resource.id
        }
        let body = try Replayer.body(of: authentication, ids: ids)
        #expect(body["id"] == nil && body["created"] == nil && body["modified"] == nil)
        #expect(body.value(at: "basicAuth.password")?.stringValue == Replayer.secretPlaceholder)
        let account = try #require(loaded.plan.resources.last)
        let accountBody = try Replayer.body(of: account, ids: ids)
        let channel = try #require(loaded.plan.resources.first { $0.kind == .channel })
        #expect(accountBody.value(at: "channel.id")?.stringValue == ids[.channel]?[channel.id])
        // A reference to something not replayed is an error, not a dangling id.
        #expect(throws: ReplayError.self) { try Replayer.body(of: account, ids: [:]) }
    }
}
