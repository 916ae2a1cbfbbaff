import Foundation
import HubDomain

/// The OpenAPI 3.1 description of every route, served at `/openapi.json`.
///
/// Built from the same definitions the routes use (the resource kinds and their schemas), and a test
/// compares its operations with the router's, so it cannot drift from what the server answers.
enum OpenAPIDocument {
    struct Operation {
        var method: String
        var path: String
        var summary: String
        var scopes: [Scope]?
        var requestBody: JSONValue?
        var responses: [String: String]
        var parameters: [JSONValue] = []
        /// The schema of its 4xx bodies (`nil`: OAuth2's own error body).
        var errorSchema: String? = "Error"
    }

    static var operations: [Operation] {
        var operations = [
            Operation(method: "get", path: "/healthz", summary: "Process is up", scopes: nil, responses: ["200": "Up"]),
            Operation(
                method: "get",
                path: "/readyz",
                summary: "Migrations applied and writer running",
                scopes: nil,
                responses: ["200": "Ready", "503": "Starting"]
            ),
            Operation(
                method: "get",
                path: "/metrics",
                summary: "Prometheus metrics",
                scopes: [.admin],
                responses: ["200": "Prometheus text exposition"]
            ),
            Operation(
                method: "get",
                path: "/v1/log/head",
                summary:
                    "The latest signed checkpoint of the log's head (Ed25519; for `hubstore verify --expect-head`)",
                scopes: [.query, .admin],
                responses: [
                    "200": "position, hash, recordedAt, head, signature, signedBytes, publicKey", "404": "None yet",
                ]
            ),
            Operation(
                method: "get",
                path: "/openapi.json",
                summary: "This document (any valid token)",
                scopes: [],
                responses: ["200": "OpenAPI 3.1"]
            ),
            Operation(
                method: "post",
                path: "/oauth2/token",
                summary: "OAuth2 client-credentials grant",
                scopes: nil,
                requestBody: .object([
                    "required": true,
                    "content": .object([
                        "application/x-www-form-urlencoded": .object([
                            "schema": .object([
                                "type": "object", "required": .array(["grant_type"]),
                                "properties": .object([
                                    "grant_type": .object(["type": "string", "enum": .array(["client_credentials"])]),
                                    "client_id": .object(["type": "string"]),
                                    "client_secret": .object(["type": "string"]),
                                    "scope": .object(["type": "string"]),
                                ]),
                            ])
                        ])
                    ]),
                ]),
                responses: ["200": "Token", "400": "OAuth2 error", "401": "invalid_client", "429": "Throttled"]
            ),
            Operation(
                method: "get",
                path: "/v1/accounts/{id}/configuration",
                summary: "An account resolved with everything it routes through, as of a position or time",
                scopes: [.query],
                responses: ["200": "Configuration document", "400": "Bad asOf", "404": "No such account then"],
                parameters: [
                    pathID,
                    queryParameter(
                        "asOf",
                        "A log position or an RFC 3339 time",
                        schema: .object([
                            "type": "string",
                            "anyOf": .array([
                                .object(["pattern": "^[0-9]{1,18}$"]), .object(["format": "date-time"]),
                            ]),
                        ])
                    ),
                ]
            ),
            Operation(
                method: "get",
                path: "/v1/configuration/history",
                summary: "Every version of a resource",
                scopes: [.query],
                responses: ["200": "Versions", "400": "Bad kind", "404": "Unknown resource"],
                parameters: [
                    queryParameter(
                        "kind",
                        "The resource's kind",
                        required: true,
                        schema: .object([
                            "type": "string", "enum": .array(ResourceKind.allCases.map { .string($0.rawValue) }),
                        ])
                    ),
                    requiredText("id", "The resource id"),
                ]
            ),
        ]
        operations += conversationOperations
        for kind in ResourceKind.allCases {
            let base = "/conversation/conversationmgr/v3/" + kind.pathSegment
            let body: JSONValue = .object([
                "required": true,
                "content": .object([
                    "application/json": .object([
                        "schema": .object(["$ref": .string("#/components/schemas/\(kind.rawValue)")])
                    ])
                ]),
            ])
            let name = kind.displayName
            operations += [
                Operation(
                    method: "post",
                    path: base,
                    summary: "Create a \(name.lowercased())",
                    scopes: [.manage],
                    requestBody: body,
                    responses: ["201": "Created: {id}", "400": "Invalid", "401": "No token", "403": "Scope"]
                ),
                Operation(
                    method: "get",
                    path: base,
                    summary: "List \(kind.pathSegment)",
                    scopes: [.manage, .read],
                    responses: [
                        "200": "{paginationInfo, \(kind.itemName): [...]}", "400": "Bad parameter", "406": "Not JSON",
                    ],
                    parameters: [
                        integerParameter("$pagenum", "Page, from 1", 1...Int64(Int32.max)),
                        integerParameter("$pagesize", "1 to 75, default 10", 1...75),
                    ]
                ),
                Operation(
                    method: "get",
                    path: base + "/{id}",
                    summary: "Get a \(name.lowercased())",
                    scopes: [.manage, .read],
                    responses: ["200": "The resource, secrets masked", "404": "Not found", "406": "Not JSON"],
                    parameters: [pathID]
                ),
                Operation(
                    method: "put",
                    path: base + "/{id}",
                    summary: "Replace a \(name.lowercased())",
                    scopes: [.manage],
                    requestBody: body,
                    responses: ["204": "Replaced", "400": "Invalid or stale", "404": "Not found"],
                    parameters: [pathID]
                ),
                Operation(
                    method: "delete",
                    path: base + "/{id}",
                    summary: "Delete a \(name.lowercased())",
                    scopes: [.manage],
                    responses: ["204": "Deleted", "400": "Still referenced (400-146)", "404": "Not found"],
                    parameters: [pathID]
                ),
            ]
        }
        operations += connectorOperations + connectorMessagingOperations
        return operations
    }
}
