import HubDomain

extension OpenAPIDocument {
    /// `schema`, also admitting null.
    static func nullable(_ schema: JSONValue) -> JSONValue {
        guard case .object(var object) = schema else { return schema }
        if case .string(let type)? = object["type"] { object["type"] = .array([.string(type), "null"]) }
        if case .array(let values)? = object["enum"] { object["enum"] = .array(values + [.null]) }
        return .object(object)
    }

    /// JSON Schema for a field type of our schema DSL.
    static func jsonSchema(_ type: FieldType) -> JSONValue {
        switch type {
        case .string(let min, let max, let format):
            var schema: [String: JSONValue] = ["type": "string", "minLength": .integer(Int64(min))]
            if max != .max { schema["maxLength"] = .integer(Int64(max)) }
            switch format {
            case .plain: break
            case .url: schema["format"] = "uri"
            case .email: schema["format"] = "email"
            case .uuid: schema["format"] = "uuid"
            }
            return .object(schema)
        case .boolean:
            return .object(["type": "boolean"])
        case .number(let min, let max, let integer):
            return .object(["type": integer ? "integer" : "number", "minimum": .double(min), "maximum": .double(max)])
        case .enumeration(let values):
            return .object(["type": "string", "enum": .array(values.map(JSONValue.string))])
        case .object(let fields):
            var properties: [String: JSONValue] = [:]
            for field in fields {
                var schema = jsonSchema(field.type)
                if field.isSecret, case .object(var object) = schema {
                    object["description"] = "Secret: sealed at rest, read back as ********"
                    schema = .object(object)
                }
                // An optional field may be sent as null: the server drops it (or fills its default in).
                properties[field.name] = field.isRequired ? schema : nullable(schema)
            }
            var schema: [String: JSONValue] = ["type": "object", "properties": .object(properties)]
            let required = fields.filter(\.isRequired).map { JSONValue.string($0.name) }
            if !required.isEmpty { schema["required"] = .array(required) }
            return .object(schema)
        case .any:
            return .object([:])
        case .array(let element, let min, let max):
            var schema: [String: JSONValue] = ["type": "array", "items": jsonSchema(element)]
            if min > 0 { schema["minItems"] = .integer(Int64(min)) }
            if max != .max { schema["maxItems"] = .integer(Int64(max)) }
            return .object(schema)
        }
    }
}
