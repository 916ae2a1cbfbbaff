/// One request of LivePerson's Messaging Window protocol as CONVERSATION and SEND carry it
/// (connector spec §4.1, §5): `{"kind":"req","id":…,"type":…,"body":{…},"metadata":[…]}`.
public struct ConnectorRequest: Sendable, Equatable {
    /// The request id as the client sent it, as text: a number's digits, a string verbatim (`"1,"` stays
    /// `"1,"`). Echoed as `reqId`.
    public var id: String
    public var action: Action
    /// The request's `metadata`, passed through to notifications.
    public var metadata: JSONValue?

    public enum Action: Sendable, Equatable {
        /// `userprofile.SetUserProfile`: the body as sent (may be `{}`).
        case setUserProfile(JSONValue)
        /// `cm.ConsumerRequestConversation`.
        case requestConversation(ConversationRequest)
        /// `ms.PublishEvent`.
        case publish(dialog: String, conversation: String?, event: PublishedEvent)
        /// `cm.UpdateConversationField`, one change per field, in order.
        case updateConversation(conversation: String, fields: [ConversationField])
    }

    public struct ConversationRequest: Sendable, Equatable {
        /// `brandId`; `nil` when the request had no body (the websocket form allows that).
        public var brandId: String?
        public var skillId: String?
        public var ttrDefName: String?
        public var campaignInfo: JSONValue?
        public var conversationContext: JSONValue?
    }

    /// What `ms.PublishEvent` publishes.
    public enum PublishedEvent: Sendable, Equatable {
        /// `ContentEvent` with `text/plain` (or another text type).
        case text(String, contentType: String)
        /// `ContentEvent` with `hosted/file`: the `message` object (caption, relativePath, fileType, preview).
        case file(JSONValue)
        /// `RichContentEvent`: the structured content.
        case richContent(JSONValue)
        /// `AcceptStatusEvent`: `ACCEPT`, `READ`, `ACCESS`, `NACK` or `ACTION` of the other side's sequences.
        case acceptStatus(status: String, sequences: [Int64])
        /// `ChatStateEvent`: never sequenced.
        case chatState(String)

        /// Whether the event takes the dialog's next sequence (all but chat states, spec §9).
        public var isSequenced: Bool {
            if case .chatState = self { return false }
            return true
        }

        /// `event.type` as notifications carry it, and the webhook key suffix.
        public var typeName: String {
            switch self {
            case .text, .file: "ContentEvent"
            case .richContent: "RichContentEvent"
            case .acceptStatus: "AcceptStatusEvent"
            case .chatState: "ChatStateEvent"
            }
        }
    }

    /// One `conversationField` of `cm.UpdateConversationField` (spec §5.4).
    public enum ConversationField: Sendable, Equatable {
        /// `ConversationStateField` with `conversationState: CLOSE`.
        case close
        /// `CSATRate`.
        case csat(rate: Int64, resolutionConfirmation: Bool, status: String)
        /// `DialogChange` closing one dialog.
        case closeDialog(String)
        /// `TTRField`.
        case ttr(type: String, value: Int64)
    }

    /// Request ids are 1 to 64 characters (spec §4.1).
    public static let maxIdLength = 64
    public static let chatStates = ["ACTIVE", "INACTIVE", "GONE", "COMPOSING", "PAUSE", "SIGNALED"]
    public static let acceptStatuses = ["ACCEPT", "READ", "ACCESS", "NACK", "ACTION"]
    public static let ttrTypes = ["NORMAL", "URGENT", "PRIORITIZED", "CUSTOM"]
    public static let csatStatuses = ["FILLED", "PARTIALLY_FILLED", "SKIPPED"]
    /// The longest text a ContentEvent may carry, in bytes (the hub's message limit).
    public static let maxTextBytes = 1 << 20

    /// A refusal: why a request cannot be taken, as the connector's 400 `details` says it.
    public struct Invalid: Error, Sendable, Equatable {
        public var details: String
        /// `40001` for a missing parameter (the first three digits are the status), else `40000`.
        public var errorCode: Int

        public init(_ details: String, errorCode: Int = 40000) {
            self.details = details
            self.errorCode = errorCode
        }
    }

    /// The request id of a request object, if it has a usable one (for an error's `reqId`).
    public static func requestId(of value: JSONValue) -> String? {
        switch value["id"] {
        case .string(let text)? where (1...maxIdLength).contains(text.count): text
        case .integer(let number)?: String(number)
        case .double(let number)? where number.isFinite: JSONValue.double(number).text
        default: nil
        }
    }

    /// Parses one request object; unknown fields are ignored, a single-element array may be the bare
    /// element (spec §4.1).
    public static func parse(_ value: JSONValue) throws(Invalid) -> ConnectorRequest {
        guard case .object = value else { throw Invalid("each request must be a JSON object") }
        guard let id = requestId(of: value) else {
            throw Invalid("id must be a number or a string of 1 to \(maxIdLength) characters", errorCode: 40001)
        }
        if let kind = value["kind"], kind != .string("req") { throw Invalid("kind must be req") }
        guard let type = value["type"]?.stringValue else { throw Invalid("type is missing", errorCode: 40001) }
        let body = value["body"]
        if let body, body != .null, body.objectValue == nil { throw Invalid("body must be an object") }
        let metadata = value["metadata"].flatMap { $0 == .null ? nil : $0 }
        if let metadata, metadata.arrayValue == nil, metadata.objectValue == nil {
            throw Invalid("metadata must be an array")
        }
        let action: Action
        switch type {
        case "userprofile.SetUserProfile":
            action = .setUserProfile(body ?? .object([:]))
        case "cm.ConsumerRequestConversation":
            action = .requestConversation(try conversationRequest(body))
        case "ms.PublishEvent":
            action = try publish(body)
        case "cm.UpdateConversationField":
            action = try update(body)
        default:
            throw Invalid("'\(type)' is not a request a consumer can send here")
        }
        return ConnectorRequest(id: id, action: action, metadata: metadata.map(asArray))
    }

    private static func conversationRequest(_ body: JSONValue?) throws(Invalid) -> ConversationRequest {
        guard let body, body != .null else { return ConversationRequest() }
        guard let brand = text(body["brandId"]), !brand.isEmpty else {
            throw Invalid("Brand Id is missing", errorCode: 40001)
        }
        let ttr = body["ttrDefName"]?.stringValue
        if let ttr, !ttrTypes.contains(ttr) {
            throw Invalid("ttrDefName must be one of \(ttrTypes.joined(separator: ", "))")
        }
        return ConversationRequest(
            brandId: brand,
            skillId: text(body["skillId"]),
            ttrDefName: ttr,
            campaignInfo: body["campaignInfo"].flatMap { $0 == .null ? nil : $0 },
            conversationContext: body["conversationContext"].flatMap { $0 == .null ? nil : $0 }
        )
    }

    private static func publish(_ body: JSONValue?) throws(Invalid) -> Action {
        guard let body, body.objectValue != nil else { throw Invalid("ms.PublishEvent needs a body", errorCode: 40001) }
        guard let dialog = body["dialogId"]?.stringValue else { throw Invalid("dialogId is missing", errorCode: 40001) }
        guard let event = body["event"], event.objectValue != nil else {
            throw Invalid("event is missing", errorCode: 40001)
        }
        let published: PublishedEvent
        switch event["type"]?.stringValue {
        case "ContentEvent":
            let contentType = event["contentType"]?.stringValue ?? "text/plain"
            if contentType == "hosted/file" {
                guard let file = event["message"], file.objectValue != nil else {
                    throw Invalid("a hosted/file ContentEvent's message must be an object")
                }
                published = .file(file)
            } else {
                guard let text = event["message"]?.stringValue else {
                    throw Invalid("a ContentEvent's message must be a string", errorCode: 40001)
                }
                guard text.utf8.count <= maxTextBytes else {
                    throw Invalid("the message is over \(maxTextBytes) bytes")
                }
                published = .text(text, contentType: contentType)
            }
        case "RichContentEvent":
            guard let content = event["content"] ?? event["message"], content.objectValue != nil else {
                throw Invalid("a RichContentEvent needs its content object", errorCode: 40001)
            }
            published = .richContent(content)
        case "AcceptStatusEvent":
            guard let status = event["status"]?.stringValue, acceptStatuses.contains(status) else {
                throw Invalid("status must be one of \(acceptStatuses.joined(separator: ", "))")
            }
            guard let list = event["sequenceList"].map(asArray)?.arrayValue else {
                throw Invalid("sequenceList is missing", errorCode: 40001)
            }
            var sequences: [Int64] = []
            for item in list {
                guard case .integer(let sequence) = item, sequence >= 0 else {
                    throw Invalid("sequenceList must hold sequences (whole numbers from 0)")
                }
                sequences.append(sequence)
            }
            published = .acceptStatus(status: status, sequences: sequences)
        case "ChatStateEvent":
            guard let state = event["chatState"]?.stringValue, chatStates.contains(state) else {
                throw Invalid("chatState must be one of \(chatStates.joined(separator: ", "))")
            }
            published = .chatState(state)
        default:
            throw Invalid("event.type must be ContentEvent, RichContentEvent, AcceptStatusEvent or ChatStateEvent")
        }
        let conversation = body["conversationId"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        return .publish(dialog: dialog, conversation: conversation, event: published)
    }

    private static func update(_ body: JSONValue?) throws(Invalid) -> Action {
        guard let body, let conversation = body["conversationId"]?.stringValue, !conversation.isEmpty else {
            throw Invalid("conversationId is missing", errorCode: 40001)
        }
        guard let given = body["conversationField"].map(asArray)?.arrayValue, !given.isEmpty else {
            throw Invalid("conversationField is missing", errorCode: 40001)
        }
        var fields: [ConversationField] = []
        for field in given {
            switch field["field"]?.stringValue {
            case "ConversationStateField":
                guard field["conversationState"] == .string("CLOSE") else {
                    throw Invalid("conversationState must be CLOSE")
                }
                fields.append(.close)
            case "CSATRate":
                guard case .integer(let rate)? = field["csatRate"], (1...5).contains(rate) else {
                    throw Invalid("csatRate must be a whole number from 1 to 5")
                }
                guard case .bool(let confirmation)? = field["csatResolutionConfirmation"] else {
                    throw Invalid("csatResolutionConfirmation must be true or false")
                }
                guard let status = field["status"]?.stringValue, csatStatuses.contains(status) else {
                    throw Invalid("status must be one of \(csatStatuses.joined(separator: ", "))")
                }
                fields.append(.csat(rate: rate, resolutionConfirmation: confirmation, status: status))
            case "DialogChange":
                guard let dialog = field["dialog"]?["dialogId"]?.stringValue,
                    field["dialog"]?["state"] == .string("CLOSE")
                else { throw Invalid("a DialogChange must close a dialog: dialog.dialogId and dialog.state CLOSE") }
                fields.append(.closeDialog(dialog))
            case "TTRField":
                guard let type = field["ttrType"]?.stringValue, ttrTypes.contains(type) else {
                    throw Invalid("ttrType must be one of \(ttrTypes.joined(separator: ", "))")
                }
                guard case .integer(let seconds)? = field["value"], seconds >= 0, seconds <= 31_536_000 else {
                    throw Invalid("value must be whole seconds from 0 to a year")
                }
                fields.append(.ttr(type: type, value: seconds))
            case "ParticipantsChange", "SkillChange":
                throw Invalid("a consumer cannot change \(field["field"]?.stringValue ?? "")")
            default:
                throw Invalid("conversationField.field is not one a consumer can update")
            }
        }
        return .updateConversation(conversation: conversation, fields: fields)
    }

    /// A string, or a number's digits (`skillId` and `brandId` come both ways).
    private static func text(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let text)?: text
        case .integer(let number)?: String(number)
        default: nil
        }
    }

    /// A bare element as the one-element array it stands for.
    private static func asArray(_ value: JSONValue) -> JSONValue {
        if case .array = value { return value }
        return .array([value])
    }
}
