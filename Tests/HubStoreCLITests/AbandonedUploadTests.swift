import Foundation
import HubTestSupport
import Testing

/// An upload's bytes go to a temporary file under `assets/` as they arrive; a server killed in the
/// middle leaves it behind, and the next start removes it (and only it).
@Suite(.timeLimit(.minutes(5)))
struct AbandonedUploadTests {
    @Test func theNextStartRemovesUnfinishedUploadsAndKeepsStoredAssets() async throws {
        try await withTemporaryDirectory { directory in
            let data = directory + "/data"
            let assets = data + "/assets"
            try FileManager.default.createDirectory(atPath: assets, withIntermediateDirectories: true)
            let unfinished = assets + "/.upload-" + UUID().uuidString
            let stored = assets + "/" + String(repeating: "ab", count: 32)
            #expect(FileManager.default.createFile(atPath: unfinished, contents: Data(repeating: 1, count: 4096)))
            #expect(FileManager.default.createFile(atPath: stored, contents: Data("bytes".utf8)))
            let server = try ChildProcess(["serve", "--data", data, "--port", "0"])
            _ = try await listeningPort(server)
            #expect(!FileManager.default.fileExists(atPath: unfinished))
            #expect(FileManager.default.fileExists(atPath: stored))
            #expect(server.standardError.contains("removed unfinished uploads"))
            server.signal(SIGTERM)
            #expect(try await server.waitForExit() == 0)
        }
    }
}
