import Foundation
import HubTestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `hubstore serve --cors-origin` / `HUBSTORE_CORS_ORIGIN` (issue 13 item 15): off by default.
@Suite(.timeLimit(.minutes(5)))
struct ServeCORSTests {
    /// A CORS preflight for `GET /v1/conversations` from `origin`; status and response headers.
    func preflight(port: Int, origin: String) async throws -> (Int, [AnyHashable: Any]) {
        var request = URLRequest(url: try #require(URL(string: "http://127.0.0.1:\(port)/v1/conversations")))
        request.httpMethod = "OPTIONS"
        request.setValue(origin, forHTTPHeaderField: "Origin")
        request.setValue("GET", forHTTPHeaderField: "Access-Control-Request-Method")
        request.setValue("authorization", forHTTPHeaderField: "Access-Control-Request-Headers")
        let (_, response) = try await URLSession.shared.data(for: request)
        let http = try #require(response as? HTTPURLResponse)
        return (http.statusCode, http.allHeaderFields)
    }

    func allowedOrigin(_ headers: [AnyHashable: Any]) -> String? {
        headers.first { ($0.key as? String)?.lowercased() == "access-control-allow-origin" }?.value as? String
    }

    @Test func theFlagOrTheEnvironmentTurnsCORSOnForTheNamedOrigins() async throws {
        try await withTemporaryDirectory { directory in
            for (arguments, environment) in [
                (["--cors-origin", "https://app.example,http://localhost:3000"], [:]),
                ([], ["HUBSTORE_CORS_ORIGIN": "https://app.example, http://localhost:3000"]),
            ] {
                let server = try ChildProcess(
                    ["serve", "--data", directory + "/data", "--port", "0"] + arguments,
                    environment: environment
                )
                let port = try await listeningPort(server)
                let (status, headers) = try await preflight(port: port, origin: "http://localhost:3000")
                #expect(status == 204)
                #expect(allowedOrigin(headers) == "http://localhost:3000", "\(arguments) \(environment)")
                let (_, other) = try await preflight(port: port, origin: "https://elsewhere.example")
                #expect(allowedOrigin(other) == nil)
                server.signal(SIGTERM)
                #expect(try await server.waitForExit() == 0)
            }
            let server = try ChildProcess(["serve", "--data", directory + "/data", "--port", "0"])
            let port = try await listeningPort(server)
            let (status, headers) = try await preflight(port: port, origin: "https://app.example")
            #expect(status == 204)
            #expect(allowedOrigin(headers) == nil)
            server.signal(SIGTERM)
            #expect(try await server.waitForExit() == 0)
        }
    }

    @Test func aMalformedOriginIsRefusedAtStart() async throws {
        try await withTemporaryDirectory { directory in
            let result = try await ChildProcess.run([
                "serve", "--data", directory, "--port", "0", "--cors-origin", "app.example/path",
            ])
            #expect(result.status != 0)
            #expect(result.stderr.contains("CORS origins must look like"))
        }
    }
}
