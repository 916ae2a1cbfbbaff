import ArgumentParser
import Foundation
import HubTools

extension HubStoreCommand {
    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-drive a fresh hub's Conversation Manager v3 API with what a log holds.",
            discussion: """
                Reads a data directory (while a server may run on it) or a whole-log export bundle, then \
                creates its configuration on the target in the documented setup order (authentications, \
                client applications, participants, channels, orchestrations, accounts), rewriting every \
                reference to the target's new ids, and sends each conversation's inbound messages in \
                their original order. It ends with a reconciliation report: counts and content digests \
                per resource kind and per conversation, read back through the target's API; any \
                difference exits with status 1.

                The checkpoint file records the id map and the progress: run the same command again \
                after a kill and it goes on where it stopped, creating nothing twice (messages keep \
                their messageId, the idempotency key). Sealed content and secrets are opened with the \
                source's master key (the directory's master.key, or --master-key-file); without it only \
                the configuration is replayed, and the resources whose secrets must be entered again are \
                named.

                --since and --until take a log position or an RFC 3339 time: conversations that started \
                from --since, and events up to --until.
                """
        )

        @Option(help: "The source: a data directory, or an export bundle (directory or .tar).")
        var from: String

        @Option(help: "The target hub's URL, e.g. http://127.0.0.1:8080.")
        var to: String

        @Option(help: "A bearer token for the target (scopes: manage, interaction.manage, and hubstore.query).")
        var token: String?

        @Option(help: "An API client's id: replay fetches (and refreshes) its tokens.")
        var clientId: String?

        @Option(help: "The API client's secret (or HUBSTORE_REPLAY_CLIENT_SECRET).")
        var clientSecret: String?

        @Option(help: "The token endpoint for --client-id (default: <to>/oauth2/token).")
        var tokenURL: String?

        @Option(help: "The source's master key file, when it is not the source directory's master.key.")
        var masterKeyFile: String?

        @Option(help: "Only this account (id or address): its conversations and the configuration it uses.")
        var account: String?

        @Option(help: "Only conversations that started here or later: a log position or an RFC 3339 time.")
        var since: String?

        @Option(help: "Only events up to here: a log position or an RFC 3339 time.")
        var until: String?

        @Flag(help: "Replay the configuration only, no conversations.")
        var configOnly = false

        @Option(help: "At most this many requests per second.")
        var rate: Double?

        @Option(help: "Send messages at their original pacing, this many times faster (2 = twice as fast).")
        var speed: Double?

        @Option(help: "Customers replayed at once.")
        var concurrency = 16

        @Option(help: "The checkpoint file (id map and progress) to resume from and record to.")
        var checkpoint = "hubstore-replay.checkpoint"

        @Flag(help: "Print the plan (what would be created, in what order) and send nothing.")
        var dryRun = false

        @Flag(help: "Print the summary and the reconciliation report as one JSON object.")
        var json = false

        func validate() throws {
            if !dryRun, token == nil, clientId == nil {
                throw ValidationError("give --token, or --client-id and --client-secret")
            }
            if let rate, !(0.001...1_000_000).contains(rate) {
                throw ValidationError("--rate must be between 0.001 and 1000000")
            }
            if let speed, !(0.001...1_000_000).contains(speed) {
                throw ValidationError("--speed must be between 0.001 and 1000000")
            }
            if concurrency < 1 { throw ValidationError("--concurrency must be at least 1") }
            for (name, text) in [("--since", since), ("--until", until)] {
                if let text, LogBound(parsing: text) == nil {
                    throw ValidationError("\(name) must be a log position or an RFC 3339 time, not '\(text)'")
                }
            }
        }

        func run() async throws {
            let filters = ReplayFilters(
                account: account,
                since: since.flatMap(LogBound.init(parsing:)),
                until: until.flatMap(LogBound.init(parsing:)),
                configOnly: configOnly
            )
            let source = ReplaySource(path: from, masterKeyFile: masterKeyFile)
            let clean = try await failingClearly {
                let reading = ProgressReporter(label: "read", total: nil)
                return try await source.withPlan(filters, progress: { reading.update($0) }) { loaded in
                    reading.finish(loaded.plan.lastPosition)
                    if dryRun {
                        let done = try? ReplayCheckpoint.State.read(checkpoint)
                        let lines = loaded.plan.describe(done: done ?? .init(), sealedSecrets: loaded.sealedSecrets)
                        for line in lines { print(line) }
                        return true
                    }
                    return try await replay(loaded)
                }
            }
            if !clean { throw ExitCode.failure }
        }

        private func credentials() throws -> ReplayCredentials {
            if let token { return .token(token) }
            guard let clientId,
                let secret = clientSecret ?? ProcessInfo.processInfo.environment["HUBSTORE_REPLAY_CLIENT_SECRET"]
            else { throw ValidationError("--client-id needs --client-secret (or HUBSTORE_REPLAY_CLIENT_SECRET)") }
            var root = to
            while root.hasSuffix("/") { root.removeLast() }
            if root.hasSuffix(ReplayClient.apiPath) { root.removeLast(ReplayClient.apiPath.count) }
            return .client(id: clientId, secret: secret, tokenURL: tokenURL ?? root + "/oauth2/token")
        }

        /// Replays, reconciles and prints; `true` when the report is clean.
        private func replay(_ loaded: ReplaySource.Loaded) async throws -> Bool {
            try await ReplayClient.with(
                target: to,
                credentials: try credentials(),
                rate: rate,
                connections: concurrency
            ) { client in
                // The checkpoint names the source by its absolute path, however it was given.
                let source = URL(fileURLWithPath: from).standardizedFileURL.path
                let checkpointFile = try ReplayCheckpoint(path: checkpoint, source: source, target: client.root)
                let sending = ProgressReporter(label: "replay", total: Int64(loaded.plan.messageCount))
                let replayer = Replayer(
                    loaded: loaded,
                    client: client,
                    checkpoint: checkpointFile,
                    options: .init(concurrency: concurrency, speed: speed),
                    say: { FileHandle.standardError.write(Data(($0 + "\n").utf8)) },
                    progress: { done, total in sending.update(done, total: total) }
                )
                let result = try await replayer.run()
                sending.finish(Int64(result.sentMessages))
                let reading = ProgressReporter(label: "reconcile", total: nil)
                let report = try await ReplayReconciliation(
                    plan: loaded.plan,
                    client: client,
                    result: result,
                    concurrency: concurrency
                ).run { done, total in reading.update(done, total: total) }
                try print(summary(loaded, result, report))
                return report.isClean && result.failures.isEmpty
            }
        }

        private func summary(
            _ loaded: ReplaySource.Loaded,
            _ result: Replayer.Result,
            _ report: ReplayReconciliation.Report
        ) throws -> String {
            let rate = Double(result.sentMessages) / max(result.seconds, 1e-9)
            if json {
                func line(_ line: ReplayReconciliation.Line) -> [String: Any] {
                    [
                        "name": line.name, "source_count": line.sourceCount, "target_count": line.targetCount,
                        "source_digest": line.sourceDigest, "target_digest": line.targetDigest,
                        "matches": line.matches,
                    ]
                }
                var object: [String: Any] = [
                    "created_resources": result.createdResources, "sent_messages": result.sentMessages,
                    "seconds": (result.seconds * 1000).rounded() / 1000, "messages_per_second": rate.rounded(),
                    "resources": report.resources.map(line), "differences": report.differences,
                    "failures": result.failures, "unverified": report.unverified,
                    "secrets_to_enter": result.secretsToEnter, "clean": report.isClean && result.failures.isEmpty,
                    "conversations_mapped": result.conversations.count,
                ]
                if let conversations = report.conversations { object["conversations"] = line(conversations) }
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                return String(decoding: data, as: UTF8.self)
            }
            var lines = [
                "replayed \(loaded.plan.resources.count) resources (\(result.createdResources) created now) and "
                    + "\(result.sentMessages) messages in \(String(format: "%.2f", result.seconds)) s "
                    + "(\(String(format: "%.0f", rate)) messages/s)",
                "reconciliation (source → target):",
            ]
            for line in report.resources + (report.conversations.map { [$0] } ?? []) {
                lines.append(
                    "  \(line.matches ? "ok  " : "DIFF") \(line.name): \(line.sourceCount) → \(line.targetCount), "
                        + "digest \(line.sourceDigest.prefix(16)) → \(line.targetDigest.prefix(16))"
                )
            }
            for (id, what) in report.differences.sorted(by: { $0.key < $1.key }).prefix(20) {
                lines.append("  conversation \(id): \(what)")
            }
            if report.differences.count > 20 { lines.append("  … and \(report.differences.count - 20) more") }
            if !report.unverified.isEmpty {
                lines.append(
                    "  \(report.unverified.count) active conversations could not be read back "
                        + "(the target shows only completed ones)"
                )
            }
            if !result.secretsToEnter.isEmpty {
                lines.append("the source's master key was not available; enter these secrets again on the target:")
                lines += result.secretsToEnter.map { "  \($0)" }
            }
            lines.append(report.isClean && result.failures.isEmpty ? "clean" : "DIFFERENCES: see above")
            return lines.joined(separator: "\n")
        }
    }
}
