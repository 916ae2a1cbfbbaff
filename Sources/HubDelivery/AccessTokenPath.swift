import Foundation
import HubDomain

/// The subset of JSONPath an Authentication's `accessTokenPath` may use (spec §3.1 [P]):
/// `$.a.b`, `a.b`, `$['a'].b`, `$.items[0].token`. The value found must be a string (or a number,
/// taken as its text).
enum AccessTokenPath {
    enum Step: Equatable {
        case key(String)
        case index(Int)
    }

    /// The steps of a path, or `nil` when it is outside the subset.
    static func steps(_ path: String) -> [Step]? {
        var rest = Substring(path.trimmingCharacters(in: .whitespaces))
        if rest.hasPrefix("$") { rest = rest.dropFirst() }
        var steps: [Step] = []
        while !rest.isEmpty {
            if rest.hasPrefix(".") {
                rest = rest.dropFirst()
                let name = rest.prefix { $0 != "." && $0 != "[" }
                guard !name.isEmpty else { return nil }
                steps.append(.key(String(name)))
                rest = rest.dropFirst(name.count)
            } else if rest.hasPrefix("[") {
                guard let close = rest.firstIndex(of: "]") else { return nil }
                let inner = rest[rest.index(after: rest.startIndex)..<close]
                if let index = Int(inner), index >= 0 {
                    steps.append(.index(index))
                } else if inner.count >= 2, let quote = inner.first, quote == "'" || quote == "\"", inner.last == quote
                {
                    steps.append(.key(String(inner.dropFirst().dropLast())))
                } else {
                    return nil
                }
                rest = rest[rest.index(after: close)...]
            } else if steps.isEmpty {
                // A bare first name: `access_token`, `data.token`.
                rest = "." + rest
            } else {
                return nil
            }
        }
        return steps.isEmpty ? nil : steps
    }

    /// The token at `path` in a token response.
    static func extract(_ path: String, from response: JSONValue) -> String? {
        guard let steps = steps(path) else { return nil }
        var current: JSONValue? = response
        for step in steps {
            switch step {
            case .key(let name): current = current?[name]
            case .index(let index):
                guard let items = current?.arrayValue, items.indices.contains(index) else { return nil }
                current = items[index]
            }
        }
        switch current {
        case .string(let text)?: return text.isEmpty ? nil : text
        case .integer(let number)?: return String(number)
        default: return nil
        }
    }
}
