/// One message of a `POST /conversations/messages` body, validated (spec §4.1 [P]).
public struct IncomingMessage: Sendable, Equatable {
    /// The sender's own id for the message; with `senderType` it makes the idempotency key.
    public var messageId: String
    public var type: String
    public var senderType: SenderType
    public var participant: JSONValue?
    /// `content.text` (`nil` when absent).
    public var text: String?
    /// `content.redact`: store `*****` in history but deliver the original once.
    public var redact: Bool
    /// `content.value`: an object or a JSON string, passed through unchanged.
    public var value: JSONValue?
    /// Asset ids of `content.attachments.attachment[]`.
    public var attachments: [String]
    /// `conversation.id`, required from every sender but the customer.
    public var conversationId: String?
    /// `conversation.account.address` and `.channel.type`, which select the account of a new conversation.
    public var accountAddress: String?
    public var channelType: String?
    public var entryPointId: String?
    /// `conversation.customer` as sent.
    public var customer: JSONValue?
    /// The whole message as validated (unknown fields dropped), for the log.
    public var body: JSONValue

    /// `sender.type` + `messageId`: a retry with the same key returns the first answer.
    public var idempotencyKey: String { "egain:\(senderType.rawValue):\(messageId)" }
}

/// A validated `RequestMessages` body.
public struct RequestMessages: Sendable, Equatable {
    public var attributes: JSONValue?
    public var messages: [IncomingMessage]

    /// The longest `content.text`, in characters.
    public static let maxTextCharacters = 1_000_000
    /// The largest `content` of one message, in bytes of its JSON text (UTF-8) as the hub writes it
    /// (1 MiB, as large as a request body): the longest text fits, and every content this allows fits
    /// the event store's data limit once sealed (README, "Limits").
    public static let maxContentBytes = 1 << 20

    static let attributes = Field(
        "attributes",
        .array(
            of: .object([
                Field("name", .string(max: 255), required: true), Field("value", .string(max: 255), required: true),
            ]),
            max: 25
        )
    )
    static let idObject = FieldType.object([Field("id", .string(max: 255), required: true)])
    static let message = FieldType.object([
        Field("messageId", .string(max: 255), required: true),
        Field("type", .object([Field("value", .string(max: 255), required: true)]), required: true),
        Field(
            "content",
            .object([
                Field("text", .string(min: 0, max: maxTextCharacters)),
                Field("redact", .boolean, default: false),
                Field("value", .any),
                Field("attachments", .object([Field("attachment", .array(of: idObject, max: 25), required: true)])),
            ])
        ),
        Field(
            "conversation",
            .object([
                Field("id", .string(min: 36, max: 36, format: .uuid)),
                Field(
                    "account",
                    .object([
                        Field("address", .string(max: 255), required: true),
                        Field("channel", .object([Field("type", .string(max: 255), required: true)]), required: true),
                    ])
                ),
                Field("entryPoint", idObject),
                Field(
                    "customer",
                    .object([
                        Field("name", .string(max: 255)), Field("type", .string(max: 255)), attributes,
                        Field(
                            "contacts",
                            .object([
                                Field(
                                    "contact",
                                    .array(
                                        of: .object([
                                            Field("type", .string(max: 255), required: true),
                                            Field("subType", .string(max: 255)),
                                            Field("address", .string(max: 255), required: true),
                                        ]),
                                        max: 25
                                    ),
                                    required: true
                                )
                            ])
                        ),
                    ])
                ),
            ])
        ),
        Field(
            "sender",
            .object([
                Field("type", .enumeration(SenderType.allCases.map(\.rawValue)), required: true),
                Field("participant", .object([Field("id", .string(max: 255)), Field("name", .string(max: 255))])),
            ]),
            required: true
        ),
        Field("created", .string(max: 64)),
    ])
    public static let schema = Schema([
        Field("metadata", .object([attributes])),
        Field(
            "messages",
            .object([Field("message", .array(of: message, min: 1, max: 25), required: true)]),
            required: true
        ),
    ])

    /// Validates a body: the envelope, each message's fields, the permission matrix, and the content
    /// each type needs. The first problem is refused with its code, naming `messages.message[i]...`.
    public static func validate(_ body: JSONValue) throws(Rejection) -> RequestMessages {
        let valid = try schema.validate(body)
        let items = valid["messages"]?["message"]?.arrayValue ?? []
        var messages: [IncomingMessage] = []
        for (index, item) in items.enumerated() {
            // Built only for an error.
            func path() -> String { "messages.message[\(index)]" }
            let type = item["type"]?["value"]?.stringValue ?? ""
            guard let sender = item["sender"]?["type"]?.stringValue.flatMap(SenderType.init(rawValue:)) else {
                throw Rejection.missingAttribute(path() + ".sender.type")
            }
            do {
                try MessagePermissions.check(sender, toSend: type)
            } catch {
                var located = error
                located.message = "\(path()): " + error.message
                throw located
            }
            let content = item["content"]
            // Direct lookups: a dotted path is walked character by character.
            let conversation = item["conversation"]
            let message = IncomingMessage(
                messageId: item["messageId"]?.stringValue ?? "",
                type: type,
                senderType: sender,
                participant: item["sender"]?["participant"],
                text: content?["text"]?.stringValue,
                redact: content?["redact"] == .bool(true),
                value: content?["value"],
                attachments: content?["attachments"] == nil
                    ? [] : content?.strings(at: "attachments.attachment[].id") ?? [],
                conversationId: conversation?["id"]?.stringValue?.lowercased(),
                accountAddress: conversation?["account"]?["address"]?.stringValue,
                channelType: conversation?["account"]?["channel"]?["type"]?.stringValue,
                entryPointId: conversation?["entryPoint"]?["id"]?.stringValue,
                customer: conversation?["customer"],
                body: item
            )
            try checkContent(message, path: path())
            messages.append(message)
        }
        return RequestMessages(attributes: valid["metadata"]?["attributes"], messages: messages)
    }

    /// The content a type cannot do without (spec §4.3).
    static func checkContent(_ message: IncomingMessage, path: @autoclosure () -> String) throws(Rejection) {
        let value = message.value
        switch message.type {
        case "text":
            guard let text = message.text, !text.isEmpty else {
                throw Rejection.missingAttribute(path() + ".content.text")
            }
        case "delete.soft", "delete.permanent", "undo":
            guard value?["messageId"]?.stringValue != nil else {
                throw Rejection.missingAttribute(path() + ".content.value.messageId")
            }
        case "pagePush":
            guard value?["url"]?.stringValue != nil else {
                throw Rejection.missingAttribute(path() + ".content.value.url")
            }
        default:
            break
        }
        if message.senderType != .customer, message.conversationId == nil {
            throw Rejection.missingAttribute(path() + ".conversation.id")
        }
        if message.senderType == .customer, message.conversationId == nil {
            guard message.accountAddress != nil else {
                throw Rejection.missingAttribute(path() + ".conversation.account.address")
            }
            guard message.customer?.value(at: "contacts")?["contact"]?.arrayValue?.isEmpty == false else {
                throw Rejection.missingAttribute(path() + ".conversation.customer.contacts.contact")
            }
        }
    }
}
