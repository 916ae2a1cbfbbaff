import Foundation
import HubTestSupport
import Testing

/// `hubstore demo` runs a whole conversation and shows the transcript, deliveries and verify result.
@Suite(.timeLimit(.minutes(5)))
struct DemoCommandTests {
    @Test func theDemoHoldsAWholeConversationAndVerifies() async throws {
        try await withTemporaryDirectory { directory in
            let result = try await ChildProcess.run(["demo", "--data", directory + "/demo"])
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
            let output = result.stdout
            for line in [
                "  -> bot app received text: Hi, I need help with my order.",
                "  -> agent app received escalation.transfer",
                "  -> customer app received conversation.end",
                "  -> bot app received conversation.end",
                "customer (John Smith): Hi, I need help with my order.",
                "custom_agent (Alice): Hi John, this is Alice. Order 12345 ships today.",
                "system: [conversation.state: escalated]",
                "delivery.succeeded: escalation.transfer from custom_bot to custom_agent, attempt 1, HTTP 200",
                "verify: ok",
            ] {
                #expect(output.contains(line), "missing: \(line)")
            }
            // Nine: the agent's conversation.end reaches the customer and the bot (spec §4.3 [P]).
            #expect(output.components(separatedBy: "delivery.succeeded").count - 1 == 9)
            // --data keeps the hub's data; verify agrees from outside.
            let verify = try await ChildProcess.run(["verify", "--data", directory + "/demo"])
            #expect(verify.status == 0)
        }
    }
}
