import Foundation
import HubDomain
import HubEventLog
import Hummingbird

/// A request's query parameters with names **and** values percent-decoded.
///
/// Hummingbird's `uri.queryParameters` decodes values only, so `?%24pagesize=2` (how Python
/// `requests` and JavaScript `URLSearchParams` send `$pagesize`) was refused as an unknown parameter.
/// `+` stays a plus sign (RFC 3986): contact addresses and RFC 3339 offsets carry one, and the
/// clients that encode spaces as `+` encode a plus as `%2B`. Empty segments (`a=1&&b=2`) are skipped;
/// a segment whose percent-encoding is invalid keeps its raw text. When a name repeats, the first wins.
struct QueryParameters: Sendable {
    let pairs: [(name: String, value: String)]

    init(_ query: String?) {
        var pairs: [(name: String, value: String)] = []
        for segment in (query ?? "").split(separator: "&", omittingEmptySubsequences: true) {
            let parts = segment.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (part: Substring) in String(part).removingPercentEncoding ?? String(part) }
            pairs.append((decode(parts[0]), parts.count > 1 ? decode(parts[1]) : ""))
        }
        self.pairs = pairs
    }

    /// The first value of `name`, decoded.
    subscript(_ name: String) -> String? { pairs.first { $0.name == name }?.value }

    /// Every decoded name.
    var names: Set<String> { Set(pairs.map(\.name)) }
}

extension Request {
    /// The query parameters, names and values percent-decoded (see ``QueryParameters``).
    var decodedQuery: QueryParameters { QueryParameters(uri.query) }
}

extension QueryParameters {
    /// The value of `name`, `nil` when absent or empty.
    func text(_ name: String) -> String? { self[name].flatMap { $0.isEmpty ? nil : $0 } }

    /// The value of `name` as an RFC 3339 time in milliseconds; `nil` when absent, a 400 when not a time.
    func time(_ name: String) throws(Rejection) -> Int64? {
        guard let value = text(name) else { return nil }
        guard let milliseconds = Timestamp.milliseconds(value) else {
            throw Rejection.invalidValue(name, "must be an RFC 3339 time like 2021-03-06T21:16:36.838Z")
        }
        return milliseconds
    }
}
