import HubDomain
import Hummingbird

/// Proactive negotiation on `Accept` (RFC 9110 §12.5.1).
///
/// Each offered media type takes the weight of the most specific range that matches it
/// (`type/subtype;param` over `type/subtype` over `type/*` over `*/*`), so `application/json;q=0, */*`
/// excludes JSON. The offer with the highest weight wins; on equal weights, the one matched more
/// specifically, then the one whose range the client listed first, then the server's order (JSON
/// first). No `Accept`, or an empty one, accepts anything. Media-type parameters (`charset=utf-8`)
/// count for specificity only.
struct ContentNegotiation {
    struct MediaRange: Equatable {
        var type: String
        var subtype: String
        var parameterCount: Int
        var quality: Double
    }

    /// `nil` when the request states no preference.
    let ranges: [MediaRange]?

    init(accept: String?) {
        guard let accept, !accept.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "," }) else {
            ranges = nil
            return
        }
        ranges = accept.split(separator: ",").compactMap(Self.parseRange)
    }

    init(_ request: Request) {
        let values = request.headers[values: .accept]
        self.init(accept: values.isEmpty ? nil : values.joined(separator: ","))
    }

    static func parseRange(_ text: Substring) -> MediaRange? {
        let parts = text.split(separator: ";").map { $0.trimmingSpacesAndTabs() }
        guard let mediaType = parts.first?.lowercased() else { return nil }
        let names = mediaType.split(separator: "/", omittingEmptySubsequences: false)
        guard names.count == 2, !names[0].isEmpty, !names[1].isEmpty, names[0] != "*" || names[1] == "*" else {
            return nil
        }
        var range = MediaRange(type: String(names[0]), subtype: String(names[1]), parameterCount: 0, quality: 1)
        for parameter in parts.dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingSpacesAndTabs() }
            if pair.first?.lowercased() == "q" {
                // Everything after `q` is an accept extension; a malformed weight counts as 1.
                if pair.count == 2, let weight = Double(pair[1]), weight.isFinite {
                    range.quality = min(max(weight, 0), 1)
                }
                break
            }
            range.parameterCount += 1
        }
        return range
    }

    /// How specifically `range` matches `type/subtype`; `nil` when it does not.
    static func specificity(_ range: MediaRange, type: Substring, subtype: Substring) -> Int? {
        if range.type == "*" { return 0 }
        guard range.type == type else { return nil }
        if range.subtype == "*" { return 1 }
        guard range.subtype == subtype else { return nil }
        return 2 + range.parameterCount
    }

    /// The acceptable offer the client prefers (offers in the server's order of preference), or `nil`
    /// when every offer has weight 0 or matches no range.
    func preferred(_ offers: [String]) -> String? {
        guard let ranges else { return offers.first }
        var best: (offer: String, quality: Double, specificity: Int, position: Int)?
        for offer in offers {
            let names = offer.lowercased().split(separator: "/")
            var match: (quality: Double, specificity: Int, position: Int)?
            for (position, range) in ranges.enumerated() {
                guard let specificity = Self.specificity(range, type: names[0], subtype: names[1]) else { continue }
                if match == nil || specificity > match!.specificity {
                    match = (range.quality, specificity, position)
                }
            }
            guard let match, match.quality > 0 else { continue }
            if let current = best {
                let better =
                    match.quality != current.quality
                    ? match.quality > current.quality
                    : match.specificity != current.specificity
                        ? match.specificity > current.specificity : match.position < current.position
                guard better else { continue }
            }
            best = (offer, match.quality, match.specificity, match.position)
        }
        return best?.offer
    }
}

extension Request {
    /// The representation to answer with, among `offers` (the server's preference first); 406
    /// `406-101` when the `Accept` header excludes them all.
    func negotiate(_ offers: [String]) throws -> String {
        let negotiation = ContentNegotiation(self)
        guard let offer = negotiation.preferred(offers) else {
            throw APIError(
                statusCode: 406,
                code: "406-101",
                developerMessage: "The Accept header excludes every available representation: "
                    + offers.joined(separator: ", ") + ".",
                details: [
                    .init(key: "Accept", value: String(headers[values: .accept].joined(separator: ", ").prefix(255)))
                ]
            )
        }
        return offer
    }
}
