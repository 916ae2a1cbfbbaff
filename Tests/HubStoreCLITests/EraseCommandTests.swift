import Foundation
import HubDomain
import HubTestSupport
import Testing

/// `hubstore erase`: the demo's customer erased by an operator; nothing of what they said stays in any
/// file, the log still verifies, and the conversation still counts.
@Suite struct EraseCommandTests {
    @Test func anOperatorErasesTheDemosCustomer() async throws {
        try await withTemporaryDirectory { directory in
            let data = directory + "/data"
            let demo = try await ChildProcess.run(["demo", "--data", data])
            #expect(demo.status == 0, "\(demo.stderr)")
            let usage = try await ChildProcess.run(["erase", "--data", data])
            #expect(usage.status != 0 && usage.stderr.contains("--contact or --customer"), "\(usage.stderr)")

            let erase = try await ChildProcess.run(["erase", "--data", data, "--contact", "John.Smith@example.com"])
            #expect(erase.status == 0, "\(erase.stderr)")
            #expect(erase.stdout.hasPrefix("erased 1 customer(s): 1 conversation(s)"), "\(erase.stdout)")
            let again = try await ChildProcess.run(["erase", "--data", data, "--contact", "john.smith@example.com"])
            #expect(again.status == 1 && again.stderr.contains("No customer matches"), "\(again.stderr)")

            for text in ["I need help with my order", "john.smith@example.com", "Order 12345 ships today"] {
                let names = FileManager.default.enumerator(atPath: data)?.allObjects.compactMap { $0 as? String } ?? []
                let holding = names.filter { name in
                    FileManager.default.contents(atPath: data + "/" + name)?.range(of: Data(text.utf8)) != nil
                }
                #expect(holding.isEmpty, "\(text) is still in \(holding)")
            }
            let verify = try await ChildProcess.run(["verify", "--data", data, "--projections"])
            #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
            let events = try await ChildProcess.run(["events", "--data", data, "--type", "erasure.performed"])
            #expect(events.stdout.contains("erasure.performed erasure/"), "\(events.stdout)")
            let metrics = try await ChildProcess.run(["analytics", "--data", data, "--format", "json"])
            #expect(try JSONValue.parse(metrics.stdout).value(at: "total.conversations.started") == 1)
        }
    }
}
