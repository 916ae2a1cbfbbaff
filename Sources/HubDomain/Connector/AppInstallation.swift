/// A LivePerson connector app installation (the App Install Manifest, connector spec §2.1 and §8.1):
/// a connector's credentials for one account and where its webhooks go.
///
/// ```json
/// {"client_name": "SMS gateway", "enabled": true,
///  "capabilities": {"webhooks": {
///    "ms.MessagingEventNotification.ContentEvent": {"endpoint": "https://sms.example/lp", "max_retries": 3},
///    "retry": {"retention_time": 3600}}}}
/// ```
public enum AppInstallation {
    /// The webhook event keys an installation may register, one endpoint each (spec §8.1).
    public static let webhookKeys = [
        "ms.MessagingEventNotification.ContentEvent",
        "ms.MessagingEventNotification.RichContentEvent",
        "ms.MessagingEventNotification.AcceptStatusEvent",
        "ms.MessagingEventNotification.ChatStateEvent",
        "cqm.ExConversationChangeNotification",
    ]

    /// `cqm.ExConversationChangeNotification`: a conversation's changes.
    public static let conversationChangeKey = "cqm.ExConversationChangeNotification"

    /// The webhook key of a messaging event type (`ContentEvent` → `ms.MessagingEventNotification.ContentEvent`).
    public static func messagingKey(_ eventType: String) -> String { "ms.MessagingEventNotification." + eventType }

    /// Whether a delivery role is a webhook key (the outbox's connector deliveries).
    public static func isWebhookRole(_ role: String) -> Bool { webhookKeys.contains(role) }

    /// The most seconds `retry.retention_time` may be: 3 days.
    public static let maxRetentionSeconds = 259_200.0

    static let endpoint = FieldType.object([
        Field("endpoint", .string(max: 2048, format: .url), required: true),
        Field("max_retries", .integer(min: 0, max: 5), default: 0),
        Field(
            "headers",
            .array(
                of: .object([
                    Field("header_name", .string(max: 256), required: true),
                    Field("header_value", .string(min: 0, max: 4096), required: true),
                ]),
                max: 32
            )
        ),
    ])

    /// What a POST or PUT body may hold; unknown fields are dropped.
    public static let schema = Schema([
        Field("client_name", .string(max: 255), required: true),
        Field("description", .string(min: 0, max: 4096)),
        Field("grant_types", .array(of: .enumeration(["client_credentials"]), min: 1, max: 1)),
        Field("scope", .enumeration(["msg.consumer"])),
        Field("enabled", .boolean, default: true),
        Field(
            "capabilities",
            .object([
                Field(
                    "webhooks",
                    .object(
                        webhookKeys.map { Field($0, endpoint) } + [
                            Field(
                                "retry",
                                .object([Field("retention_time", .integer(min: 0, max: maxRetentionSeconds))])
                            )
                        ]
                    )
                )
            ])
        ),
    ])

    /// The body with unknown fields dropped, defaults filled in, and the fixed OAuth fields set, or
    /// the first problem. A webhook endpoint must be `https`, except on this machine (`http://localhost`,
    /// `127.0.0.1`, `[::1]`), where a connector under development listens.
    public static func validate(_ body: JSONValue) throws(Rejection) -> JSONValue {
        guard case .object(var fields) = try schema.validate(body) else {
            throw Rejection.invalidValue("body", "the request body must be a JSON object")
        }
        fields["grant_types"] = .array(["client_credentials"])
        fields["scope"] = "msg.consumer"
        if let webhooks = fields["capabilities"]?["webhooks"], case .object(let keys) = webhooks {
            for key in webhookKeys {
                guard let endpoint = keys[key]?["endpoint"]?.stringValue else { continue }
                guard isSecureOrLocal(endpoint) else {
                    throw Rejection.invalidValue(
                        "capabilities.webhooks.\(key).endpoint",
                        "must be an https URL (http only for localhost)"
                    )
                }
            }
        }
        return .object(fields)
    }

    /// `https://…`, or `http://` to a loopback host.
    static func isSecureOrLocal(_ url: String) -> Bool {
        let lower = url.lowercased()
        if lower.hasPrefix("https://") { return true }
        guard lower.hasPrefix("http://") else { return false }
        let rest = lower.dropFirst("http://".count)
        return ["localhost", "127.0.0.1", "[::1]"].contains { host in
            rest.hasPrefix(host) && (rest.count == host.count || [":", "/"].contains(rest.dropFirst(host.count).first))
        }
    }

    /// The endpoint registered for `key` in a validated installation body, if any.
    public static func webhook(_ key: String, in document: JSONValue) -> JSONValue? {
        document["capabilities"]?["webhooks"]?[key]
    }
}
