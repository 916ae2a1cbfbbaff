import HubDomain

/// The LivePerson connector's routes in the OpenAPI document: the app installations (hub tokens,
/// scope `hubstore.admin`), and the Domain API and token endpoints, which take LivePerson's own
/// credentials and answer errors in LivePerson's `ErrorResp` body.
extension OpenAPIDocument {
    static let connectorErrorSchema: JSONValue = .object([
        "type": "object", "required": .array(["kind", "code", "body", "type"]),
        "properties": .object([
            "kind": .object(["type": "string", "enum": .array(["resp"])]),
            "code": .object(["type": "integer", "example": 401]),
            "body": .object([
                "type": "object",
                "properties": .object([
                    "title": .object(["type": "string"]), "details": .object(["type": "string"]),
                    "errorCode": .object(["type": "integer", "example": 40105]),
                ]),
            ]),
            "type": .object(["type": "string", "enum": .array([".ReqBody$ErrorResp"])]),
        ]),
    ])

    static let accountParameter: JSONValue = .object([
        "name": "accountId", "in": "path", "required": true,
        "description": "The LivePerson account id: the address of a HubStore account",
        "schema": .object(["type": "string", "minLength": 1, "maxLength": 64]),
    ])

    static let installationBody: JSONValue = .object([
        "required": true,
        "content": .object([
            "application/json": .object(["schema": .object(["$ref": "#/components/schemas/AppInstallation"])])
        ]),
    ])

    static var connectorOperations: [Operation] {
        let installations = "/api/account/{accountId}/configuration/app-install/installations"
        let installation = installations + "/{id}"
        let service: JSONValue = .object([
            "name": "service", "in": "path", "required": true, "schema": .object(["type": "string", "minLength": 1]),
        ])
        let appJWT: JSONValue = .object([
            "name": "Authorization", "in": "header", "required": true,
            "description": "The AppJWT, raw or after Bearer", "schema": .object(["type": "string"]),
        ])
        return [
            Operation(
                method: "post",
                path: installations,
                summary: "Install a connector app: answers the installation with client_id and client_secret (once)",
                scopes: [.admin],
                requestBody: installationBody,
                responses: ["201": "The installation with client_id and client_secret", "400": "Bad body"],
                parameters: [accountParameter]
            ),
            Operation(
                method: "get",
                path: installations,
                summary: "The account's connector app installations",
                scopes: [.admin],
                responses: ["200": "Installations (no secrets)", "400": "Bad query"],
                parameters: [accountParameter]
            ),
            Operation(
                method: "get",
                path: installation,
                summary: "One installation",
                scopes: [.admin],
                responses: [
                    "200": "The installation (no secret)", "400": "Bad account id", "404": "No such installation",
                ],
                parameters: [accountParameter, pathID]
            ),
            Operation(
                method: "put",
                path: installation,
                summary: "Replace an installation's body (its credentials stay)",
                scopes: [.admin],
                requestBody: installationBody,
                responses: ["200": "The installation as it now is", "400": "Bad body", "404": "No such installation"],
                parameters: [accountParameter, pathID]
            ),
            Operation(
                method: "delete",
                path: installation,
                summary: "Remove an installation: its tokens and webhooks stop",
                scopes: [.admin],
                responses: ["204": "Removed", "400": "Bad account id", "404": "No such installation"],
                parameters: [accountParameter, pathID]
            ),
            Operation(
                method: "get",
                path: "/api/account/{accountId}/service/{service}/baseURI.json",
                summary: "Domain API lookalike: this hub's host for any service",
                scopes: nil,
                responses: ["200": "{service, account, baseURI}", "400": "Bad account"],
                parameters: [accountParameter, service, queryParameter("version", "1.0")],
                errorSchema: "ConnectorError"
            ),
        ]
            + ["baseURI.json", "baseURI"].map { name in
                Operation(
                    method: "get",
                    path: "/api/account/{accountId}/service/\(name)",
                    summary: "Domain API lookalike: every service's host (this hub's)",
                    scopes: nil,
                    responses: ["200": "{baseURIs: [{service, account, baseURI}]}", "400": "Bad account"],
                    parameters: [accountParameter, queryParameter("version", "1.0")],
                    errorSchema: "ConnectorError"
                )
            } + [
                Operation(
                    method: "post",
                    path: "/sentinel/api/account/{accountId}/app/token",
                    summary: "AppJWT for a connector app (client credentials in a form body or the query string)",
                    scopes: nil,
                    requestBody: .object([
                        "required": false,
                        "content": .object([
                            "application/x-www-form-urlencoded": .object([
                                "schema": .object([
                                    "type": "object",
                                    "properties": .object([
                                        "grant_type": .object([
                                            "type": "string", "enum": .array(["client_credentials"]),
                                        ]),
                                        "client_id": .object(["type": "string"]),
                                        "client_secret": .object(["type": "string"]),
                                    ]),
                                ])
                            ])
                        ]),
                    ]),
                    responses: [
                        "200": "{access_token, token_type, expires_in}", "400": "OAuth2 error", "401": "invalid_client",
                        "429": "Throttled",
                    ],
                    parameters: [
                        accountParameter, queryParameter("v", "1.0"),
                        queryParameter(
                            "grant_type",
                            "client_credentials",
                            schema: .object(["type": "string", "enum": .array(["client_credentials"])])
                        ),
                        queryParameter("client_id", "The installation's client_id"),
                        queryParameter("client_secret", "The installation's client_secret"),
                    ],
                    errorSchema: nil
                ),
                Operation(
                    method: "post",
                    path: "/api/account/{accountId}/consumer",
                    summary: "ConsumerJWS for a consumer of the connector (never expires)",
                    scopes: nil,
                    requestBody: .object([
                        "required": true,
                        "content": .object([
                            "application/json": .object([
                                "schema": .object([
                                    "type": "object", "required": .array(["ext_consumer_id"]),
                                    "properties": .object([
                                        "ext_consumer_id": .object(["type": "string", "minLength": 1, "maxLength": 256])
                                    ]),
                                ])
                            ])
                        ]),
                    ]),
                    responses: [
                        "201": "{token}", "400": "Missing ext_consumer_id", "401": "AppJWT missing or invalid",
                    ],
                    parameters: [accountParameter, appJWT, queryParameter("v", "1.0")],
                    errorSchema: "ConnectorError"
                ),
            ]
    }
}

extension OpenAPIDocument {
    /// CONVERSATION and SEND.
    static var connectorMessagingOperations: [Operation] {
        let headers: [JSONValue] = [
            accountParameter,
            .object([
                "name": "Authorization", "in": "header", "required": true,
                "description": "The AppJWT, raw or after Bearer", "schema": .object(["type": "string"]),
            ]),
            .object([
                "name": "X-LP-ON-BEHALF", "in": "header", "required": true, "description": "The ConsumerJWS",
                "schema": .object(["type": "string"]),
            ]),
            queryParameter("v", "3 (or absent)", schema: .object(["type": "string", "enum": .array(["3"])])),
        ]
        let request: JSONValue = .object([
            "type": "object", "required": .array(["id", "type"]),
            "properties": .object([
                "kind": .object(["type": "string", "enum": .array(["req"])]),
                "id": .object(["type": .array(["string", "integer"])]),
                "type": .object([
                    "type": "string",
                    "enum": .array([
                        "userprofile.SetUserProfile", "cm.ConsumerRequestConversation", "ms.PublishEvent",
                        "cm.UpdateConversationField",
                    ]),
                ]),
                "body": .object(["type": "object"]),
                "metadata": .object(["type": "array", "items": .object(["type": "object"])]),
            ]),
        ])
        func body(_ schema: JSONValue) -> JSONValue {
            .object(["required": true, "content": .object(["application/json": .object(["schema": schema])])])
        }
        return [
            Operation(
                method: "post",
                path: "/api/account/{accountId}/messaging/consumer/conversation",
                summary: "CONVERSATION: set the profile, open a conversation (and publish its first event)",
                scopes: nil,
                requestBody: body(.object(["type": "array", "minItems": 2, "maxItems": 3, "items": request])),
                responses: [
                    "200": "One response per request, in order (conversationId on the second)",
                    "400": "A malformed batch, or a request refused (nothing kept)",
                    "401": "AppJWT or ConsumerJWS missing or invalid",
                ],
                parameters: headers,
                errorSchema: "ConnectorError"
            ),
            Operation(
                method: "post",
                path: "/api/account/{accountId}/messaging/consumer/conversation/send",
                summary: "SEND: publish an event, update the conversation, or set the profile",
                scopes: nil,
                requestBody: body(request),
                responses: [
                    "200": "{reqId, code: OK, body}", "400": "A malformed or refused request",
                    "401": "AppJWT or ConsumerJWS missing or invalid, or not the consumer's conversation",
                ],
                parameters: headers,
                errorSchema: "ConnectorError"
            ),
        ]
    }
}
