import Crypto
import Foundation
import HubDomain
import HubVault
import NIOHTTP1
import Synchronization

/// The end of a replay: what the source holds against what the target shows through its API, per
/// resource kind and per conversation — counts and SHA-256 digests of the contents, ids mapped.
public struct ReplayReconciliation: Sendable {
    /// One comparison.
    public struct Line: Sendable, Equatable {
        public var name: String
        public var sourceCount: Int
        public var targetCount: Int
        public var sourceDigest: String
        public var targetDigest: String

        public var matches: Bool { sourceCount == targetCount && sourceDigest == targetDigest }
    }

    public struct Report: Sendable {
        /// One line per resource kind, in setup order.
        public var resources: [Line] = []
        /// All conversations together: their count, their messages, and a digest of their digests.
        public var conversations: Line?
        /// Conversations whose digests differ (source id → what differs).
        public var differences: [String: String] = [:]
        /// Conversations the target's API would not show (an active one, on a hub without HubStore's
        /// query API).
        public var unverified: [String] = []

        public var isClean: Bool { resources.allSatisfy(\.matches) && (conversations?.matches ?? true) }
    }

    let plan: ReplayPlan
    let client: ReplayClient
    let result: Replayer.Result
    let concurrency: Int

    public init(plan: ReplayPlan, client: ReplayClient, result: Replayer.Result, concurrency: Int = 16) {
        self.plan = plan
        self.client = client
        self.result = result
        self.concurrency = concurrency
    }

    public func run(progress: @escaping @Sendable (Int64, Int64) -> Void = { _, _ in }) async throws -> Report {
        var report = Report()
        for kind in ResourceKind.allCases {
            report.resources.append(try await resources(kind))
        }
        try await conversations(&report, progress: progress)
        return report
    }

    // MARK: - Configuration

    private func resources(_ kind: ResourceKind) async throws -> Line {
        var source: [String] = []
        for resource in plan.resources where resource.kind == kind {
            guard let id = result.ids[kind]?[resource.id] else { continue }
            let body = try Replayer.body(of: resource, ids: result.ids)
            source.append(id + " " + Self.masked(body, kind).text)
        }
        var target: [String] = []
        for page in 1... {
            let answer = try await client.call(
                .GET,
                "\(ReplayClient.apiPath)/\(kind.pathSegment)?$pagenum=\(page)&$pagesize=75"
            )
            guard answer.status == 200 else {
                throw ReplayError("reading back \(kind.pathSegment): HTTP \(answer.status) \(answer.code ?? "")")
            }
            let items = answer.body[kind.itemName]?.arrayValue ?? []
            if items.isEmpty { break }
            for case .object(var fields) in items {
                let id = fields["id"]?.stringValue ?? ""
                for key in ["id", "created", "modified"] { fields[key] = nil }
                target.append(id + " " + Self.masked(.object(fields), kind).text)
            }
        }
        return Line(
            name: kind.pathSegment,
            sourceCount: source.count,
            targetCount: target.count,
            sourceDigest: Self.digest(source.sorted()),
            targetDigest: Self.digest(target.sorted())
        )
    }

    /// Secrets as reads show them, whatever they were.
    private static func masked(_ document: JSONValue, _ kind: ResourceKind) -> JSONValue {
        document.mappingStrings(at: kind.schema.secretPaths) { _, _ in .string(SecretVault.mask) }
    }

    // MARK: - Conversations

    private func conversations(
        _ report: inout Report,
        progress: @escaping @Sendable (Int64, Int64) -> Void
    ) async throws {
        let replayed = plan.conversations.filter { result.conversations[$0.id] != nil }
        guard !plan.conversations.isEmpty else { return }
        let found = Mutex<[String: TargetView]>([:])
        let done = Atomic<Int64>(0)
        try await forEachConcurrently(replayed, workers: concurrency) { conversation in
            let view = try await read(result.conversations[conversation.id]!)
            found.withLock { $0[conversation.id] = view }
            progress(done.add(1, ordering: .relaxed).newValue, Int64(replayed.count))
        }
        let views = found.withLock { $0 }
        var sourceDigests: [String] = []
        var targetDigests: [String] = []
        var sourceMessages = 0
        var targetMessages = 0
        for conversation in plan.conversations {
            let lines = sourceLines(conversation)
            sourceMessages += lines.count
            sourceDigests.append(conversation.id + " " + Self.digest(lines))
            switch views[conversation.id] {
            case .lines(let target)?:
                targetMessages += target.count
                targetDigests.append(conversation.id + " " + Self.digest(target))
                if target != lines {
                    report.differences[conversation.id] =
                        "source \(lines.count) messages, target \(target.count) (\(result.conversations[conversation.id]!))"
                        + (Self.firstDifference(lines, target).map { ": first difference at message \($0 + 1)" } ?? "")
                }
            case .unreadable?:
                // Counted as the source's: the target cannot say.
                report.unverified.append(conversation.id)
                targetMessages += lines.count
                targetDigests.append(conversation.id + " " + Self.digest(lines))
            case nil:
                report.differences[conversation.id] =
                    result.failures[conversation.id] ?? "not replayed (no conversation on the target)"
            }
        }
        report.conversations = Line(
            name: "conversations (\(plan.conversations.count); messages \(sourceMessages) → \(targetMessages))",
            sourceCount: plan.conversations.count,
            targetCount: views.count,
            sourceDigest: Self.digest(sourceDigests),
            targetDigest: Self.digest(targetDigests)
        )
    }

    private static func firstDifference(_ left: [String], _ right: [String]) -> Int? {
        (0..<max(left.count, right.count)).first { index in
            index >= left.count || index >= right.count || left[index] != right[index]
        }
    }

    /// What the target shows of a conversation.
    enum TargetView: Sendable {
        case lines([String])
        /// Active, on a hub whose only reading is `GET /conversations/{id}` (completed ones).
        case unreadable
    }

    /// The target's transcript: HubStore's query API, else the Conversation Manager's document.
    private func read(_ id: String) async throws -> TargetView {
        let transcript = try await client.call(.GET, "/v1/conversations/\(id)/transcript")
        if transcript.status == 200, let messages = transcript.body["messages"]?.arrayValue {
            return .lines(Self.targetLines(messages))
        }
        let document = try await client.call(.GET, "\(ReplayClient.apiPath)/conversations/\(id)")
        if document.status == 200 {
            return .lines(Self.targetLines(document.body.value(at: "messages")?["message"]?.arrayValue ?? []))
        }
        if document.status == 404, document.code == "404-102" { return .unreadable }
        throw ReplayError("reading back conversation \(id): HTTP \(document.status) \(document.code ?? "")")
    }

    /// The transcript lines a client sent (the hub's own `system` messages left out).
    private static func targetLines(_ messages: [JSONValue]) -> [String] {
        messages.compactMap { message in
            let sender = message.value(at: "sender.type")?.stringValue ?? ""
            guard sender != "system" else { return nil }
            return line(
                messageId: message["messageId"]?.stringValue ?? "",
                type: message.value(at: "type.value")?.stringValue ?? "",
                sender: sender,
                content: message["content"] ?? .null
            )
        }
    }

    /// The source's lines as a transcript shows them: typing events, hidden and erased messages left
    /// out, a redacted text as `*****`, attachments under the target's ids.
    private func sourceLines(_ conversation: ReplayPlan.Conversation) -> [String] {
        conversation.messages.compactMap { message in
            guard ConversationRules.isTranscriptLine(message.type), !message.hidden, !message.erased else { return nil }
            var content = message.content.flatMap { try? JSONValue.parse($0) } ?? .null
            if content["redact"] == .bool(true), case .object(var fields) = content, fields["text"] != nil {
                fields["text"] = "*****"
                content = .object(fields)
            }
            content = content.mappingStrings(at: ["attachments.attachment[].id"]) { value, _ in
                .string(result.assets[value] ?? value)
            }
            return Self.line(
                messageId: message.messageId,
                type: message.type,
                sender: message.senderType,
                content: content
            )
        }
    }

    private static func line(messageId: String, type: String, sender: String, content: JSONValue) -> String {
        "\(messageId) \(type) \(sender) \(content.text)"
    }

    static func digest(_ lines: [String]) -> String {
        var hash = SHA256()
        for line in lines {
            hash.update(data: Array(line.utf8))
            hash.update(data: [0x0A])
        }
        return hash.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
