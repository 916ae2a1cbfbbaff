import Foundation
import HTTPTypes
import HubDomain
@_spi(Storage) import HubEventLog
import HubSQLite
import HubTestSupport
import Hummingbird
import HummingbirdTesting
import Testing

@testable import HubReadModels

/// A message's routing names the configuration it ran under by generation (`message.routed` v2); the
/// configuration itself is recorded once per account and generation (`routing.configured`), and the
/// audit trail shows it resolved, as it showed version 1's whole configuration. A delivery to one of
/// the recipients recorded with it is written by reference: its type only.
@Suite(.timeLimit(.minutes(5)))
struct RoutingConfigurationTests {
    @Test func aConfigurationIsRecordedOncePerGenerationAndTheAuditTrailResolvesIt() async throws {
        try await withConversationHub { hub in try await Self.recordsOncePerGeneration(hub) }
    }

    @Test func aDeliveryToItsGenerationsOnlyRecipientOfItsTypeSaysTheTypeOnly() async throws {
        try await withConversationHub { hub in
            // The account's generation as recorded before December 2026: without its recipients.
            let account = try #require(
                try await hub.store.pool.read { try AccountDirectory().account(id: hub.setup.account, $0) }
            )
            let old = RoutingConfigured(account: account.id, configuration: account.configuration, recipients: nil)
            _ = try await hub.store.append(
                [try EventDraft(old, account: account.id)],
                to: RoutingConfigured.stream(account: account.id)
            )
            let first = try #require(try await hub.sendAccepted(messageBody()).first)
            let conversation = try #require(first.value(at: "conversation.id")?.stringValue)
            // A second message finds the generation recorded, with the recipients the account resolves to.
            _ = try await hub.sendAccepted(messageBody(text: "Still there?", conversation: conversation))
            try await hub.callbacks.waitFor { $0.contains { $0.path == "/custom_bot" } }

            // The first message records the generation again, with its recipients: the bot, its
            // escalation agent and the customer application.
            let log = try await hub.events()
            let recorded = try log.filter { $0.type == RoutingConfigured.type }.map {
                try $0.payload(RoutingConfigured.self)
            }
            #expect(
                recorded.count == 2
                    && recorded.map(\.generation) == [
                        account.configuration.generation, account.configuration.generation,
                    ]
            )
            #expect(recorded.first?.recipients == nil && recorded.last?.recipients == account.recipients)
            let recipients = try #require(recorded.last?.recipients)
            #expect(recipients.map(\.type) == ["custom_bot", "custom_agent", "customer"])
            #expect(recipients.first?.participant?.id == hub.setup.participant)
            #expect(recipients.map(\.application) == [hub.setup.botApp, hub.setup.agentApp, hub.setup.customerApp])

            // Each message names its one delivery, to the bot, by type; the bot was called with its
            // participant all the same, and the transcript shows it.
            let received = log.filter { $0.type == MessageReceived.type }
            #expect(received.count == 2)
            for event in received {
                #expect(
                    try JSONValue.parse(event.data).value(at: "routing.deliveries")
                        == .array([.object(["type": "custom_bot"])])
                )
            }
            let callback = try JSONValue.parse(try #require(hub.callbacks.requests(to: "/custom_bot").first).body)
            #expect(callback.text.contains(hub.setup.participant))
            let (status, transcript) = try await hub.queryText("/v1/conversations/\(conversation)/transcript")
            #expect(status == 200 && transcript.contains(hub.setup.participant), "\(transcript)")
            // (The harness then checks the read models equal a rebuild, which resolves the reference
            // from `routing_configurations`.)
        }
    }

    static func recordsOncePerGeneration(_ hub: ConversationHub) async throws {
        let first = try #require(try await hub.sendAccepted(messageBody()).first)
        let conversation = try #require(first.value(at: "conversation.id")?.stringValue)
        _ = try await hub.sendAccepted(messageBody(text: "Still there?", conversation: conversation))
        // A configuration change: the channel's display name.
        let (status, channel) = try await hub.api.call(.get, "/channels/\(hub.setup.channel)")
        #expect(status == 200)
        guard case .object(var fields) = try #require(channel) else { throw CancellationError() }
        fields["displayName"] = "Renamed"
        for key in ["id", "created", "modified"] { fields[key] = nil }
        let (updated, answer) = try await hub.api.call(
            .put,
            "/channels/\(hub.setup.channel)",
            JSONValue.object(fields).text
        )
        #expect(updated == 204, "\(answer?.text ?? "")")
        _ = try await hub.sendAccepted(messageBody(text: "Hello again", conversation: conversation))

        let log = try await hub.events()
        let recorded = log.filter { $0.type == RoutingConfigured.type }
        // Two generations: before and after the change, each recorded once, on the account's stream.
        #expect(recorded.count == 2)
        #expect(recorded.allSatisfy { $0.stream == "routing/\(hub.setup.account)" })
        let generations = try recorded.map { try $0.payload(RoutingConfigured.self).generation }
        #expect(generations.count == 2 && generations[0] < generations[1])
        let channelUpdate = try #require(log.last { $0.type == "channel.updated" })
        #expect(generations.last == channelUpdate.position)
        // Each routing names one of them, and carries no configuration of its own.
        // (A message's routing is the `message.routed` its `message.received` implies.)
        let routed = try log.flatMap { try $0.withImpliedEvents() }
            .filter { $0.type == MessageRouted.type && $0.stream == "conversation/\(conversation)" }
            .map { try $0.payload(MessageRouted.self) }
        #expect(!routed.isEmpty && routed.allSatisfy { $0.configuration == nil })
        #expect(Set(routed.compactMap(\.configurationGeneration)) == Set(generations))
        #expect(!log.contains { $0.type == MessageRouted.type && $0.data.contains(#""configuration":"#) })

        // The audit trail shows each message's configuration resolved, with the channel's new version
        // for the message sent after the change.
        let trail = try await hub.admin.client.execute(
            uri: "/v1/conversations/\(conversation)/history",
            method: .get,
            headers: [.authorization: "Bearer \(hub.admin.token)"]
        ) { try JSONValue.parse(String(buffer: $0.body)) }
        let messages = try #require(trail["messages"]?.arrayValue)
        let customer = messages.filter { $0.value(at: "sender.type")?.stringValue == "customer" }
        #expect(customer.count == 3)
        let channelPositions = customer.compactMap { $0.value(at: "configuration.channel.position")?.doubleValue }
        #expect(channelPositions.count == 3)
        #expect(channelPositions[0] == channelPositions[1] && channelPositions[2] == Double(channelUpdate.position))
        #expect(customer.allSatisfy { $0.value(at: "configuration.account.id")?.stringValue == hub.setup.account })
        #expect(customer.allSatisfy { $0.value(at: "configuration.channel.recordedAt")?.stringValue != nil })
    }
}
