import Foundation
import HubDomain
import Testing

struct RequestMessagesTests {
    /// The spec's full `RequestMessages` sample (§4.1), without `conversation.id` (a first customer message).
    static let sample = #"""
        {
          "metadata": { "attributes": [ { "name": "k1", "value": "v1" } ] },
          "messages": {
            "message": [
              {
                "messageId": "client-generated-1",
                "type": { "value": "text" },
                "content": { "text": "I need help with my order.", "redact": false, "value": { },
                             "attachments": { "attachment": [ { "id": "1001" } ] } },
                "conversation": {
                  "account": { "address": "123456789", "channel": { "type": "custom_channel" } },
                  "entryPoint": { "id": "1001" },
                  "customer": {
                    "name": "John smith", "type": "individual",
                    "attributes": [ { "name": "type", "value": "individual" } ],
                    "contacts": { "contact": [ { "type": "phone", "subType": "mobile", "address": "123456788" },
                                               { "type": "email", "address": "johnsmith@example.com" } ] }
                  }
                },
                "sender": { "type": "customer", "participant": { "name": "John smith" } },
                "created": "2021-03-30T22:58:09.533Z"
              }
            ]
          }
        }
        """#

    func parse(_ text: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    func message(_ fields: String) -> String {
        #"{"messages": {"message": [\#(fields)]}}"#
    }

    @Test func theSpecSampleIsAccepted() throws {
        let request = try RequestMessages.validate(try parse(Self.sample))
        #expect(request.attributes == .array([.object(["name": "k1", "value": "v1"])]))
        let message = try #require(request.messages.first)
        #expect(message.type == "text")
        #expect(message.senderType == .customer)
        #expect(message.text == "I need help with my order.")
        #expect(message.attachments == ["1001"])
        #expect(message.accountAddress == "123456789")
        #expect(message.channelType == "custom_channel")
        #expect(message.entryPointId == "1001")
        #expect(message.customer?.strings(at: "contacts.contact[].address") == ["123456788", "johnsmith@example.com"])
        #expect(message.idempotencyKey == "egain:customer:client-generated-1")
        #expect(message.conversationId == nil)
    }

    @Test func aStructuredValueMayBeAnObjectOrAJSONString() throws {
        let conversation = #""conversation": {"id": "21822806-88c3-43b3-8eed-097b4f0d68a7"}"#
        for value in [#"{"url": "https://example.com"}"#, #""{\"url\": \"https://example.com\"}""#] {
            let body = message(
                #"{"messageId": "m", "type": {"value": "richMessage.richlink"}, "content": {"value": \#(value)}, \#(conversation), "sender": {"type": "custom_bot"}}"#
            )
            let request = try RequestMessages.validate(try parse(body))
            #expect(request.messages.first?.value == (try parse(value)))
        }
    }

    @Test(arguments: [
        ("[]", Rejection.Reason.invalidValue, "messages.message"),
        (
            String(
                repeating:
                    #"{"messageId": "m", "type": {"value": "typing.start"}, "sender": {"type": "customer"}, "conversation": {"id": "21822806-88c3-43b3-8eed-097b4f0d68a7"}},"#,
                count: 26
            ).dropLast() + "", Rejection.Reason.invalidValue, "messages.message"
        ),
        (
            #"{"messageId": "m", "sender": {"type": "customer"}}"#, Rejection.Reason.missingAttribute,
            "messages.message[0].type"
        ),
        (
            #"{"messageId": "m", "type": {"value": "text"}, "content": {"text": "hi"}}"#,
            Rejection.Reason.missingAttribute,
            "messages.message[0].sender"
        ),
        (
            #"{"type": {"value": "text"}, "sender": {"type": "customer"}}"#, Rejection.Reason.missingAttribute,
            "messages.message[0].messageId"
        ),
        (
            #"{"messageId": "m", "type": {"value": "text"}, "sender": {"type": "business_notification"}}"#,
            Rejection.Reason.invalidValue,
            "messages.message[0].sender.type"
        ),
        (
            #"{"messageId": "m", "type": {"value": "smoke.signal"}, "sender": {"type": "customer"}}"#,
            Rejection.Reason.invalidValue,
            "type.value"
        ),
        (
            #"{"messageId": "m", "type": {"value": "agent.join"}, "sender": {"type": "customer"}}"#,
            Rejection.Reason.notPermitted,
            "agent.join"
        ),
        (
            #"{"messageId": "m", "type": {"value": "text"}, "sender": {"type": "customer"}, "conversation": {"id": "21822806-88c3-43b3-8eed-097b4f0d68a7"}}"#,
            Rejection.Reason.missingAttribute, "content.text"
        ),
        (
            #"{"messageId": "m", "type": {"value": "text"}, "content": {"text": "hi"}, "sender": {"type": "custom_agent"}}"#,
            Rejection.Reason.missingAttribute, "conversation.id"
        ),
        (
            #"{"messageId": "m", "type": {"value": "text"}, "content": {"text": "hi"}, "sender": {"type": "customer"}, "conversation": {"account": {"address": "1", "channel": {"type": "c"}}}}"#,
            Rejection.Reason.missingAttribute, "contacts.contact"
        ),
        (
            #"{"messageId": "m", "type": {"value": "undo"}, "content": {"value": {}}, "sender": {"type": "customer"}, "conversation": {"id": "21822806-88c3-43b3-8eed-097b4f0d68a7"}}"#,
            Rejection.Reason.missingAttribute, "content.value.messageId"
        ),
    ])
    func badMessagesAreRefusedWithTheirCode(_ messages: String, _ reason: Rejection.Reason, _ named: String) throws {
        let error = #expect(throws: Rejection.self) { try RequestMessages.validate(try parse(message(messages))) }
        #expect(error?.reason == reason, "\(error?.message ?? "")")
        #expect(error?.message.contains(named) == true, "\(error?.message ?? "")")
    }
}
