/// The shape of a request body: fields with types, limits and requirement, as the spec's tables give them.
///
/// ``validate(_:)`` keeps only known fields (unknown ones are ignored, as the API promises), fills
/// defaults, and refuses the first problem with the API's codes: a missing required attribute is
/// a `missingAttribute` ``Rejection`` naming it, a wrong type, length, format, range or enum value is `invalidValue` naming it.
public indirect enum FieldType: Sendable {
    case string(min: Int = 1, max: Int, format: StringFormat = .plain)
    case boolean
    /// A number within `min...max` (both always bounded: an unbounded number from JSON is a value the
    /// code using it may not be able to hold); `integer`: a whole number (`1e2` is 100, `1.5` is refused).
    case number(min: Double, max: Double, integer: Bool = false)
    case enumeration([String])
    case object([Field])
    case array(of: FieldType, min: Int = 0, max: Int = .max)
    /// Any JSON value, kept as sent (e.g. a message's `content.value`).
    case any
}

extension FieldType {
    /// 2^53 − 1, the largest whole number every JSON reader holds exactly (JavaScript's
    /// `Number.MAX_SAFE_INTEGER`), and well within `Int64`.
    public static let largestExactInteger: Double = 9_007_199_254_740_991

    /// A whole number from `min` to `max`.
    public static func integer(min: Double, max: Double = largestExactInteger) -> FieldType {
        .number(min: min, max: max, integer: true)
    }

    /// A duration in minutes: 0 up to 100 years.
    public static let minutes = FieldType.number(min: 0, max: 100 * 525_960)
}

/// What a string must look like beyond its length.
public enum StringFormat: Sendable {
    case plain
    /// An absolute `http` or `https` URL.
    case url
    case email
    /// 36 characters, 8-4-4-4-12 hex digits.
    case uuid
}

/// One field of a body. A class: validation walks a schema's fields for every request, and a
/// reference is one retain to copy where the struct was four.
public final class Field: Sendable {
    public let name: String
    public let type: FieldType
    public let isRequired: Bool
    public let defaultValue: JSONValue?
    /// Sealed at rest and masked on reads (DESIGN.md §6).
    public let isSecret: Bool

    public init(
        _ name: String,
        _ type: FieldType,
        required: Bool = false,
        default defaultValue: JSONValue? = nil,
        secret: Bool = false
    ) {
        self.name = name
        self.type = type
        self.isRequired = required
        self.defaultValue = defaultValue
        self.isSecret = secret
    }
}

/// A whole body's schema.
public struct Schema: Sendable {
    public var fields: [Field]

    public init(_ fields: [Field]) {
        self.fields = fields
    }

    /// The body with unknown fields dropped and defaults filled in, or the first problem.
    public func validate(_ body: JSONValue) throws(Rejection) -> JSONValue {
        guard case .object = body else {
            throw Rejection.invalidValue("body", "the request body must be a JSON object")
        }
        return try Self.validate(body, as: .object(fields), path: "")
    }

    /// The dotted paths of the secret fields (`[]` marks an array step), e.g. `roles[].headers[].value`.
    public var secretPaths: [String] { Self.secretPaths(in: fields, prefix: "") }

    private static func secretPaths(in fields: [Field], prefix: String) -> [String] {
        fields.flatMap { field -> [String] in
            let path = prefix.isEmpty ? field.name : prefix + "." + field.name
            if field.isSecret { return [path] }
            switch field.type {
            case .object(let nested): return secretPaths(in: nested, prefix: path)
            case .array(of: .object(let nested), _, _): return secretPaths(in: nested, prefix: path + "[]")
            default: return []
            }
        }
    }

    /// `path` is built only for an error: a valid body (the usual case) costs no string work for it.
    static func validate(
        _ value: JSONValue,
        as type: FieldType,
        path: @autoclosure () -> String
    ) throws(Rejection) -> JSONValue {
        try normalized(value, as: type, path: path()) ?? value
    }

    /// `value` as ``validate(_:as:path:)`` returns it, or `nil` when that is `value` itself: a body
    /// with only known fields, no default to fill and no number to rewrite (the usual case) is kept as
    /// sent, without building its objects and arrays again.
    private static func normalized(
        _ value: JSONValue,
        as type: FieldType,
        path: @autoclosure () -> String
    ) throws(Rejection) -> JSONValue? {
        switch (type, value) {
        case (.any, _):
            return nil
        case (.string(let min, let max, let format), .string(let text)):
            // Counting characters walks the whole text. A text with at most `max` bytes has at most
            // `max` characters, and a non-empty one at least one: only other texts need the count.
            let bytes = text.utf8.count
            if bytes > max || bytes < min || min > 1 {
                let count = text.count
                guard count >= min, count <= max else {
                    throw Rejection.invalidValue(path(), "must be \(min) to \(max) characters, not \(count)")
                }
            }
            try check(text, format: format, path: path())
            return nil
        case (.boolean, .bool):
            return nil
        case (.number(let min, let max, let integer), .integer(let number)):
            try checkRange(Double(number), min: min, max: max, integer: integer, path: path())
            return nil
        case (.number(let min, let max, let integer), .double(let number)):
            try checkRange(number, min: min, max: max, integer: integer, path: path())
            // A whole number sent as `1e2` or `100.0` is kept as the integer it is.
            return integer ? .integer(Int64(exactly: number) ?? 0) : nil
        case (.enumeration(let allowed), .string(let text)):
            guard allowed.contains(text) else {
                throw Rejection.invalidValue(
                    path(),
                    "must be one of " + allowed.map { "'\($0)'" }.joined(separator: ", ")
                )
            }
            return nil
        case (.object(let fields), .object(let given)):
            // The fields kept, as sent or rewritten; whether the object differs from `given`.
            var kept: [(name: String, value: JSONValue)] = []
            kept.reserveCapacity(Swift.min(fields.count, given.count))
            var differs = false
            for field in fields {
                switch given[field.name] {
                case nil, .null?:
                    if field.isRequired { throw Rejection.missingAttribute(joined(path(), field.name)) }
                    // A null is dropped; a default is filled in.
                    if given[field.name] != nil { differs = true }
                    if let defaultValue = field.defaultValue {
                        kept.append((field.name, defaultValue))
                        differs = true
                    }
                case let child?:
                    if let rewritten = try normalized(child, as: field.type, path: joined(path(), field.name)) {
                        kept.append((field.name, rewritten))
                        differs = true
                    } else {
                        kept.append((field.name, child))
                    }
                }
            }
            // Unknown fields are dropped.
            guard differs || kept.count != given.count else { return nil }
            return .object(Dictionary(kept.lazy.map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last }))
        case (.array(let element, let min, let max), .array(let items)):
            guard items.count >= min, items.count <= max else {
                throw Rejection.invalidValue(
                    path(),
                    "must have \(min) to \(max == .max ? "any number of" : String(max)) items, not \(items.count)"
                )
            }
            var result: [JSONValue]?
            for (index, item) in items.enumerated() {
                let rewritten = try normalized(item, as: element, path: "\(path())[\(index)]")
                if rewritten != nil, result == nil { result = Array(items[..<index]) }
                result?.append(rewritten ?? item)
            }
            return result.map(JSONValue.array)
        default:
            throw Rejection.invalidValue(path(), "must be \(describe(type))")
        }
    }

    private static func checkRange(
        _ number: Double,
        min: Double,
        max: Double,
        integer: Bool,
        path: @autoclosure () -> String
    ) throws(Rejection) {
        guard number.isFinite, number >= min, number <= max else {
            throw Rejection.invalidValue(
                path(),
                "must be \(integer ? "a whole number" : "a number") from \(numberText(min)) to \(numberText(max))"
            )
        }
        if integer, number != number.rounded(.towardZero) {
            throw Rejection.invalidValue(path(), "must be a whole number")
        }
    }

    /// `1`, not `1.0`; `9007199254740991`, not `9.007199254740991e+15`.
    static func numberText(_ number: Double) -> String {
        if let whole = Int64(exactly: number) { return String(whole) }
        return "\(number)"
    }

    private static func joined(_ path: String, _ name: String) -> String {
        path.isEmpty ? name : path + "." + name
    }

    private static func describe(_ type: FieldType) -> String {
        switch type {
        case .string: "a string"
        case .boolean: "true or false"
        case .number: "a number"
        case .enumeration(let allowed): "one of " + allowed.map { "'\($0)'" }.joined(separator: ", ")
        case .object: "an object"
        case .array: "an array"
        case .any: "a JSON value"
        }
    }

    /// `path` is built only for an error, as in ``validate(_:as:path:)``.
    private static func check(_ text: String, format: StringFormat, path: @autoclosure () -> String) throws(Rejection) {
        switch format {
        case .plain:
            return
        case .url:
            let lower = text.lowercased()
            guard lower.hasPrefix("https://") || lower.hasPrefix("http://"), text.count > 8, !text.contains(" ") else {
                throw Rejection.invalidValue(path(), "must be an absolute http or https URL")
            }
        case .email:
            let parts = text.split(separator: "@", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !text.contains(" ") else {
                throw Rejection.invalidValue(path(), "must be an e-mail address")
            }
        case .uuid:
            guard isUUID(text) else { throw Rejection.invalidValue(path(), "must be a 36-character id") }
        }
    }

    /// Whether `text` is 8-4-4-4-12 hex digits.
    public static func isUUID(_ text: String) -> Bool {
        guard text.utf8.count == 36 else { return false }
        for (index, byte) in text.utf8.enumerated() {
            switch index {
            case 8, 13, 18, 23:
                if byte != UInt8(ascii: "-") { return false }
            default:
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"),
                    UInt8(ascii: "A")...UInt8(ascii: "F"):
                    continue
                default:
                    return false
                }
            }
        }
        return true
    }
}
