import HubDomain

/// The operations on conversations and what they hold: sending, assets, the queries, search,
/// analytics, erasure and the event feed.
extension OpenAPIDocument {
    static var conversationOperations: [Operation] {
        [
            Operation(
                method: "post",
                path: "/conversation/conversationmgr/v3/conversations/messages",
                summary: "Send messages: route them by orchestration and deliver them to callbacks",
                scopes: [.interactionManage],
                requestBody: .object([
                    "required": true,
                    "content": .object([
                        "application/json": .object([
                            "schema": .object(["$ref": "#/components/schemas/RequestMessages"])
                        ])
                    ]),
                ]),
                responses: [
                    "202": "Accepted: {messages: {message: [{id, messageId, conversation: {id}, status}]}}",
                    "400": "Invalid (400-102, 400-143, 400-145, 400-148)", "401": "No token",
                    "403": "Scope (403-101) or sender not allowed for the type (403-102)",
                ]
            ),
            Operation(
                method: "get",
                path: "/conversation/conversationmgr/v3/conversations/{id}",
                summary: "A completed conversation with its messages",
                scopes: [.interactionManage, .interactionRead],
                responses: [
                    "200": "The conversation", "400": "Not a conversation id",
                    "404": "Unknown (404-101) or not completed (404-102)", "406": "Not JSON",
                ],
                parameters: [pathID]
            ),
            Operation(
                method: "post",
                path: "/conversation/conversationmgr/v3/assets",
                summary: "Request a signed upload URL for an attachment (channel policy checked)",
                scopes: [.interactionManage],
                requestBody: .object([
                    "required": true,
                    "content": .object([
                        "application/json": .object(["schema": .object(["$ref": "#/components/schemas/AssetRequest"])])
                    ]),
                ]),
                responses: ["200": "{id, contentUrl, contentUrlExpiry}", "400": "Invalid or refused by the channel"]
            ),
            Operation(
                method: "post",
                path: "/conversation/conversationmgr/v3/assets/upload",
                summary: "Upload the bytes to a signed URL (no bearer token; the signature authorises)",
                scopes: nil,
                responses: [
                    "204": "Stored", "400": "Size or type differ", "401": "Bad signature", "413": "Over --max-upload",
                ],
                parameters: [queryParameter("signature", "From contentUrl", required: true)]
            ),
            Operation(
                method: "put",
                path: "/conversation/conversationmgr/v3/assets/upload",
                summary: "Upload the bytes to a signed URL (as POST)",
                scopes: nil,
                responses: [
                    "204": "Stored", "400": "Size or type differ", "401": "Bad signature", "413": "Over --max-upload",
                ],
                parameters: [queryParameter("signature", "From contentUrl", required: true)]
            ),
            Operation(
                method: "get",
                path: "/conversation/conversationmgr/v3/assets/download",
                summary: "Download an asset through its signed URL (no bearer token)",
                scopes: nil,
                responses: ["200": "The bytes", "401": "Bad signature", "404": "Not uploaded or deleted"],
                parameters: [queryParameter("signature", "From GET /assets/{id}", required: true)]
            ),
            Operation(
                method: "get",
                path: "/conversation/conversationmgr/v3/assets/{id}",
                summary: "An asset's metadata and a signed download URL",
                scopes: [.interactionManage, .interactionRead],
                responses: ["200": "{id, name, size, contentType, contentUrl, contentUrlExpiry}", "404": "Unknown"],
                parameters: [pathID]
            ),
            Operation(
                method: "delete",
                path: "/conversation/conversationmgr/v3/assets/{id}",
                summary: "Delete an asset not used in any message",
                scopes: [.interactionManage],
                responses: ["204": "Deleted", "400": "Used in a message (400-147)", "404": "Unknown"],
                parameters: [pathID]
            ),
            Operation(
                method: "get",
                path: "/v1/assets",
                summary: "The assets attached to a conversation",
                scopes: [.query],
                responses: ["200": "{assets: [...]}", "400": "conversation missing"],
                parameters: [requiredText("conversation", "Conversation id")]
            ),
            Operation(
                method: "get",
                path: "/v1/conversations",
                summary: "Conversations in start order, filtered, with cursor pagination",
                scopes: [.query],
                responses: ["200": "{conversations: [...], nextCursor?}", "400": "Bad filter"],
                parameters: [
                    queryParameter("account", "Account id"), queryParameter("channelType", "Channel type"),
                    stateParameter,
                    queryParameter("contact", "A customer contact address"),
                    timeParameter("startedFrom", "RFC 3339 time, inclusive"),
                    timeParameter("startedTo", "RFC 3339 time, exclusive"),
                    queryParameter("cursor", "nextCursor of the previous page"),
                    integerParameter("limit", "1 to 500, default 50", 1...500),
                ]
            ),
            Operation(
                method: "get",
                path: "/v1/conversations/{id}/history",
                summary: "A conversation's audit trail: its events in the export form, each message's configuration "
                    + "versions and delivery attempts, and the log's head (position, hash) for verify --expect-head",
                scopes: [.audit, .query],
                responses: ["200": "{conversation, head, events, messages}", "404": "Unknown conversation"],
                parameters: [pathID]
            ),
            Operation(
                method: "get",
                path: "/v1/search",
                summary: "Full-text search over what clients wrote (FTS5 syntax): conversations best first, each with "
                    + "a snippet whose matched words are marked <mark>…</mark>",
                scopes: [.query],
                responses: [
                    "200": "{results: [...], ranking: relevance|recency, nextCursor?}",
                    "400": "Bad query or filter (says where)",
                ],
                parameters: [
                    requiredText("q", "The search: words, \"phrases\", prefix*, AND/OR/NOT"),
                    queryParameter("account", "Account id"), queryParameter("channel", "Channel type"),
                    queryParameter("sender", "Sender type of the matching message"),
                    timeParameter("since", "RFC 3339 time, inclusive"),
                    timeParameter("until", "RFC 3339 time, inclusive"),
                    stateParameter,
                    queryParameter(
                        "escalated",
                        "true or false",
                        schema: .object(["type": "string", "enum": .array(["true", "false"])])
                    ),
                    queryParameter("cursor", "nextCursor of the previous page"),
                    integerParameter("limit", "1 to 100, default 20", 1...100),
                ]
            ),
            Operation(
                method: "get",
                path: "/v1/analytics/conversations",
                summary:
                    "Conversation metrics per hour, day or week (README \"Conversation metrics\"): started, ended, "
                    + "escalated, bot containment, abandonment, messages by sender, deliveries failed, and p50/p90 of "
                    + "first response, time to agent and handle time. JSON, or CSV with Accept: text/csv",
                scopes: [.query],
                responses: ["200": "{interval, since, until, buckets: [...], total}", "400": "Bad filter or range"],
                parameters: analyticsFilters + [queryParameter("interval", "hour, day or week; default day")]
            ),
            Operation(
                method: "get",
                path: "/v1/analytics/agents",
                summary: "Per agent: conversations handled (the agent's first message in the range), messages, and "
                    + "p50/p90 of handle time. JSON, or CSV with Accept: text/csv",
                scopes: [.query],
                responses: ["200": "{since, until, agents: [...]}", "400": "Bad filter or range"],
                parameters: analyticsFilters
            ),
            Operation(
                method: "post",
                path: "/v1/erasures",
                summary: "Erase a customer (by contact address, optionally at one account, or by customer id): their "
                    + "keys are destroyed and their plaintext removed from every read model; the log keeps its events",
                scopes: [.admin],
                requestBody: .object([
                    "required": true,
                    "content": .object([
                        "application/json": .object([
                            "schema": .object([
                                "type": "object", "additionalProperties": false,
                                "description": "contact (with account, optionally) or customer",
                                "oneOf": .array([
                                    .object(["required": .array(["contact"])]),
                                    .object(["required": .array(["customer"])]),
                                ]),
                                "properties": .object([
                                    "contact": .object(["type": "string", "minLength": 1, "maxLength": 1024]),
                                    "account": .object(["type": "string", "minLength": 1, "maxLength": 1024]),
                                    "customer": .object(["type": "string", "minLength": 1, "maxLength": 1024]),
                                ]),
                            ])
                        ])
                    ]),
                ]),
                responses: [
                    "201": "{id, position, customers, conversations, messages, keysDestroyed, assetsDeleted}",
                    "400": "Bad body", "404": "No customer matches",
                ]
            ),
            Operation(
                method: "get",
                path: "/v1/events",
                summary: "The event feed in the export form: JSON pages, or NDJSON (Accept: application/x-ndjson); "
                    + "Link rel=next while there may be more. Sealed content opened only with hubstore.audit.content",
                scopes: [.audit],
                responses: ["200": "{events: [...], head, nextCursor?}", "400": "Bad filter"],
                parameters: feedFilters + [
                    queryParameter("cursor", "nextCursor of the previous page"),
                    integerParameter("limit", "1 to 1000, default 100", 1...1000),
                ]
            ),
            Operation(
                method: "get",
                path: "/v1/events/live",
                summary: "The event feed as Server-Sent Events (id = position): catches up from `from`, or after "
                    + "Last-Event-ID, or from the head, then follows each commit; `: heartbeat` comments when idle",
                scopes: [.audit],
                responses: ["200": "text/event-stream", "400": "Bad filter"],
                parameters: feedFilters + [
                    integerParameter("heartbeat", "Seconds between heartbeats, 1 to 300, default 15", 1...300)
                ]
            ),
            Operation(
                method: "get",
                path: "/v1/conversations/{id}/transcript",
                summary: "The transcript: JSON, NDJSON (Accept: application/x-ndjson) or text (Accept: text/plain)",
                scopes: [.query],
                responses: ["200": "Transcript lines in order", "404": "Unknown conversation"],
                parameters: [pathID]
            ),
        ]
    }
}
