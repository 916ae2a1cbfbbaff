import Foundation
import HTTPTypes
import HubDomain
@_spi(Storage) import HubEventLog
import HubTestSupport
import Hummingbird
import HummingbirdTesting
import Testing

/// A message's routing names the configuration it ran under by generation (`message.routed` v2); the
/// configuration itself is recorded once per account and generation (`routing.configured`), and the
/// audit trail shows it resolved, as it showed version 1's whole configuration.
@Suite(.timeLimit(.minutes(2)))
struct RoutingConfigurationTests {
    @Test func aConfigurationIsRecordedOncePerGenerationAndTheAuditTrailResolvesIt() async throws {
        try await withConversationHub { hub in try await Self.recordsOncePerGeneration(hub) }
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
