import HubDomain
import Testing

/// The configuration rules over an in-memory snapshot: no SQLite, no HTTP.
struct ConfigurationRulesTests {
    /// A configuration held in dictionaries.
    struct Snapshot: ConfigurationSnapshot {
        var resources: [ResourceKind: [String: JSONValue]] = [:]
        var references: [(kind: String, id: String, targetKind: ResourceKind, targetId: String)] = []

        func state(_ kind: ResourceKind, id: String) throws -> JSONValue? { resources[kind]?[id] }

        func resource(_ kind: ResourceKind, withUniqueKey key: String) throws -> String? {
            resources[kind]?.first { $0.value[kind.uniqueField]?.stringValue?.lowercased() == key.lowercased() }?.key
        }

        func firstReferrer(to kind: ResourceKind, id: String) throws -> (kind: String, id: String)? {
            references.first { $0.targetKind == kind && $0.targetId == id }.map { ($0.kind, $0.id) }
        }

        func activeAccount(otherThan id: String, address: String, channelTypeOf channelId: String) throws -> String? {
            let type = resources[.channel]?[channelId]?["type"]
            return resources[.account]?.first { accountId, account in
                guard accountId != id, account["address"]?.stringValue == address, account["active"] != .bool(false),
                    let channel = account.value(at: "channel.id")?.stringValue
                else { return false }
                return resources[.channel]?[channel]?["type"] == type
            }?.key
        }
    }

    static func json(_ text: String) -> JSONValue {
        (try? JSONValue.parse(text)) ?? .null
    }

    static let snapshot = Snapshot(
        resources: [
            .channel: ["c1": json(#"{"type": "web_chat"}"#), "c2": json(#"{"type": "sms"}"#)],
            .clientApplication: [
                "bot-app": json(#"{"name": "bot", "roles": [{"name": "custom_bot"}]}"#),
                "old-app": json(#"{"name": "old", "active": false, "roles": [{"name": "custom_bot"}]}"#),
            ],
            .account: ["a1": json(#"{"name": "main", "address": "1000", "channel": {"id": "c1"}}"#)],
        ],
        references: [("account", "a1", .channel, "c1")]
    )

    func reason(_ body: () throws -> Void) -> Rejection.Reason? {
        do {
            try body()
            return nil
        } catch let rejection as Rejection {
            return rejection.reason
        } catch {
            return nil
        }
    }

    @Test func namesAreUniquePerKindIgnoringCase() throws {
        #expect(
            reason {
                try ConfigurationRules.checkWrite(
                    .clientApplication,
                    id: "new",
                    body: Self.json(#"{"name": "BOT"}"#),
                    in: Self.snapshot
                )
            }
                == .duplicate
        )
        // The resource itself may keep its name, and another kind may use it.
        try ConfigurationRules.checkWrite(
            .clientApplication,
            id: "bot-app",
            body: Self.json(#"{"name": "bot"}"#),
            in: Self.snapshot
        )
        try ConfigurationRules.checkWrite(
            .authentication,
            id: "x",
            body: Self.json(#"{"name": "bot"}"#),
            in: Self.snapshot
        )
        // A channel's unique key is its type.
        #expect(
            reason {
                try ConfigurationRules.checkWrite(
                    .channel,
                    id: "c9",
                    body: Self.json(#"{"type": "sms"}"#),
                    in: Self.snapshot
                )
            } == .duplicate
        )
    }

    @Test func referencesMustExistBeActiveAndHaveTheRole() throws {
        let participant: (String) -> JSONValue = {
            Self.json(#"{"name": "p", "type": "custom_bot", "application": {"id": "\#($0)"}}"#)
        }
        try ConfigurationRules.checkWrite(.participant, id: "p1", body: participant("bot-app"), in: Self.snapshot)
        #expect(
            reason {
                try ConfigurationRules.checkWrite(.participant, id: "p1", body: participant("nope"), in: Self.snapshot)
            } == .unknownReference
        )
        #expect(
            reason {
                try ConfigurationRules.checkWrite(
                    .participant,
                    id: "p1",
                    body: participant("old-app"),
                    in: Self.snapshot
                )
            } == .unknownReference
        )
        let agent = Self.json(#"{"name": "p", "type": "custom_agent", "application": {"id": "bot-app"}}"#)
        #expect(
            reason { try ConfigurationRules.checkWrite(.participant, id: "p1", body: agent, in: Self.snapshot) }
                == .invalidValue
        )
    }

    @Test func anAccountRouteBelongsToOneActiveAccount() throws {
        let account: (String, String, Bool) -> JSONValue = { address, channel, active in
            Self.json(
                #"{"name": "n\#(address)\#(channel)", "address": "\#(address)", "channel": {"id": "\#(channel)"}, "active": \#(active)}"#
            )
        }
        #expect(
            reason {
                try ConfigurationRules.checkWrite(
                    .account,
                    id: "a2",
                    body: account("1000", "c1", true),
                    in: Self.snapshot
                )
            } == .duplicate
        )
        // Another address, another channel type, an inactive account, or the account itself: allowed.
        try ConfigurationRules.checkWrite(.account, id: "a2", body: account("2000", "c1", true), in: Self.snapshot)
        try ConfigurationRules.checkWrite(.account, id: "a2", body: account("1000", "c2", true), in: Self.snapshot)
        try ConfigurationRules.checkWrite(.account, id: "a2", body: account("1000", "c1", false), in: Self.snapshot)
        try ConfigurationRules.checkWrite(.account, id: "a1", body: account("1000", "c1", true), in: Self.snapshot)
    }

    @Test func whatIsReferredToOrMissingIsNotDeleted() throws {
        #expect(reason { try ConfigurationRules.checkDelete(.channel, id: "c1", in: Self.snapshot) } == .inUse)
        #expect(reason { try ConfigurationRules.checkDelete(.channel, id: "c7", in: Self.snapshot) } == .notFound)
        try ConfigurationRules.checkDelete(.channel, id: "c2", in: Self.snapshot)
    }
}
