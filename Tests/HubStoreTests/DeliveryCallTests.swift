import HubCommands
import HubDomain
@_spi(Storage) import HubEventLog
import HubReadModels
import HubVault
import Testing

/// How due deliveries are grouped into callback POSTs (spec §5.3: "one or more messages per call").
struct DeliveryCallTests {
    func delivery(
        _ id: String,
        conversation: String,
        application: String = "bot-app",
        role: String = "custom_bot",
        stored: String? = nil,
        attributes: JSONValue? = nil,
        request: String? = nil,
        account: String = "account-1"
    ) -> PendingDelivery {
        var delivery = PendingDelivery(
            id: id,
            conversation: conversation,
            message: "m-" + id,
            application: application,
            role: role,
            attempts: request == nil ? 0 : 1
        )
        delivery.storedPayload = stored
        delivery.item = #"{"id":"m-\#(id)"}"#
        delivery.attributesText = attributes?.text
        delivery.request = request
        delivery.account = account
        return delivery
    }

    func ids(_ calls: [DeliveryCall]) -> [[String]] { calls.map { $0.deliveries.map(\.id) } }

    @Test func newDeliveriesToOneRoleShareCallsOfAtMostTheMaximumInOrder() {
        let due = (1...5).map { delivery("d\($0)", conversation: "c\($0)") }
        let calls = DeliveryCall.group(due, maximum: 2)
        #expect(ids(calls) == [["d1", "d2"], ["d3", "d4"], ["d5"]])
        #expect(calls.map(\.requestId) == ["d1", "d3", "d5"])
        let body = try? JSONValue.parse(calls[0].payload)
        #expect(body?.value(at: "messages")?["message"] == .array([.object(["id": "m-d1"]), .object(["id": "m-d2"])]))
        #expect(ids(DeliveryCall.group(due, maximum: 1)) == due.map { [$0.id] })
    }

    @Test func rolesAccountsAttributesAndStoredBodiesSeparateCalls() {
        let due = [
            delivery("d1", conversation: "c1"),
            delivery("d2", conversation: "c2", application: "customer-app", role: "customer"),
            delivery("d3", conversation: "c3", attributes: .array([.object(["name": "k", "value": "v"])])),
            delivery("d4", conversation: "c4", stored: #"{"messages":{"message":[]}}"#),
            delivery("d5", conversation: "c5"),
            delivery("d6", conversation: "c6", account: "account-2"),
        ]
        let calls = DeliveryCall.group(due, maximum: 25)
        // Each call's attempt event belongs to one account.
        #expect(ids(calls) == [["d1", "d5"], ["d2"], ["d3"], ["d4"], ["d6"]])
        #expect(calls[3].payload == #"{"messages":{"message":[]}}"#)
        #expect((try? JSONValue.parse(calls[2].payload))?.value(at: "metadata.attributes") != nil)
    }

    @Test func aRetriedCallKeepsItsRequestIdAndItsMessages() {
        let due = [
            delivery("d7", conversation: "c7"),
            delivery("d2", conversation: "c2", request: "d1"),
            delivery("d1", conversation: "c1", request: "d1"),
            delivery("d8", conversation: "c8"),
        ]
        let calls = DeliveryCall.group(due, maximum: 25)
        #expect(ids(calls) == [["d7", "d8"], ["d2", "d1"]])
        #expect(calls.map(\.requestId) == ["d7", "d1"])
    }
}
