import HubDomain
import Testing

@testable import HubReadModels

struct JSONTextCacheTests {
    @Test func aTextIsParsedAsJSONValueParsesItAndTheCacheStaysWithinItsCapacity() throws {
        let cache = JSONTextCache(capacity: 3)
        let texts = (0..<7).map { #"{"name": "Customer \#($0)", "contacts": {"contact": []}}"# }
        for _ in 0..<2 {
            for text in texts {
                #expect(try cache.parse(text) == JSONValue.parse(text))
                #expect(cache.count <= 3)
            }
        }
        #expect(cache.contains { $0 == texts[6] })
        // Not JSON: thrown, and not kept.
        #expect(throws: (any Error).self) { try cache.parse("{not json") }
        #expect(!cache.contains { $0 == "{not json" })
        cache.removeAll()
        #expect(cache.count == 0)
    }
}
