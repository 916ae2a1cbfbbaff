import Foundation
import HubTestSupport
import Testing

/// The README's "Configure a hub" commands, run as written against a real server (only the host,
/// the binary's path and the data directory are pointed at the test's own).
@Suite(.timeLimit(.minutes(5)))
struct ReadmeTests {
    static var readme: String {
        get throws {
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent()
            return try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        }
    }

    /// The first ```sh block after `heading`.
    static func shellBlock(after heading: String) throws -> String {
        let text = try readme
        let section = try #require(text.range(of: heading)).upperBound
        let start = try #require(text.range(of: "```sh\n", range: section..<text.endIndex)).upperBound
        let end = try #require(text.range(of: "\n```", range: start..<text.endIndex)).lowerBound
        return String(text[start..<end])
    }

    @Test func theConfigureAHubCommandsRunAsWritten() async throws {
        try await withTemporaryDirectory { directory in
            let data = directory + "/hubstore-data"
            let server = try ChildProcess(["serve", "--data", data, "--port", "0"])
            let port = try await listeningPort(server)
            let script = try Self.shellBlock(after: "## Configure a hub")
                .replacingOccurrences(of: "http://localhost:8080", with: "http://127.0.0.1:\(port)")
                .replacingOccurrences(of: ".build/release/hubstore", with: hubstoreBinary)
                .replacingOccurrences(of: "--data hubstore-data", with: "--data \(data)")
                .replacingOccurrences(of: "client.txt", with: directory + "/client.txt")
            let result = try await ChildProcess.run(["-e", "-u", "-c", script], executable: "/bin/bash")
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains(#""name":"bot_callback_auth""#), "\(result.stdout)")
            #expect(result.stdout.contains(#""payload":"********""#))
            #expect(result.stdout.contains(#""account":{"#))
            #expect(result.stdout.contains(#""name":"order_bot""#))
            #expect(!result.stdout.contains("s3cret"))
            #expect(result.stdout.contains(#""messageId":"m-1","status":"accepted""#), "\(result.stdout)")
            #expect(result.stdout.contains(#""conversations":[{"#), "\(result.stdout)")
            #expect(!result.stdout.contains(#""code":"#), "an API error: \(result.stdout)")
            server.signal(SIGTERM)
            #expect(try await server.waitForExit() == 0)
        }
    }
}
