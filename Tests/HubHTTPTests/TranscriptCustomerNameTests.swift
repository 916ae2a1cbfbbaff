import Foundation
import HubDomain
import HubTestSupport
import Testing

/// A customer's message row names the customer as the conversation's first message did. The row the
/// writer's command reads is handed to the transcripts (`TranscriptRows.seed`), so the name must come
/// out as the transcripts' own read of `customer_state` gives it; the harness then checks that the
/// tables equal a rebuild, which reads it from SQL.
struct TranscriptCustomerNameTests {
    @Test func everyMessageNamesTheCustomerAsTheFirstMessageDid() async throws {
        try await withConversationHub { hub in
            let names: [String?] = [nil, "Zoë \"Z\" O'Brien\n\u{1F600}", "\\u0041 not an escape", "a"]
            for (index, name) in names.enumerated() {
                var body = messageBody(
                    id: "first-\(index)",
                    contact: "customer\(index)@example.com",
                    phone: "55501\(index)"
                )
                body = try JSONValue.parse(
                    body.text.replacingOccurrences(
                        of: #""name":"John smith","#,
                        with: name.map { #""name":\#(JSONValue.string($0).text),"# } ?? ""
                    )
                )
                #expect(body.value(at: "messages")?.text.contains("John smith") == false)
                let first = try await hub.sendAccepted(body)
                let conversation = try #require(first.first?.value(at: "conversation.id")?.stringValue)
                // Later messages name the conversation by id: the command reads its row.
                for turn in 1...3 {
                    _ = try await hub.sendAccepted(
                        messageBody(id: "next-\(index)-\(turn)", text: "turn \(turn)", conversation: conversation)
                    )
                }
                let (status, text) = try await hub.queryText(
                    "/v1/conversations/\(conversation)/transcript",
                    accept: "text/plain"
                )
                #expect(status == 200)
                let speaker = name.map { "customer (\($0))" } ?? "customer:"
                for turn in 1...3 { #expect(text.contains("\(speaker)\(name == nil ? "" : ":") turn \(turn)")) }
                #expect(text.components(separatedBy: speaker).count - 1 == 4, "\(text)")
            }
            #expect(try await projectionMismatches(hub.store) == [])
        }
    }
}
