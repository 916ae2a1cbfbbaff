import Foundation
import HubTestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `hubstore serve` as a child process: start-up, probes, graceful shutdown, refusals.
@Suite(.timeLimit(.minutes(5)))
struct ServeCommandTests {
    @Test func servesProbesAndStopsCleanlyOnSIGTERM() async throws {
        try await withTemporaryDirectory { directory in
            let data = directory + "/data"
            // Signed checkpoints every 60 s: a service that kept the shutdown waiting for its period would
            // take a minute to stop.
            let server = try ChildProcess([
                "serve", "--data", data, "--port", "0", "--log-format", "json", "--checkpoint-interval", "60s",
            ])
            let port = try await listeningPort(server)
            let health = try await httpGet(port: port, path: "/healthz")
            #expect(health.status == 200)
            let ready = try await httpGet(port: port, path: "/readyz")
            #expect(ready.status == 200)
            #expect(ready.body.contains("\"ready\""))
            #expect(try await httpGet(port: port, path: "/metrics").status == 401)
            let token = try await ChildProcess.run(["token", "--data", data, "--scope", "hubstore.admin"])
            #expect(token.status == 0)
            #expect(token.stdout.split(separator: "\n").count == 1)
            let metrics = try await httpGet(
                port: port,
                path: "/metrics",
                headers: ["Authorization": "Bearer " + token.stdout.trimmingCharacters(in: .whitespacesAndNewlines)]
            )
            #expect(metrics.status == 200)
            for name in ["hubstore_writer_queue_depth", "hubstore_sqlite_wal_size_bytes", "hubstore_log_head_position"]
            {
                #expect(metrics.body.contains(name), "missing \(name)")
            }
            // The effective configuration is logged at start, as JSON lines.
            let startLine = try #require(
                server.standardError.split(separator: "\n").first { $0.contains("hubstore starting") }
            )
            let start = try JSONSerialization.jsonObject(with: Data(startLine.utf8)) as? [String: Any]
            #expect(start?["synchronous"] as? String == "full")
            #expect(start?["data"] as? String == data)

            let stopping = ContinuousClock.now
            server.signal(SIGTERM)
            #expect(try await server.waitForExit() == 0)
            // No service keeps the shutdown waiting (the periodic ones end their wait at once): far less
            // than the signed checkpoints' interval, with room for a machine busy with the other tests.
            #expect(stopping.duration(to: .now) < .seconds(30), "\(server.standardError.suffix(3000))")
            #expect(server.standardError.contains("hubstore stopped"))
            // The WAL was checkpointed and truncated at close.
            let wal = (try? FileManager.default.attributesOfItem(atPath: data + "/hub.sqlite-wal")[.size] as? Int) ?? 0
            #expect(wal == 0)
        }
    }

    @Test func aSecondServeOnTheSameDataDirectoryRefusesToStart() async throws {
        try await withTemporaryDirectory { directory in
            let server = try ChildProcess(["serve", "--data", directory, "--port", "0"])
            _ = try await listeningPort(server)
            let second = try await ChildProcess.run(["serve", "--data", directory, "--port", "0"])
            #expect(second.status == 1)
            #expect(second.stderr.contains("is in use by another hubstore process (pid \(server.pid))"))
            server.signal(SIGINT)
            #expect(try await server.waitForExit() == 0)
            let verify = try await ChildProcess.run(["verify", "--data", directory])
            #expect(verify.status == 0)
            #expect(verify.stdout == "ok: the log is empty\n")
        }
    }

    /// The text format: a line per record, with the logger's metadata (set on every request's logger by
    /// the HTTP server) and the record's own, as `key=value` before the source.
    @Test func textLogsCarryTheLoggersAndTheRecordsMetadata() async throws {
        try await withTemporaryDirectory { directory in
            let server = try ChildProcess(["serve", "--data", directory, "--port", "0", "--log-level", "debug"])
            let port = try await listeningPort(server)
            #expect(try await httpGet(port: port, path: "/healthz").status == 200)
            try await server.waitFor("the request's record") { $0.standardError.contains("[Hummingbird] Request") }
            let lines = server.standardError.split(separator: "\n")
            let request = try #require(lines.first { $0.hasSuffix("[Hummingbird] Request") })
            #expect(
                request.contains(#/^\d{4}-\d\d-\d\dT\S+ debug hubstore: hb\.request\.id=[0-9a-f]+ /#)
                    && request.contains("hb.request.method=GET hb.request.path=/healthz"),
                "\(request)"
            )
            let starting = try #require(lines.first { $0.hasSuffix("[HubHTTP] hubstore starting") })
            #expect(starting.contains(" info hubstore: batch.max=1024 ") && starting.contains(" synchronous=full "))
            server.signal(SIGTERM)
            #expect(try await server.waitForExit() == 0)
        }
    }

    @Test func environmentVariablesConfigureServeAndFlagsWin() async throws {
        try await withTemporaryDirectory { directory in
            let server = try ChildProcess(
                ["serve", "--port", "0", "--log-format", "json"],
                environment: [
                    "HUBSTORE_DATA": directory + "/env", "HUBSTORE_SYNCHRONOUS": "normal", "HUBSTORE_PORT": "1",
                ]
            )
            _ = try await listeningPort(server)
            #expect(server.standardError.contains(#""synchronous":"normal""#))
            #expect(FileManager.default.fileExists(atPath: directory + "/env/hub.sqlite"))
            server.signal(SIGTERM)
            #expect(try await server.waitForExit() == 0)
        }
    }

    @Test(arguments: [
        (["serve", "--synchronous", "sometimes"], "sometimes"),
        (["serve", "--port", "70000"], "port must be between 0 and 65535"),
        (["serve", "--log-level", "loud"], "loud"),
        (["serve", "--delivery-batch", "26"], "delivery batch must be between 1 and 25"),
        (["serve", "--delivery-retries", "1s,soon"], "delivery retries must look like 1s,5s,30s,2m"),
        (["serve", "--asset-lifetime", "a day"], "asset lifetime must look like 24h, 90m or 30s"),
        (["serve", "--asset-lifetime", "0s"], "asset lifetime must look like 24h, 90m or 30s"),
        (["serve", "--asset-lifetime", "1e300s"], "asset lifetime must look like 24h, 90m or 30s"),
        (["serve", "--max-upload", "lots"], "max upload must look like 25MiB, 512KiB or 1048576"),
        (["serve", "--max-upload", "99999999999GiB"], "max upload must look like 25MiB, 512KiB or 1048576"),
        (["serve", "--max-upload", "0"], "max upload must look like 25MiB, 512KiB or 1048576"),
        (["token", "--scope", "hubstore.admin", "--lifetime", "9223372036854775807"], "--lifetime must be 1 to"),
        (["token", "--scope", "hubstore.admin", "--lifetime", "0"], "--lifetime must be 1 to"),
    ])
    func badFlagsGiveAClearMessage(_ arguments: [String], _ message: String) async throws {
        try await withTemporaryDirectory { directory in
            let result = try await ChildProcess.run(arguments + ["--data", directory])
            #expect(result.status != 0)
            #expect(result.stderr.contains(message))
            #expect(!result.stderr.contains("Fatal error"))
        }
    }

    @Test func badDataDirectoriesGiveAClearMessage() async throws {
        try await withTemporaryDirectory { directory in
            let file = directory + "/plain-file"
            try Data("x".utf8).write(to: URL(fileURLWithPath: file))
            let notADirectory = try await ChildProcess.run(["serve", "--data", file, "--port", "0"])
            #expect(notADirectory.status == 1)
            #expect(notADirectory.stderr.contains("exists but is not a directory"))
            let uncreatable = try await ChildProcess.run(["serve", "--data", file + "/below", "--port", "0"])
            #expect(uncreatable.status == 1)
            #expect(uncreatable.stderr.contains("cannot create data directory"))

            let corrupt = directory + "/corrupt"
            try FileManager.default.createDirectory(atPath: corrupt, withIntermediateDirectories: true)
            try Data(repeating: 0x5A, count: 8192).write(to: URL(fileURLWithPath: corrupt + "/hub.sqlite"))
            let result = try await ChildProcess.run(["serve", "--data", corrupt, "--port", "0"])
            #expect(result.status == 1)
            #expect(result.stderr.contains("is not a valid SQLite database"))
            #expect(!result.stderr.contains("Fatal error"))
            let verify = try await ChildProcess.run(["verify", "--data", corrupt])
            #expect(verify.status == 1)
            #expect(verify.stderr.contains("hubstore: error:"))
        }
    }
}

/// Waits for the server's "listening" log line and returns its port.
func listeningPort(_ server: ChildProcess) async throws -> Int {
    try await server.waitFor("the server to listen") { $0.standardError.contains("hubstore listening") }
    let line = try #require(server.standardError.split(separator: "\n").first { $0.contains("hubstore listening") })
    let address = try #require(line.firstMatch(of: /127\.0\.0\.1:(\d+)/))
    return try #require(Int(address.1))
}

/// One GET over a real socket.
func httpGet(port: Int, path: String, headers: [String: String] = [:]) async throws -> (status: Int, body: String) {
    try await httpRequest(port: port, path: path, headers: headers)
}

/// One request over a real socket.
func httpRequest(
    port: Int,
    path: String,
    method: String = "GET",
    headers: [String: String] = [:],
    body: String? = nil
) async throws -> (status: Int, body: String) {
    var request = URLRequest(url: try #require(URL(string: "http://127.0.0.1:\(port)\(path)")))
    request.httpMethod = method
    for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
    request.httpBody = body.map { Data($0.utf8) }
    let (data, response) = try await URLSession.shared.data(for: request)
    return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
}
