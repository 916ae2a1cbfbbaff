/// What an account routes by: its orchestration resolved to recipients, and the channel's rules for
/// message content (spec §3.3–§3.6, §4.1, §5.2). Built from configuration states; no I/O.
public struct AccountRouting: Sendable, Equatable {
    public var plan: RoutingPlan
    /// `chatConfigurations.timeout`, minutes.
    public var timeoutMinutes: Double?
    /// `chatConfigurations.entryPoint.id`, the default entry point of new conversations.
    public var entryPoint: String?
    public var channel: ChannelRules

    public init(plan: RoutingPlan, timeoutMinutes: Double?, entryPoint: String?, channel: ChannelRules) {
        self.plan = plan
        self.timeoutMinutes = timeoutMinutes
        self.entryPoint = entryPoint
        self.channel = channel
    }

    /// Resolves an account's routing from the states of its orchestration and channel, and of the client
    /// applications and participants the orchestration names (`applications[id]`, `participants[id]`).
    public static func resolve(
        account: JSONValue,
        channel: JSONValue,
        orchestration: JSONValue?,
        applications: [String: JSONValue],
        participants: [String: JSONValue]
    ) -> AccountRouting {
        let configured = orchestration?["applications"]
        func recipient(application id: String?, roles preferred: [String]) -> Recipient? {
            guard let id, let app = applications[id] else { return nil }
            let roles = app.strings(at: "roles[].name")
            guard let role = preferred.first(where: roles.contains) else { return nil }
            return Recipient(application: id, type: role)
        }
        var plan = RoutingPlan()
        if let bot = configured?.value(at: "botConfiguration")?["bots"]?.arrayValue?.first,
            let appId = bot["id"]?.stringValue
        {
            let participantId = bot.value(at: "participant.id")?.stringValue
            let participant = participantId.flatMap { participants[$0] }
            let type = participant?["type"]?.stringValue ?? "custom_bot"
            if applications[appId]?.strings(at: "roles[].name").contains(type) == true {
                plan.bot = Recipient(
                    application: appId,
                    type: type,
                    participant: participantId,
                    participantName: participant?["name"]?.stringValue
                )
            }
            plan.escalationAgent = recipient(
                application: bot.value(at: "onEscalation.agent.id")?.stringValue,
                roles: agentRoles
            )
            let botConfiguration = configured?.value(at: "botConfiguration")
            plan.forwardTranscript = botConfiguration?["forwardTranscript"] == .bool(true)
            plan.bypassBotMinutes = botConfiguration?["bypassVaDuration"]?.doubleValue
        }
        let firstAgent = configured?.value(at: "agentConfiguration")?["agents"]?.arrayValue?.first
        plan.agent = recipient(application: firstAgent?["id"]?.stringValue, roles: agentRoles)
        if plan.escalationAgent == nil { plan.escalationAgent = plan.agent }
        plan.customer = recipient(
            application: configured?.value(at: "customerConfiguration.customer.id")?.stringValue,
            roles: ["customer"]
        )
        return AccountRouting(
            plan: plan,
            timeoutMinutes: account.value(at: "chatConfigurations.timeout")?.doubleValue,
            entryPoint: account.value(at: "chatConfigurations.entryPoint.id")?.stringValue,
            channel: ChannelRules(channel)
        )
    }

    static let agentRoles = ["custom_agent", "egain_agent"]
}

/// A channel's restrictions on message content (spec §3.4).
public struct ChannelRules: Sendable, Equatable {
    public var type: String
    public var inboundMaxText: Int?
    public var outboundMaxText: Int?
    /// `features` of each side; `nil` when the channel does not restrict them.
    public var inboundFeatures: Set<String>?
    public var outboundFeatures: Set<String>?
    public var richMessageTypes: Set<String>?
    public var inboundAttachments: AttachmentPolicy
    public var outboundAttachments: AttachmentPolicy

    public init(_ channel: JSONValue) {
        type = channel["type"]?.stringValue ?? ""
        let inbound = channel.value(at: "restrictions.inbound")
        let outbound = channel.value(at: "restrictions.outbound")
        // Stored configuration is read without trapping, whatever it holds (validation bounds new values;
        // a value stored before it did is clamped).
        inboundMaxText = inbound?["maxTextLength"]?.clampedInt64.map { Int(clamping: $0) }
        outboundMaxText = outbound?["maxTextLength"]?.clampedInt64.map { Int(clamping: $0) }
        inboundFeatures = inbound?["features"]?.arrayValue.map { Set($0.compactMap(\.stringValue)) }
        outboundFeatures = outbound?["features"]?.arrayValue.map { Set($0.compactMap(\.stringValue)) }
        richMessageTypes = outbound?["richMessageTypes"]?.arrayValue.map { Set($0.compactMap(\.stringValue)) }
        inboundAttachments = AttachmentPolicy(inbound?["attachmentPolicy"])
        outboundAttachments = AttachmentPolicy(outbound?["attachmentPolicy"])
    }

    /// Refuses content the channel does not allow, for a message from `sender` (spec §3.4, §4.1 [P]):
    /// text over the side's `maxTextLength`, a rich message type not in `richMessageTypes`, attachments
    /// where the side's features exclude them. `path` names the message in the error.
    public func check(_ message: IncomingMessage, path: String) throws(Rejection) {
        let toCustomer = message.senderType != .customer
        if let text = message.text, let limit = toCustomer ? outboundMaxText : inboundMaxText, text.count > limit {
            throw Rejection.invalidValue(
                path + ".content.text",
                "text is \(text.count) characters; the channel allows at most \(limit)"
            )
        }
        // `richMessageTypes` names them bare (`quickreply`); the full type name is accepted too.
        if toCustomer, message.type.hasPrefix("richMessage."), let allowed = richMessageTypes,
            !allowed.contains(message.type), !allowed.contains(String(message.type.dropFirst("richMessage.".count)))
        {
            throw Rejection.invalidValue(path + ".type.value", "the channel does not allow \(message.type)")
        }
        if !message.attachments.isEmpty, let features = toCustomer ? outboundFeatures : inboundFeatures,
            !features.contains("attachments")
        {
            throw Rejection.invalidValue(path + ".content.attachments", "the channel does not allow attachments")
        }
    }

    /// Typing events are dropped (status `discarded`) toward a side whose features exclude `typing_events`.
    public func delivers(_ type: String, from sender: SenderType) -> Bool {
        guard type == "typing.start" || type == "typing.end" else { return true }
        guard let features = sender == .customer ? inboundFeatures : outboundFeatures else { return true }
        return features.contains("typing_events")
    }
}

/// `restrictions.<side>.attachmentPolicy` (spec §3.4, §6.1 [P]).
public struct AttachmentPolicy: Sendable, Equatable {
    public var enabled: Bool
    public var maxSize: Int64?
    /// `allow`: only these extensions; `block`: all but these.
    public var allow: Bool
    public var extensions: Set<String>

    public init(_ policy: JSONValue?) {
        enabled = policy?["enabled"] != .bool(false)
        maxSize = policy?["maxSize"]?.clampedInt64
        allow = policy?["type"]?.stringValue == "allow"
        extensions = Set(
            (policy?["extensions"]?.arrayValue ?? []).compactMap {
                $0.stringValue?.lowercased().trimmingPrefix(".").description
            }
        )
    }
}

extension JSONValue {
    /// A number as `Double` (integers included).
    public var doubleValue: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }

    /// A number as a whole `Int64`, rounded down and clamped to `Int64`'s range: never traps, whatever
    /// the JSON held (`1e300` is `Int64.max`). `nil` for anything but a number.
    public var clampedInt64: Int64? {
        switch self {
        case .integer(let value): return value
        case .double(let value):
            guard !value.isNaN else { return nil }
            if value >= 0x1p63 { return .max }
            if value < -0x1p63 { return .min }
            return Int64(value.rounded(.down))
        default: return nil
        }
    }
}

extension AttachmentPolicy {
    /// Refuses a file the policy does not take (spec §6.1 [P]): attachments disabled, larger than
    /// `maxSize`, an extension outside an allow list or inside a block list, or no extension at all.
    public func check(name: String, size: Int64) throws(Rejection) {
        guard enabled else { throw Rejection.invalidValue("channel.type", "the channel does not take attachments") }
        if let maxSize, size > maxSize {
            throw Rejection.invalidValue("size", "\(size) bytes is more than the channel's limit of \(maxSize)")
        }
        guard let fileExtension = MediaType.fileExtension(of: name) else {
            throw Rejection.invalidValue("name", "a file name needs an extension, e.g. bird.jpg")
        }
        if !extensions.isEmpty, allow != extensions.contains(fileExtension) {
            throw Rejection.invalidValue("name", "the channel does not take .\(fileExtension) files")
        }
    }
}

/// Media types implied by file extensions (spec §6.1 [P]: the content type follows from the name).
public enum MediaType {
    static let byExtension: [String: String] = [
        "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp",
        "svg": "image/svg+xml", "bmp": "image/bmp", "tif": "image/tiff", "tiff": "image/tiff", "pdf": "application/pdf",
        "txt": "text/plain", "csv": "text/csv", "html": "text/html", "json": "application/json",
        "xml": "application/xml", "zip": "application/zip", "mp3": "audio/mpeg", "wav": "audio/wav",
        "ogg": "audio/ogg", "mp4": "video/mp4", "mov": "video/quicktime", "webm": "video/webm",
        "doc": "application/msword",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls": "application/vnd.ms-excel",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "ppt": "application/vnd.ms-powerpoint",
        "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ]

    /// The lower-cased extension of a file name (`bird.JPG` → `jpg`), if it has one.
    public static func fileExtension(of name: String) -> String? {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return nil }
        let ext = name[name.index(after: dot)...].lowercased()
        return ext.isEmpty ? nil : ext
    }

    /// The media type of a file name; `application/octet-stream` when the extension is unknown.
    public static func forFileName(_ name: String) -> String {
        fileExtension(of: name).flatMap { byExtension[$0] } ?? "application/octet-stream"
    }
}
