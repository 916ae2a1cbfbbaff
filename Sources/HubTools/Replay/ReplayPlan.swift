public import HubDomain
@_spi(Storage) import HubEventLog

/// What `hubstore replay` will send, read from the source's log: the configuration as it stands at
/// the end of the range, in setup order, then each conversation's inbound messages in their order.
/// Sealed values are still sealed here; ``ReplaySource`` opens them once the plan is known.
public struct ReplayPlan: Sendable {
    /// A configuration resource as the source holds it at the end of the range.
    public struct Resource: Sendable {
        public var kind: ResourceKind
        public var id: String
        /// The stored state: `id`, `created`, `modified` and sealed secrets included.
        public var state: JSONValue
    }

    /// An inbound message (`message.received`) as its sender sent it.
    public struct Message: Sendable {
        /// The hub's id in the source.
        public var id: String
        public var messageId: String
        public var type: String
        /// `{"type", "participant"?}`; a customer's participant is sealed (a string) until opened.
        public var sender: JSONValue
        /// The content's JSON text, sealed until opened; `nil` once opened when its key was destroyed.
        public var content: String?
        public var created: String?
        public var attributes: JSONValue?
        public var recordedAt: Int64
        /// Hidden by a `delete.soft` (and not restored), or erased by a `delete.permanent`.
        public var hidden = false
        public var erased = false

        public var senderType: String { sender["type"]?.stringValue ?? "" }
    }

    public struct Conversation: Sendable {
        public var id: String
        public var account: String
        public var accountAddress: String
        public var channelType: String
        public var entryPoint: String?
        /// The source's customer id: conversations of one customer are replayed one after another.
        public var customer: String
        /// The request's `customer` object, sealed until opened; `nil` once opened without its key.
        public var identity: String?
        public var startedAt: Int64
        public var messages: [Message] = []
    }

    /// An asset a replayed message refers to.
    public struct Asset: Sendable {
        public var id: String
        public var name: String
        public var size: Int64
        public var contentType: String
        public var senderType: String
        public var channelType: String
        /// Set once uploaded.
        public var sha256: String?
    }

    /// In setup order (``ResourceKind/allCases``), each kind in creation order.
    public var resources: [Resource] = []
    /// In the order they started.
    public var conversations: [Conversation] = []
    public var assets: [String: Asset] = [:]
    /// The last position read.
    public var lastPosition: Int64 = 0

    public var messageCount: Int { conversations.reduce(0) { $0 + $1.messages.count } }
}

/// Which part of the source a replay takes.
public struct ReplayFilters: Sendable, Equatable {
    /// An account's id or address: its conversations, and the configuration it uses.
    public var account: String?
    /// Conversations that started at or after this position or time.
    public var since: LogBound?
    /// Events up to this position or time.
    public var until: LogBound?
    public var configOnly = false

    public init(account: String? = nil, since: LogBound? = nil, until: LogBound? = nil, configOnly: Bool = false) {
        self.account = account
        self.since = since
        self.until = until
        self.configOnly = configOnly
    }
}

/// A place in the log: a position, or a time (milliseconds since 1970).
public enum LogBound: Sendable, Equatable {
    case position(Int64)
    case time(Int64)

    /// A position (digits) or an RFC 3339 time.
    public init?(parsing text: String) {
        if let position = Int64(text) {
            self = .position(position)
        } else if let milliseconds = Timestamp.milliseconds(text) {
            self = .time(milliseconds)
        } else {
            return nil
        }
    }

    func isAfter(_ event: RecordedEvent) -> Bool {
        switch self {
        case .position(let position): event.position < position
        case .time(let time): event.recordedAt < time
        }
    }

    func isBefore(_ event: RecordedEvent) -> Bool {
        switch self {
        case .position(let position): event.position > position
        case .time(let time): event.recordedAt > time
        }
    }
}

/// Builds a ``ReplayPlan`` from the source's events, read in position order.
struct ReplayPlanBuilder {
    let filters: ReplayFilters
    private var states: [ResourceKind: [String: (order: Int64, state: JSONValue)]] = [:]
    private var conversations: [String: ReplayPlan.Conversation] = [:]
    private var order: [String] = []
    /// Every asset's metadata (a message may attach one requested before the range).
    private var assets: [String: ReplayPlan.Asset] = [:]
    private var lastPosition: Int64 = 0

    init(filters: ReplayFilters) {
        self.filters = filters
    }

    /// Takes the next event; `false` once past the range (the caller stops reading).
    mutating func take(_ event: RecordedEvent) throws -> Bool {
        if let until = filters.until, until.isBefore(event) { return false }
        lastPosition = event.position
        switch event.type {
        case MessageReceived.type:
            let received = try event.payload(MessageReceived.self)
            guard conversations[received.conversation] != nil else { break }
            conversations[received.conversation]!.messages.append(
                .init(
                    id: received.id,
                    messageId: received.messageId,
                    type: received.type.value,
                    sender: received.sender,
                    content: received.content,
                    created: received.created,
                    attributes: received.attributes,
                    recordedAt: event.recordedAt
                )
            )
        case ConversationStarted.type:
            let started = try event.payload(ConversationStarted.self)
            if let since = filters.since, since.isAfter(event) { break }
            if let account = filters.account, account != started.account.id, account != started.account.address {
                break
            }
            conversations[started.id] = .init(
                id: started.id,
                account: started.account.id,
                accountAddress: started.account.address,
                channelType: started.channel.type,
                entryPoint: started.entryPoint?.id,
                customer: started.customer.id,
                identity: started.customer.identity,
                startedAt: event.recordedAt
            )
            order.append(started.id)
        case MessageSoftDeleted.type:
            let change = try event.payload(MessageSoftDeleted.self)
            update(change.message, in: change.conversation) { $0.hidden = true }
        case MessageRestored.type:
            let change = try event.payload(MessageRestored.self)
            update(change.message, in: change.conversation) { $0.hidden = false }
        case MessageErased.type:
            let change = try event.payload(MessageErased.self)
            update(change.message, in: change.conversation) { $0.erased = true }
        case AssetRequested.type:
            let asset = try event.payload(AssetRequested.self)
            assets[asset.id] = .init(
                id: asset.id,
                name: asset.name,
                size: asset.size,
                contentType: asset.contentType,
                senderType: asset.sender.type,
                channelType: asset.channel.type
            )
        case AssetUploaded.type:
            let asset = try event.payload(AssetUploaded.self)
            assets[asset.id]?.sha256 = asset.sha256
        default:
            let isConfiguration = ResourceKind.allCases.contains { event.type.hasPrefix($0.itemName + ".") }
            switch isConfiguration ? try event.payload() : nil {
            case let changed as ConfigurationChanged:
                guard let id = changed.id else { throw event.missing("id") }
                let created = states[changed.kind]?[id]?.order ?? event.position
                states[changed.kind, default: [:]][id] = (created, changed.state)
            case let deleted as ConfigurationDeleted:
                states[deleted.kind]?[deleted.id] = nil
            default:
                break
            }
        }
        return true
    }

    private mutating func update(
        _ message: String,
        in conversation: String,
        _ change: (inout ReplayPlan.Message) -> Void
    ) {
        guard let index = conversations[conversation]?.messages.firstIndex(where: { $0.id == message }) else { return }
        change(&conversations[conversation]!.messages[index])
    }

    /// The plan: with an account filter, that account's configuration and everything it refers to.
    func plan() -> ReplayPlan {
        var plan = ReplayPlan()
        plan.lastPosition = lastPosition
        var wanted: Set<String>?
        if let account = filters.account {
            let accounts = (states[.account] ?? [:]).filter { id, entry in
                id == account || entry.state["address"]?.stringValue == account
            }
            wanted = referencedClosure(from: accounts.keys.map { (ResourceKind.account, $0) })
        }
        for kind in ResourceKind.allCases {
            let entries = (states[kind] ?? [:]).sorted { $0.value.order < $1.value.order }
            for (id, entry) in entries where wanted?.contains("\(kind.itemName)/\(id)") ?? true {
                plan.resources.append(.init(kind: kind, id: id, state: entry.state))
            }
        }
        guard !filters.configOnly else { return plan }
        plan.conversations = order.compactMap { conversations[$0] }
        // Which ones the messages attach is in their sealed content: uploaded when first attached.
        plan.assets = assets.filter { $0.value.sha256 != nil }
        return plan
    }

    /// The resources `roots` refer to, transitively, as `<kind>/<id>`.
    private func referencedClosure(from roots: [(ResourceKind, String)]) -> Set<String> {
        var seen: Set<String> = []
        var pending = roots
        while let (kind, id) = pending.popLast() {
            guard seen.insert("\(kind.itemName)/\(id)").inserted, let state = states[kind]?[id]?.state else { continue }
            for (path, target) in kind.references {
                for reference in state.strings(at: path) { pending.append((target, reference)) }
            }
        }
        return seen
    }
}
