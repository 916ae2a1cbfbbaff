/// The six configuration resources of the Conversation Manager API (spec §3), in setup order.
public enum ResourceKind: String, CaseIterable, Sendable, Hashable {
    case authentication
    case clientApplication
    case participant
    case channel
    case orchestration
    case account

    /// The path segment under `/conversation/conversationmgr/v3`.
    public var pathSegment: String {
        switch self {
        case .authentication: "authentications"
        case .clientApplication: "clientapplications"
        case .participant: "participants"
        case .channel: "channels"
        case .orchestration: "orchestrations"
        case .account: "accounts"
        }
    }

    /// The array member of a list answer (spec §1.5); also the event type prefix.
    public var itemName: String { rawValue }

    /// How errors name the kind ("Client application").
    public var displayName: String {
        switch self {
        case .authentication: "Authentication"
        case .clientApplication: "Client application"
        case .participant: "Participant"
        case .channel: "Channel"
        case .orchestration: "Orchestration"
        case .account: "Account"
        }
    }

    /// The field that must be unique (case-insensitively) among resources of this kind.
    public var uniqueField: String { self == .channel ? "type" : "name" }

    /// The ids this kind refers to: a path (with `[]` for array steps) and the kind it points at.
    public var references: [(path: String, kind: ResourceKind)] {
        switch self {
        case .authentication, .channel: []
        case .clientApplication: [("roles[].authentication.id", .authentication)]
        case .participant: [("application.id", .clientApplication)]
        case .orchestration:
            [
                ("applications.botConfiguration.bots[].id", .clientApplication),
                ("applications.botConfiguration.bots[].participant.id", .participant),
                ("applications.botConfiguration.bots[].onEscalation.agent.id", .clientApplication),
                ("applications.agentConfiguration.agents[].id", .clientApplication),
                ("applications.customerConfiguration.customer.id", .clientApplication),
            ]
        case .account:
            [("channel.id", .channel), ("chatConfigurations.orchestration.id", .orchestration)]
        }
    }

    /// Validates a create or update body: the schema, then the rules a schema cannot say.
    public func validate(_ body: JSONValue) throws(Rejection) -> JSONValue {
        var state = try schema.validate(body)
        switch self {
        case .authentication:
            // Keep only the settings of the chosen type.
            let type = state["type"]?.stringValue ?? ""
            let needed = type == "oauth2" ? "oauth2" : "basicAuth"
            guard state[needed] != nil else { throw Rejection.missingAttribute(needed) }
            if case .object(var fields) = state {
                fields[type == "oauth2" ? "basicAuth" : "oauth2"] = nil
                state = .object(fields)
            }
        case .clientApplication:
            let names = state["roles"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            if Set(names).count != names.count {
                throw Rejection.invalidValue("roles", "role names must be unique within the array")
            }
        case .orchestration:
            let applications = state["applications"]
            if applications?["botConfiguration"] == nil, applications?["agentConfiguration"] == nil {
                throw Rejection.missingAttribute("applications.botConfiguration")
            }
        case .participant, .channel, .account:
            break
        }
        return state
    }

    /// The request body's schema (spec §3 tables; the vendor pages where they say more).
    public var schema: Schema {
        switch self {
        case .authentication: Self.authenticationSchema
        case .clientApplication: Self.clientApplicationSchema
        case .participant: Self.participantSchema
        case .channel: Self.channelSchema
        case .orchestration: Self.orchestrationSchema
        case .account: Self.accountSchema
        }
    }

    // MARK: - Schemas

    static let name = Field("name", .string(max: 255), required: true)
    static let description = Field("description", .string(max: 1023))
    static let active = Field("active", .boolean, default: .bool(true))
    static func idObject(_ name: String, required: Bool = true) -> Field {
        Field(
            name,
            .object([Field("id", .string(min: 36, max: 36, format: .uuid), required: true)]),
            required: required
        )
    }
    static func attributes(
        _ name: String,
        min: Int = 0,
        max: Int = 25,
        secretValues: Bool = false,
        required: Bool = false
    )
        -> Field
    {
        Field(
            name,
            .array(
                of: .object([
                    Field("name", .string(max: 255), required: true),
                    Field("value", .string(max: 1023), required: true, secret: secretValues),
                ]),
                min: min,
                max: max
            ),
            required: required
        )
    }

    static let authenticationSchema = Schema([
        name, description, active,
        Field("type", .enumeration(["oauth2", "basic"]), required: true),
        Field(
            "oauth2",
            .object([
                Field("tokenRequestUrl", .string(max: 255, format: .url), required: true),
                Field("method", .enumeration(["POST", "GET"]), required: true),
                attributes("headers", min: 1, max: 25, secretValues: true, required: true),
                Field("payload", .string(max: 1024), required: true, secret: true),
                Field("accessTokenPath", .string(max: 1024), required: true),
            ])
        ),
        Field(
            "basicAuth",
            .object([
                Field("username", .string(max: 255), required: true),
                Field("password", .string(max: 255), required: true, secret: true),
            ])
        ),
    ])

    static let clientApplicationSchema = Schema([
        name, description, active,
        Field(
            "roles",
            .array(
                of: .object([
                    Field(
                        "name",
                        .enumeration([
                            "customer", "custom_bot", "egain_bot", "egain_agent", "custom_agent",
                            "business_notification",
                        ]),
                        required: true
                    ),
                    Field("version", .enumeration(["v1", "v3"]), required: true),
                    Field("callback", .string(max: 2048, format: .url), required: true),
                    Field("notificationEmail", .string(max: 255, format: .email), required: true),
                    attributes("headers", secretValues: true),
                    idObject("authentication", required: false),
                ]),
                min: 1,
                max: 7
            ),
            required: true
        ),
    ])

    static let participantSchema = Schema([
        name,
        Field("type", .enumeration(["custom_bot", "egain_bot"]), required: true),
        description, active,
        idObject("application"),
        Field(
            "intents",
            .object([
                Field(
                    "intent",
                    .array(
                        of: .object([
                            Field("value", .string(max: 255), required: true),
                            Field("displayValue", .string(max: 255), required: true),
                        ])
                    ),
                    required: true
                )
            ])
        ),
        attributes("options", min: 1, max: 25),
    ])

    static let attachmentPolicy = Field(
        "attachmentPolicy",
        .object([
            Field("enabled", .boolean),
            Field("maxSize", .integer(min: 0)),
            Field("type", .enumeration(["allow", "block"])),
            Field("extensions", .array(of: .string(max: 255))),
        ])
    )
    /// Characters; a limit above the longest text a message may have would never apply.
    static let maxTextLength = Field("maxTextLength", .integer(min: 1, max: Double(RequestMessages.maxTextCharacters)))
    static let features = Field(
        "features",
        .array(of: .enumeration(["typing_events", "attachments", "richText"]))
    )

    static let channelSchema = Schema([
        Field("type", .string(max: 255), required: true),
        Field("displayName", .string(max: 255), required: true),
        Field("icon", .string(max: 512_000), required: true),
        description, active,
        Field(
            "restrictions",
            .object([
                Field("inbound", .object([maxTextLength, features, attachmentPolicy])),
                Field(
                    "outbound",
                    .object([
                        maxTextLength,
                        Field("systemMessages", .boolean),
                        Field("midChatAuth", .boolean),
                        features,
                        Field("richMessageTypes", .array(of: .string(max: 255))),
                        attachmentPolicy,
                    ])
                ),
            ])
        ),
        Field(
            "l10nProperties",
            .array(
                of: .object([
                    Field("language", .string(max: 255), required: true),
                    attributes("properties", required: true),
                ]),
                min: 1,
                max: 25
            )
        ),
    ])

    static let orchestrationSchema = Schema([
        name, description, active,
        Field(
            "applications",
            .object([
                Field(
                    "botConfiguration",
                    .object([
                        Field("forwardTranscript", .boolean),
                        Field("bypassVaDuration", .minutes),
                        Field(
                            "bots",
                            .array(
                                of: .object([
                                    Field("id", .string(min: 36, max: 36, format: .uuid), required: true),
                                    idObject("participant"),
                                    Field("onEscalation", .object([idObject("agent")])),
                                ]),
                                min: 1
                            ),
                            required: true
                        ),
                    ])
                ),
                Field(
                    "agentConfiguration",
                    .object([
                        Field(
                            "agents",
                            .array(
                                of: .object([Field("id", .string(min: 36, max: 36, format: .uuid), required: true)]),
                                min: 1
                            ),
                            required: true
                        )
                    ])
                ),
                Field("customerConfiguration", .object([idObject("customer")])),
            ]),
            required: true
        ),
    ])

    static let accountSchema = Schema([
        name, description, active,
        Field("address", .string(max: 255), required: true),
        idObject("channel"),
        Field(
            "caseManagement",
            .object([Field("sameCaseDuration", .minutes), Field("copyCustomAttributes", .boolean)])
        ),
        Field(
            "chatConfigurations",
            .object([
                Field("timeout", .minutes),
                Field("defaultLanguage", .string(max: 255)),
                Field("onAgentUnavailability", .enumeration(["off_hours", "retain_and_retry"])),
                Field("allowLogoutWithOpenChats", .boolean),
                Field("allowQueueTransferOnAgentUnavailability", .boolean),
                idObject("orchestration"),
                Field("entryPoint", .object([Field("id", .string(max: 255), required: true)]), required: true),
            ]),
            required: true
        ),
        attributes("attributes", min: 1, max: 10),
    ])
}

extension JSONValue {
    /// Every string at a path whose array steps are marked `[]` (`roles[].authentication.id`).
    public func strings(at path: String) -> [String] {
        var current: [JSONValue] = [self]
        for step in path.split(separator: ".") {
            let isArray = step.hasSuffix("[]")
            let key = String(isArray ? step.dropLast(2) : step)
            current = current.compactMap { $0[key] }
            if isArray { current = current.flatMap { $0.arrayValue ?? [] } }
        }
        return current.compactMap(\.stringValue)
    }
}
