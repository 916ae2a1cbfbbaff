import Foundation
import HubDomain

/// The document assembled from the operations, and the parameters operations share.
extension OpenAPIDocument {
    static let errorSchema: JSONValue = .object([
        "type": "object", "required": .array(["code", "developerMessage"]),
        "properties": .object([
            "code": .object(["type": "string", "example": "400-143"]),
            "developerMessage": .object(["type": "string"]),
            "userMessage": .object(["type": "string", "description": "Only with the header X-egain-error-message: yes"]
            ),
            "details": .object([
                "type": "array",
                "items": .object([
                    "type": "object",
                    "properties": .object(["key": .object(["type": "string"]), "value": .object(["type": "string"])]),
                ]),
            ]),
        ]),
    ])

    static var feedFilters: [JSONValue] {
        [
            integerParameter("from", "First log position, 1 or more", 1...Int64.max),
            queryParameter("stream", "A stream, or the streams under a prefix ending in /"),
            queryParameter("type", "Event types, comma-separated"), queryParameter("account", "Account id"),
            timeParameter("since", "RFC 3339 time, inclusive"), timeParameter("until", "RFC 3339 time, inclusive"),
        ]
    }

    static var analyticsFilters: [JSONValue] {
        [
            queryParameter("account", "Account id"), queryParameter("channel", "Channel type"),
            timeParameter("since", "RFC 3339 time, inclusive; default 30 days before until"),
            timeParameter("until", "RFC 3339 time, exclusive; default now"),
        ]
    }

    static let pathID: JSONValue = .object([
        "name": "id", "in": "path", "required": true,
        "schema": .object(["type": "string", "format": "uuid", "minLength": 36, "maxLength": 36]),
    ])

    static func queryParameter(
        _ name: String,
        _ description: String,
        required: Bool = false,
        schema: JSONValue = .object(["type": "string"])
    ) -> JSONValue {
        .object([
            "name": .string(name), "in": "query", "required": .bool(required), "description": .string(description),
            "schema": schema,
        ])
    }

    /// A query parameter the server reads as an integer in `range` (``ConfigurationController/integer``).
    static func integerParameter(_ name: String, _ description: String, _ range: ClosedRange<Int64>) -> JSONValue {
        queryParameter(
            name,
            description,
            schema: .object([
                "type": "integer", "minimum": .integer(range.lowerBound), "maximum": .integer(range.upperBound),
            ])
        )
    }

    /// A query parameter holding an RFC 3339 time; empty, it is as if absent.
    static func timeParameter(_ name: String, _ description: String) -> JSONValue {
        queryParameter(
            name,
            description,
            schema: .object([
                "type": "string",
                "anyOf": .array([.object(["format": "date-time"]), .object(["maxLength": 0])]),
            ])
        )
    }

    /// A conversation's state, as the conversation queries and search filter by it.
    static var stateParameter: JSONValue {
        queryParameter(
            "state",
            "active, escalated or ended",
            schema: .object(["type": "string", "enum": .array(ConversationQueryController.states.map { .string($0) })])
        )
    }

    /// A query parameter that must not be empty.
    static func requiredText(_ name: String, _ description: String) -> JSONValue {
        queryParameter(name, description, required: true, schema: .object(["type": "string", "minLength": 1]))
    }

    /// The whole document.
    static var json: JSONValue {
        var paths: [String: JSONValue] = [:]
        for operation in operations {
            var responses: [String: JSONValue] = [:]
            var statuses = operation.responses
            if let scopes = operation.scopes {
                // Every operation behind a token answers these, whether it lists them or not.
                statuses["401"] = statuses["401"] ?? "No token, or not a valid one"
                if !scopes.isEmpty { statuses["403"] = statuses["403"] ?? "The token lacks the scope (403-101)" }
            }
            for (status, description) in statuses {
                var response: [String: JSONValue] = ["description": .string(description)]
                if status.hasPrefix("4"), !operation.path.hasPrefix("/oauth2"), let schema = operation.errorSchema {
                    response["content"] = .object([
                        "application/json": .object([
                            "schema": .object(["$ref": .string("#/components/schemas/\(schema)")])
                        ])
                    ])
                }
                responses[status] = .object(response)
            }
            var entry: [String: JSONValue] = [
                "summary": .string(operation.summary), "responses": .object(responses),
                "operationId": .string(
                    operation.method
                        + operation.path.replacingOccurrences(of: "/", with: "_")
                        .replacingOccurrences(of: "{", with: "").replacingOccurrences(of: "}", with: "")
                        .replacingOccurrences(of: ".", with: "_").replacingOccurrences(of: "$", with: "")
                ),
            ]
            if let scopes = operation.scopes {
                entry["security"] = .array([.object(["oauth2": .array(scopes.map { .string($0.rawValue) })])])
            } else {
                entry["security"] = .array([])
            }
            if let body = operation.requestBody { entry["requestBody"] = body }
            if !operation.parameters.isEmpty { entry["parameters"] = .array(operation.parameters) }
            var methods = paths[operation.path]?.objectValue ?? [:]
            methods[operation.method] = .object(entry)
            paths[operation.path] = .object(methods)
        }
        var schemas: [String: JSONValue] = ["Error": errorSchema, "ConnectorError": connectorErrorSchema]
        schemas["AppInstallation"] = jsonSchema(.object(AppInstallation.schema.fields))
        for kind in ResourceKind.allCases { schemas[kind.rawValue] = jsonSchema(.object(kind.schema.fields)) }
        schemas["RequestMessages"] = jsonSchema(.object(RequestMessages.schema.fields))
        schemas["AssetRequest"] = jsonSchema(.object(AssetController.requestSchema.fields))
        return .object([
            "openapi": "3.1.0",
            "info": .object([
                "title": "HubStore",
                "version": "0.1.0",
                "description":
                    "Conversation Manager v3 configuration and conversations, tokens, queries and operations of a HubStore hub.",
            ]),
            "paths": .object(paths),
            "components": .object([
                "schemas": .object(schemas),
                "securitySchemes": .object([
                    "oauth2": .object([
                        "type": "oauth2",
                        "flows": .object([
                            "clientCredentials": .object([
                                "tokenUrl": "/oauth2/token",
                                "scopes": .object(
                                    Dictionary(
                                        uniqueKeysWithValues: Scope.allCases.map {
                                            ($0.rawValue, JSONValue.string($0.rawValue))
                                        }
                                    )
                                ),
                            ])
                        ]),
                    ])
                ]),
            ]),
        ])
    }
}
