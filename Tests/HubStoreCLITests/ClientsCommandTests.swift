import Foundation
import HubTestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `hubstore clients` beside a running server, and the tokens its clients get over HTTP.
@Suite(.timeLimit(.minutes(5)))
struct ClientsCommandTests {
    @Test func aClientCreatedBesideTheServerGetsTokensUntilItIsRevoked() async throws {
        try await withTemporaryDirectory { directory in
            let server = try ChildProcess(["serve", "--data", directory, "--port", "0"])
            let port = try await listeningPort(server)

            let created = try await ChildProcess.run([
                "clients", "create", "--data", directory, "--name", "scraper", "--scope", "hubstore.admin",
            ])
            #expect(created.status == 0, "\(created.stderr)")
            let fields = Dictionary(
                uniqueKeysWithValues: created.stdout.split(separator: "\n").compactMap { line -> (String, String)? in
                    let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                    return parts.count == 2 ? (parts[0], parts[1]) : nil
                }
            )
            let id = try #require(fields["client_id"])
            let secret = try #require(fields["client_secret"])

            let tokenResponse = try await httpRequest(
                port: port,
                path: "/oauth2/token",
                method: "POST",
                headers: ["Content-Type": "application/x-www-form-urlencoded"],
                body: "grant_type=client_credentials&client_id=\(id)&client_secret=\(secret)"
            )
            #expect(tokenResponse.status == 200)
            let object = try JSONSerialization.jsonObject(with: Data(tokenResponse.body.utf8)) as? [String: Any]
            let token = try #require(object?["access_token"] as? String)
            #expect(
                try await httpGet(port: port, path: "/metrics", headers: ["Authorization": "Bearer \(token)"]).status
                    == 200
            )

            let list = try await ChildProcess.run(["clients", "list", "--data", directory])
            #expect(list.stdout.contains(id))
            #expect(list.stdout.contains("active"))
            #expect(!list.stdout.contains(secret))

            let revoke = try await ChildProcess.run(["clients", "revoke", "--data", directory, id])
            #expect(revoke.status == 0, "\(revoke.stderr)")
            #expect(
                try await httpGet(port: port, path: "/metrics", headers: ["Authorization": "Bearer \(token)"]).status
                    == 401
            )
            let again = try await ChildProcess.run(["clients", "revoke", "--data", directory, id])
            #expect(again.status == 1)
            #expect(again.stderr.contains("already revoked"))

            let badScope = try await ChildProcess.run([
                "clients", "create", "--data", directory, "--name", "x", "--scope", "everything",
            ])
            #expect(badScope.status != 0)
            #expect(badScope.stderr.contains("unknown scope 'everything'"))

            server.signal(SIGTERM)
            #expect(try await server.waitForExit() == 0)
            let verify = try await ChildProcess.run(["verify", "--data", directory])
            #expect(verify.stdout.hasPrefix("ok: 2 events in 1 streams"), "\(verify.stdout)")
        }
    }
}
