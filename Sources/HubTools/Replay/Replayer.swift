import Foundation
public import HubDomain
import HubVault
import NIOHTTP1
import Synchronization

/// `hubstore replay`: re-drives the Conversation Manager v3 API of a fresh hub with what a source log
/// holds — the configuration in setup order, then every conversation's inbound messages in their
/// order — keeping an old→new id map and rewriting every reference (DESIGN.md §9).
///
/// Conversations of different customers go out concurrently; a customer's conversations one after
/// another (the target would otherwise continue the earlier one). After a conversation's first
/// message, its next messages go in requests of up to 25, as a client may send them.
public struct Replayer: Sendable {
    public struct Options: Sendable {
        /// Customers replayed at once.
        public var concurrency = 16
        /// The original pacing sped up this many times; `nil` sends as fast as the target takes it.
        public var speed: Double?

        public init(concurrency: Int = 16, speed: Double? = nil) {
            self.concurrency = concurrency
            self.speed = speed
        }
    }

    /// What a run did, and the id map it ends with (this run's and earlier runs').
    public struct Result: Sendable {
        public var ids: [ResourceKind: [String: String]]
        public var assets: [String: String]
        /// By the source's conversation id: the target's id.
        public var conversations: [String: String]
        public var createdResources = 0
        public var sentMessages = 0
        /// Conversations the target turned down, with the reason; their messages stop there.
        public var failures: [String: String] = [:]
        /// `<Kind> <name> (<new id>)` of the resources whose secrets must be entered again.
        public var secretsToEnter: [String] = []
        public var seconds = 0.0
    }

    /// What a resource whose secret could not be opened gets instead.
    public static let secretPlaceholder = "replay-secret-to-enter-again"

    let loaded: ReplaySource.Loaded
    let client: ReplayClient
    let checkpoint: ReplayCheckpoint
    let options: Options
    let say: @Sendable (String) -> Void
    let progress: @Sendable (Int64, Int64) -> Void

    public init(
        loaded: ReplaySource.Loaded,
        client: ReplayClient,
        checkpoint: ReplayCheckpoint,
        options: Options,
        say: @escaping @Sendable (String) -> Void,
        progress: @escaping @Sendable (Int64, Int64) -> Void
    ) {
        self.loaded = loaded
        self.client = client
        self.checkpoint = checkpoint
        self.options = options
        self.say = say
        self.progress = progress
    }

    var plan: ReplayPlan { loaded.plan }

    public func run() async throws -> Result {
        let clock = ContinuousClock()
        let started = clock.now
        if !plan.conversations.isEmpty, !loaded.hasMasterKey {
            throw ReplayError(
                "the messages are sealed and the source's master key is not available: "
                    + "pass --master-key-file, or --config-only"
            )
        }
        let initial = checkpoint.initial
        if initial.isEmpty { try await requireFreshTarget() }
        var result = Result(
            ids: initial.ids,
            assets: initial.assets,
            conversations: initial.conversations.mapValues(\.to)
        )
        try await configure(&result)
        try await converse(&result)
        result.seconds = AppendBenchmark.seconds(started.duration(to: clock.now))
        return result
    }

    // MARK: - Configuration

    /// Replay starts on a hub with no configuration (a checkpoint's target is not fresh any more).
    private func requireFreshTarget() async throws {
        for kind in ResourceKind.allCases {
            let answer = try await client.call(.GET, "\(ReplayClient.apiPath)/\(kind.pathSegment)?$pagesize=1")
            guard answer.status == 200 else { throw failure("listing \(kind.pathSegment)", answer) }
            if let items = answer.body[kind.itemName]?.arrayValue, !items.isEmpty {
                throw ReplayError(
                    "the target already has \(kind.pathSegment): replay needs a fresh hub "
                        + "(or the checkpoint of the replay that configured it)"
                )
            }
        }
    }

    private func configure(_ result: inout Result) async throws {
        for resource in plan.resources {
            let kind = resource.kind
            let name = resource.state[kind.uniqueField]?.stringValue ?? resource.id
            let sealed = loaded.sealedSecrets.contains("\(kind.itemName)/\(resource.id)")
            if let existing = result.ids[kind]?[resource.id] {
                if sealed { result.secretsToEnter.append("\(kind.displayName) \(name) (\(existing))") }
                continue
            }
            let body = try Self.body(of: resource, ids: result.ids)
            let answer = try await client.call(.POST, "\(ReplayClient.apiPath)/\(kind.pathSegment)", json: body)
            let id: String
            if answer.status == 201, let created = answer.body["id"]?.stringValue {
                id = created
                result.createdResources += 1
            } else if answer.status == 400, answer.code == "400-144",
                let found = try await find(kind, unique: body[kind.uniqueField]?.stringValue ?? "")
            {
                // Created by a run killed before it could record the id.
                id = found
            } else {
                throw failure("creating \(kind.displayName) \(name)", answer)
            }
            result.ids[kind, default: [:]][resource.id] = id
            try checkpoint.recordResource(kind, from: resource.id, to: id)
            if sealed { result.secretsToEnter.append("\(kind.displayName) \(name) (\(id))") }
        }
    }

    /// The create body: the stored state without what the hub sets, references mapped to the target's
    /// ids, secrets that stayed sealed replaced by a placeholder.
    public static func body(of resource: ReplayPlan.Resource, ids: [ResourceKind: [String: String]]) throws -> JSONValue
    {
        guard case .object(var fields) = resource.state else { throw ReplayError("\(resource.id) is not an object") }
        for key in ["id", "created", "modified"] { fields[key] = nil }
        var body = JSONValue.object(fields)
        for (path, target) in resource.kind.references {
            body = try body.mappingStrings(at: [path]) { value, _ in
                guard let mapped = ids[target]?[value] else {
                    throw ReplayError(
                        "\(resource.kind.displayName) \(resource.id) refers to \(target.displayName) \(value), "
                            + "which is not replayed"
                    )
                }
                return .string(mapped)
            }
        }
        return body.mappingStrings(at: resource.kind.schema.secretPaths) { value, _ in
            .string(SecretVault.isSealed(value) ? secretPlaceholder : value)
        }
    }

    /// The id of the resource of `kind` whose unique field is `unique` (case-insensitively).
    private func find(_ kind: ResourceKind, unique: String) async throws -> String? {
        for page in 1... {
            let answer = try await client.call(
                .GET,
                "\(ReplayClient.apiPath)/\(kind.pathSegment)?$pagenum=\(page)&$pagesize=75"
            )
            guard answer.status == 200 else { throw failure("listing \(kind.pathSegment)", answer) }
            let items = answer.body[kind.itemName]?.arrayValue ?? []
            if items.isEmpty { return nil }
            if let match = items.first(where: {
                $0[kind.uniqueField]?.stringValue?.lowercased() == unique.lowercased()
            }) {
                return match["id"]?.stringValue
            }
        }
        return nil
    }

    // MARK: - Conversations

    private func converse(_ result: inout Result) async throws {
        // A customer's conversations in order, by one worker; customers in the order they first came.
        var grouped: [[ReplayPlan.Conversation]] = []
        var groupOf: [String: Int] = [:]
        for conversation in plan.conversations {
            if let index = groupOf[conversation.customer] {
                grouped[index].append(conversation)
            } else {
                groupOf[conversation.customer] = grouped.count
                grouped.append([conversation])
            }
        }
        let groups = grouped
        let total = Int64(plan.messageCount)
        let shared = Shared(
            initial: checkpoint.initial,
            assets: result.assets,
            alreadySent: Int64(
                plan.conversations.reduce(0) { $0 + (checkpoint.initial.conversations[$1.id]?.sent ?? 0) }
            )
        )
        let pace = options.speed.map { speed in
            Pacing(
                started: .now,
                firstMessageAt: plan.conversations.first?.messages.first?.recordedAt ?? 0,
                speed: speed
            )
        }
        try await forEachConcurrently(groups, workers: options.concurrency) { conversations in
            for conversation in conversations {
                try await replay(conversation, shared, pace: pace)
                // This run's share: what an earlier run sent is not counted in its rate.
                progress(shared.sent.load(ordering: .relaxed) - shared.alreadySent, total - shared.alreadySent)
            }
        }
        result.sentMessages = Int(shared.sent.load(ordering: .relaxed) - shared.alreadySent)
        result.assets = shared.assets.withLock { $0 }
        result.failures = shared.failures.withLock { $0 }
        result.conversations.merge(shared.conversations.withLock { $0 }) { _, new in new }
    }

    /// `--speed`: a message is due at its original offset from the first one, divided by the speed.
    struct Pacing: Sendable {
        var started: ContinuousClock.Instant
        var firstMessageAt: Int64
        var speed: Double

        func due(_ recordedAt: Int64) -> ContinuousClock.Instant {
            // At most a year ahead: a slow speed over a long log stays a number of milliseconds.
            let offset = min(max(Double(recordedAt - firstMessageAt) / speed, 0), 365 * 86_400_000)
            return started + .milliseconds(Int64(offset))
        }
    }

    /// What the workers share.
    final class Shared: Sendable {
        let initial: ReplayCheckpoint.State
        let alreadySent: Int64
        let sent: Atomic<Int64>
        let assets: Mutex<[String: String]>
        let conversations = Mutex<[String: String]>([:])
        let failures = Mutex<[String: String]>([:])

        init(initial: ReplayCheckpoint.State, assets: [String: String], alreadySent: Int64) {
            self.initial = initial
            self.alreadySent = alreadySent
            self.sent = Atomic(alreadySent)
            self.assets = Mutex(assets)
        }
    }

    /// Sends a conversation's messages from where an earlier run stopped.
    private func replay(
        _ conversation: ReplayPlan.Conversation,
        _ shared: Shared,
        pace: Pacing?
    ) async throws {
        let messages = conversation.messages
        var target = shared.initial.conversations[conversation.id]?.to
        var index = target == nil ? 0 : shared.initial.conversations[conversation.id]?.sent ?? 0
        while index < messages.count {
            // The first message opens the conversation alone; then up to 25 at once, sharing their
            // request's attributes (one at a time when paced).
            var batch = [messages[index]]
            if target != nil, pace == nil {
                while batch.count < 25, index + batch.count < messages.count,
                    messages[index + batch.count].attributes == batch[0].attributes
                {
                    batch.append(messages[index + batch.count])
                }
            }
            if let pace { try await Task.sleep(until: pace.due(batch[0].recordedAt), clock: .continuous) }
            var items: [JSONValue] = []
            for message in batch {
                items.append(try await request(message, of: conversation, target: target, shared))
            }
            var body: [String: JSONValue] = ["messages": .object(["message": .array(items)])]
            if let attributes = batch[0].attributes { body["metadata"] = .object(["attributes": attributes]) }
            let answer = try await client.call(
                .POST,
                "\(ReplayClient.apiPath)/conversations/messages",
                json: .object(body)
            )
            guard answer.status == 202 else {
                guard answer.status == 400 || answer.status == 403 else {
                    throw failure("sending message \(batch[0].messageId) of conversation \(conversation.id)", answer)
                }
                let reason =
                    "message \(batch[0].messageId): HTTP \(answer.status) \(answer.code ?? "") "
                    + (answer.body["developerMessage"]?.stringValue ?? answer.text)
                shared.failures.withLock { $0[conversation.id] = reason }
                return
            }
            if target == nil {
                let first = answer.body.value(at: "messages")?["message"]?.arrayValue?.first
                guard let id = first?.value(at: "conversation.id")?.stringValue else {
                    throw ReplayError("the target's answer names no conversation: \(answer.text)")
                }
                target = id
                shared.conversations.withLock { $0[conversation.id] = id }
            }
            index += batch.count
            shared.sent.add(Int64(batch.count), ordering: .relaxed)
            try checkpoint.recordConversation(from: conversation.id, to: target!, sent: index)
        }
        if let target { shared.conversations.withLock { $0[conversation.id] = target } }
    }

    /// One `messages.message[]` item: the message as its sender sent it, the conversation named by
    /// its id on the target (or, for the first message, by account and customer), assets mapped.
    private func request(
        _ message: ReplayPlan.Message,
        of conversation: ReplayPlan.Conversation,
        target: String?,
        _ shared: Shared
    ) async throws -> JSONValue {
        var content = try message.content.map { try JSONValue.parse($0) } ?? .object(["text": "[erased]"])
        if !content.strings(at: "attachments.attachment[].id").isEmpty {
            content = try await mappingAttachments(content, conversation, shared)
        }
        var fields: [String: JSONValue] = [
            "messageId": .string(message.messageId), "type": .object(["value": .string(message.type)]),
            "sender": message.sender, "content": content,
        ]
        if let created = message.created { fields["created"] = .string(created) }
        if let target {
            fields["conversation"] = .object(["id": .string(target)])
        } else {
            guard let identity = conversation.identity, let customer = try? JSONValue.parse(identity) else {
                throw ReplayError("the customer of conversation \(conversation.id) cannot be opened: its key is gone")
            }
            var opening: [String: JSONValue] = [
                "account": .object([
                    "address": .string(conversation.accountAddress),
                    "channel": .object(["type": .string(conversation.channelType)]),
                ]),
                "customer": customer,
            ]
            if let entryPoint = conversation.entryPoint { opening["entryPoint"] = .object(["id": .string(entryPoint)]) }
            fields["conversation"] = .object(opening)
        }
        return .object(fields)
    }

    private func mappingAttachments(
        _ content: JSONValue,
        _ conversation: ReplayPlan.Conversation,
        _ shared: Shared
    ) async throws -> JSONValue {
        var mapped: [String: String] = [:]
        for id in content.strings(at: "attachments.attachment[].id") {
            mapped[id] = try await uploadedAsset(id, conversation, shared)
        }
        return content.mappingStrings(at: ["attachments.attachment[].id"]) { value, _ in .string(mapped[value] ?? value)
        }
    }

    /// The target's id for a source asset, uploading its bytes the first time.
    private func uploadedAsset(
        _ id: String,
        _ conversation: ReplayPlan.Conversation,
        _ shared: Shared
    ) async throws
        -> String
    {
        if let known = shared.assets.withLock({ $0[id] }) { return known }
        guard let asset = plan.assets[id], let sha256 = asset.sha256 else {
            throw ReplayError("conversation \(conversation.id) attaches asset \(id), which the source has not uploaded")
        }
        let path = loaded.assetsDirectory + "/" + sha256
        let bytes = try await onOwnThread { FileManager.default.contents(atPath: path).map { Array($0) } }
        guard let bytes else { throw ReplayError("the bytes of asset \(id) are missing (\(path))") }
        let answer = try await client.call(
            .POST,
            "\(ReplayClient.apiPath)/assets",
            json: .object([
                "name": .string(asset.name), "size": .integer(asset.size),
                "channel": .object(["type": .string(asset.channelType)]),
                "sender": .object(["type": .string(asset.senderType)]),
            ])
        )
        guard answer.status == 200, let created = answer.body["id"]?.stringValue,
            let url = answer.body["contentUrl"]?.stringValue
        else { throw failure("creating asset \(asset.name)", answer) }
        let upload = try await client.upload(url, bytes: bytes, contentType: asset.contentType)
        guard (200..<300).contains(upload.status) else { throw failure("uploading asset \(asset.name)", upload) }
        shared.assets.withLock { $0[id] = created }
        try checkpoint.recordAsset(from: id, to: created)
        return created
    }

    private func failure(_ what: String, _ answer: ReplayClient.Answer) -> ReplayError {
        let detail = answer.body["developerMessage"]?.stringValue ?? String(answer.text.prefix(300))
        return ReplayError("\(what): HTTP \(answer.status) \(answer.code ?? "") \(detail)")
    }
}
