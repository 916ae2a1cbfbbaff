import Foundation
import HubDomain
import HubEventLog
import HubSQLite
import HubTestSupport
import HubTools
import HubVault
import Testing

/// `hubstore replay` as an operator runs it: the built binary against a second, fresh `hubstore serve`
/// on loopback.
@Suite(.timeLimit(.minutes(5)))
struct ReplayCommandTests {
    static let api = "/conversation/conversationmgr/v3"

    /// A server on `data` and a token with every scope.
    static func serve(_ data: String) async throws -> (server: ChildProcess, port: Int, token: String) {
        let server = try ChildProcess(["serve", "--data", data, "--port", "0"])
        let port = try await listeningPort(server)
        let token = try await ChildProcess.run(["token", "--data", data, "--scope", ".default"])
        return (server, port, token.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Every resource of a kind, as `GET /<kind>` shows it, without its times.
    static func documents(_ kind: ResourceKind, port: Int, token: String) async throws -> [JSONValue] {
        let (status, text) = try await httpGet(
            port: port,
            path: "\(api)/\(kind.pathSegment)?$pagesize=75",
            headers: ["Authorization": "Bearer " + token]
        )
        #expect(status == 200, "\(text)")
        return try JSONValue.parse(text)[kind.itemName]?.arrayValue?.map { item in
            guard case .object(var fields) = item else { return item }
            fields["created"] = nil
            fields["modified"] = nil
            return .object(fields)
        } ?? []
    }

    /// The checkpoint's id map: source id → target id, every kind together.
    static func idMap(_ checkpoint: String) throws -> [String: String] {
        let text = String(decoding: try #require(FileManager.default.contents(atPath: checkpoint)), as: UTF8.self)
        var map: [String: String] = [:]
        for line in text.split(separator: "\n").dropFirst() {
            let value = try JSONValue.parse(String(line))
            if value["kind"] != nil, let from = value["from"]?.stringValue, let to = value["to"]?.stringValue {
                map[from] = to
            }
        }
        return map
    }

    /// The basic-auth password of the one authentication in `data`, opened with its master key.
    static func password(in data: String) throws -> String {
        let connection = try Connection(
            path: DataDirectory(path: data).databasePath,
            configuration: .init(mode: .readOnly)
        )
        defer { connection.close() }
        let statement = try connection.prepare(
            sql: "SELECT id, state FROM config_resources WHERE kind = 'authentication'"
        )
        #expect(try statement.step())
        let sealed = try #require(
            try JSONValue.parse(statement.text(at: 1)).value(at: "basicAuth.password")?.stringValue
        )
        let vault = SecretVault(masterKey: try MasterKey.load(directory: DataDirectory(path: data)))
        return try vault.open(sealed, record: "authentication/\(statement.text(at: 0))", connection)
    }

    static func replay(
        _ source: String,
        port: Int,
        token: String,
        checkpoint: String,
        _ extra: [String] = []
    ) -> [String] {
        ["replay", "--from", source, "--to", "http://127.0.0.1:\(port)", "--token", token, "--checkpoint", checkpoint]
            + extra
    }

    @Test func aReplayOfTheFixtureIsCleanAndTheTargetsConfigurationIsTheSourcesWithIdsMapped() async throws {
        try await withTemporaryDirectory { directory in
            let source = directory + "/source"
            try ExportImportCommandTests.copyFixture(to: source)
            let (target, port, token) = try await Self.serve(directory + "/target")
            let checkpoint = directory + "/replay.checkpoint"

            let plan = try await ChildProcess.run(
                Self.replay(source, port: port, token: token, checkpoint: checkpoint, ["--dry-run"])
            )
            #expect(plan.status == 0, "\(plan.stderr)")
            #expect(plan.stdout.contains("1. POST /authentications demo_basic"), "\(plan.stdout)")
            #expect(plan.stdout.contains("8. POST /accounts demo_account"), "\(plan.stdout)")
            #expect(plan.stdout.contains("15 messages of 2 conversations"), "\(plan.stdout)")
            #expect(!FileManager.default.fileExists(atPath: checkpoint), "a dry run sends and records nothing")

            let run = try await ChildProcess.run(Self.replay(source, port: port, token: token, checkpoint: checkpoint))
            #expect(run.status == 0, "\(run.stdout) \(run.stderr)")
            #expect(run.stdout.contains("replayed 8 resources (8 created now) and 15 messages"), "\(run.stdout)")
            #expect(run.stdout.contains("ok   conversations (2; messages 13 → 13)"), "\(run.stdout)")
            #expect(run.stdout.hasSuffix("clean\n"), "\(run.stdout)")
            #expect(run.stderr.contains("replay: 15/15 (100%)"), "\(run.stderr)")

            // The source's documents, every id replaced by the target's, are the target's.
            let (sourceServer, sourcePort, sourceToken) = try await Self.serve(source)
            let map = try Self.idMap(checkpoint)
            #expect(map.count == 8)
            for kind in ResourceKind.allCases {
                let expected = try await Self.documents(kind, port: sourcePort, token: sourceToken).map { document in
                    var text = document.text
                    for (from, to) in map { text = text.replacingOccurrences(of: from, with: to) }
                    return text
                }
                let actual = try await Self.documents(kind, port: port, token: token).map(\.text)
                #expect(Set(actual) == Set(expected), "\(kind)")
                #expect(actual.count == expected.count)
            }
            sourceServer.signal(SIGTERM)
            _ = try await sourceServer.waitForExit()
            // The secret itself was replayed (it reads back masked): the target's sealed copy opens to it.
            let password = try Self.password(in: source)
            #expect(!password.isEmpty && !password.hasPrefix("$sealed") && password != Replayer.secretPlaceholder)
            #expect(try Self.password(in: directory + "/target") == password)

            // Run again: everything is done already, nothing is created twice.
            let again = try await ChildProcess.run(
                Self.replay(source, port: port, token: token, checkpoint: checkpoint)
            )
            #expect(again.status == 0, "\(again.stdout) \(again.stderr)")
            #expect(again.stdout.contains("(0 created now) and 0 messages"), "\(again.stdout)")

            // A checkpoint that lost the lines of resources and conversations it created (killed before it
            // recorded them): the resources the target has are found by name, and the messages are sent
            // again under their idempotency keys. (An asset is recorded before the message that attaches it
            // is sent, so its line is kept.)
            let lines = String(decoding: FileManager.default.contents(atPath: checkpoint)!, as: UTF8.self)
                .split(separator: "\n")
            let kept = lines.prefix(4) + lines.filter { $0.hasPrefix(#"{"asset""#) }
            try (kept.joined(separator: "\n") + "\n").write(toFile: checkpoint, atomically: true, encoding: .utf8)
            let resumed = try await ChildProcess.run(
                Self.replay(source, port: port, token: token, checkpoint: checkpoint)
            )
            #expect(resumed.status == 0, "\(resumed.stdout) \(resumed.stderr)")
            #expect(resumed.stdout.contains("(0 created now)"), "\(resumed.stdout)")
            #expect(resumed.stdout.hasSuffix("clean\n"), "\(resumed.stdout)")
            for kind in ResourceKind.allCases {
                #expect(
                    try await Self.documents(kind, port: port, token: token).count
                        == (kind == .clientApplication ? 3 : 1)
                )
            }

            // A fresh hub is required when there is no checkpoint.
            let other = try await ChildProcess.run(
                Self.replay(source, port: port, token: token, checkpoint: directory + "/other.checkpoint")
            )
            #expect(other.status == 1)
            #expect(other.stderr.contains("the target already has authentications"), "\(other.stderr)")
            target.signal(SIGTERM)
            #expect(try await target.waitForExit() == 0)
        }
    }

    @Test func aBundleWithoutItsMasterKeyReplaysTheConfigurationAndNamesTheSecretsToEnterAgain() async throws {
        try await withTemporaryDirectory { directory in
            let source = directory + "/source"
            try ExportImportCommandTests.copyFixture(to: source)
            let export = try await ChildProcess.run(["export", "--data", source, "--out", directory + "/bundle.tar"])
            #expect(export.status == 0, "\(export.stderr)")
            let (target, port, token) = try await Self.serve(directory + "/target")
            let bundle = directory + "/bundle.tar"
            let checkpoint = directory + "/replay.checkpoint"
            let sealed = try await ChildProcess.run(
                Self.replay(bundle, port: port, token: token, checkpoint: checkpoint)
            )
            #expect(sealed.status == 1)
            #expect(sealed.stderr.contains("pass --master-key-file, or --config-only"), "\(sealed.stderr)")

            let config = try await ChildProcess.run(
                Self.replay(bundle, port: port, token: token, checkpoint: checkpoint, ["--config-only"])
            )
            #expect(config.status == 0, "\(config.stdout) \(config.stderr)")
            #expect(config.stdout.contains("enter these secrets again"), "\(config.stdout)")
            #expect(config.stdout.contains("Authentication demo_basic ("), "\(config.stdout)")
            #expect(!config.stdout.contains("conversations ("), "\(config.stdout)")

            // With the key, the same checkpoint goes on with the conversations.
            let full = try await ChildProcess.run(
                Self.replay(
                    bundle,
                    port: port,
                    token: token,
                    checkpoint: checkpoint,
                    ["--master-key-file", source + "/master.key", "--json"]
                )
            )
            #expect(full.status == 0, "\(full.stdout) \(full.stderr)")
            let summary = try JSONValue.parse(full.stdout)
            #expect(summary["clean"] == .bool(true))
            #expect(summary["sent_messages"] == .integer(15))
            #expect(summary["created_resources"] == .integer(0))
            target.signal(SIGTERM)
            _ = try await target.waitForExit()
        }
    }

    @Test func aReplayKilledHalfWayAndRunAgainCompletesWithNoDuplicates() async throws {
        try await withTemporaryDirectory { directory in
            let source = directory + "/source"
            let demo = try await ChildProcess.run(["demo", "--data", source])
            #expect(demo.status == 0, "\(demo.stderr)")
            // 40 more customers, 8 messages each, on the demo's account.
            let (sourceServer, sourcePort, sourceToken) = try await Self.serve(source)
            for customer in 1...40 {
                let messages = (1...8).map { index in
                    """
                    {"messageId": "c\(customer)-\(index)", "type": {"value": "text"},
                     "content": {"text": "message \(index) of customer \(customer)"}, "sender": {"type": "customer"},
                     "conversation": {"account": {"address": "1000", "channel": {"type": "web_chat"}},
                       "customer": {"name": "Customer \(customer)", "contacts": {"contact": [
                         {"type": "email", "address": "c\(customer)@example.com"}]}}}}
                    """
                }
                let (status, text) = try await httpRequest(
                    port: sourcePort,
                    path: "\(Self.api)/conversations/messages",
                    method: "POST",
                    headers: ["Authorization": "Bearer " + sourceToken, "Content-Type": "application/json"],
                    body: #"{"messages": {"message": [\#(messages.joined(separator: ","))]}}"#
                )
                #expect(status == 202, "\(text)")
            }
            sourceServer.signal(SIGTERM)
            _ = try await sourceServer.waitForExit()

            let (target, port, token) = try await Self.serve(directory + "/target")
            let checkpoint = directory + "/replay.checkpoint"
            // Slowed down, and killed once a few conversations are recorded.
            let first = try ChildProcess(
                Self.replay(
                    source,
                    port: port,
                    token: token,
                    checkpoint: checkpoint,
                    ["--rate", "30", "--concurrency", "4"]
                )
            )
            try await first.waitFor(timeout: .seconds(60), "a few conversations in the checkpoint") { _ in
                let text = FileManager.default.contents(atPath: checkpoint).map { String(decoding: $0, as: UTF8.self) }
                return (text?.components(separatedBy: "\"conversation\"").count ?? 0) > 8
            }
            first.signal(SIGKILL)
            _ = try await first.waitForExit()

            let second = try await ChildProcess.run(
                Self.replay(source, port: port, token: token, checkpoint: checkpoint)
            )
            #expect(second.status == 0, "\(second.stdout) \(second.stderr)")
            #expect(second.stdout.contains("ok   conversations (41; messages 327 → 327)"), "\(second.stdout)")
            #expect(second.stdout.contains("(0 created now)"), "\(second.stdout)")
            // The target has each conversation once, and each message once.
            let (status, text) = try await httpGet(
                port: port,
                path: "/v1/conversations?limit=100",
                headers: ["Authorization": "Bearer " + token]
            )
            #expect(status == 200, "\(text)")
            let conversations = try JSONValue.parse(text)["conversations"]?.arrayValue ?? []
            #expect(conversations.count == 41, "\(text.prefix(300))")
            target.signal(SIGTERM)
            #expect(try await target.waitForExit() == 0)
        }
    }

    @Test(arguments: [
        // The fixture's messages span 22.1 s: ten times faster is 2.2 s.
        (["--speed", "10"], 2.0),
        // 6 lists (is the target fresh?), 8 creations, then the messages: at least 18 requests.
        (["--rate", "10"], 1.7),
    ])
    func pacingOptionsSlowTheReplayDown(_ options: [String], _ atLeastSeconds: Double) async throws {
        try await withTemporaryDirectory { directory in
            let source = directory + "/source"
            try ExportImportCommandTests.copyFixture(to: source)
            let (target, port, token) = try await Self.serve(directory + "/target")
            let run = try await ChildProcess.run(
                Self.replay(
                    source,
                    port: port,
                    token: token,
                    checkpoint: directory + "/checkpoint",
                    options + ["--json"]
                )
            )
            #expect(run.status == 0, "\(run.stdout) \(run.stderr)")
            let summary = try JSONValue.parse(run.stdout)
            #expect(summary["clean"] == .bool(true))
            let seconds: Double? =
                switch summary["seconds"] {
                case .double(let value)?: value
                case .integer(let value)?: Double(value)
                default: nil
                }
            #expect((seconds ?? 0) >= atLeastSeconds, "\(run.stdout)")
            target.signal(SIGTERM)
            _ = try await target.waitForExit()
        }
    }

    @Test func replayFetchesItsOwnTokensWithClientCredentials() async throws {
        try await withTemporaryDirectory { directory in
            let source = directory + "/source"
            try ExportImportCommandTests.copyFixture(to: source)
            let data = directory + "/target"
            let client = try await ChildProcess.run([
                "clients", "create", "--data", data, "--name", "replay", "--scope",
                "app.conversation.conversationmgr.manage app.conversation.conversationmgr.interaction.manage hubstore.query",
            ])
            #expect(client.status == 0, "\(client.stderr)")
            func field(_ name: String) -> String {
                client.stdout.split(separator: "\n").first { $0.hasPrefix(name + ": ") }.map {
                    String($0.dropFirst(name.count + 2))
                } ?? ""
            }
            let (target, port, _) = try await Self.serve(data)
            let base = [
                "replay", "--from", source, "--to", "http://127.0.0.1:\(port)/", "--client-id", field("client_id"),
            ]
            let refused = try await ChildProcess.run(
                base + ["--client-secret", "not-the-secret", "--checkpoint", directory + "/checkpoint"]
            )
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("/oauth2/token failed: client authentication failed"), "\(refused.stderr)")
            // The secret from the environment, as scripts keep it out of the process list.
            let run = try await ChildProcess.run(
                base + ["--checkpoint", directory + "/checkpoint"],
                environment: ["HUBSTORE_REPLAY_CLIENT_SECRET": field("client_secret")]
            )
            #expect(run.status == 0, "\(run.stdout) \(run.stderr)")
            #expect(run.stdout.hasSuffix("clean\n"), "\(run.stdout)")
            target.signal(SIGTERM)
            _ = try await target.waitForExit()
        }
    }
}
