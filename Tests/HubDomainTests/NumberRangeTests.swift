import HubDomain
import Testing

/// Numbers from JSON are range-checked when validated, and stored ones are read without trapping.
struct NumberRangeTests {
    @Test func storedHugeNumbersAreClampedWhenAChannelIsRead() {
        let channel: JSONValue = .object([
            "type": "c",
            "restrictions": .object([
                "inbound": .object([
                    "maxTextLength": .double(1e300), "attachmentPolicy": .object(["maxSize": .double(1e300)]),
                ]),
                "outbound": .object([
                    "maxTextLength": .double(-1e300), "attachmentPolicy": .object(["maxSize": .double(.nan)]),
                ]),
            ]),
        ])
        let rules = ChannelRules(channel)
        #expect(rules.inboundMaxText == Int.max)
        #expect(rules.outboundMaxText == Int.min)
        #expect(rules.inboundAttachments.maxSize == Int64.max)
        #expect(rules.outboundAttachments.maxSize == nil)
        #expect(JSONValue.double(9.5).clampedInt64 == 9)
        #expect(JSONValue.double(-0.5).clampedInt64 == -1)
        #expect(JSONValue.double(0x1p63).clampedInt64 == .max)
        #expect(JSONValue.double(-0x1p63).clampedInt64 == .min)
        #expect(JSONValue.integer(.max).clampedInt64 == .max)
    }

    @Test func wholeNumbersAreCheckedForRangeAndFraction() throws {
        let schema = Schema([Field("size", .integer(min: 1, max: 1000))])
        let refusals: [JSONValue] = [
            .double(1e300), .double(-1e300), .double(1.5), .integer(0), .integer(1001), .integer(.max), .integer(.min),
        ]
        for refused in refusals {
            let error = #expect(throws: Rejection.self) { try schema.validate(.object(["size": refused])) }
            #expect(error?.reason == .invalidValue)
            #expect(error?.details == [.init(key: "attribute", value: "size")])
        }
        // `1e2` and `100.0` are the whole number 100.
        #expect(try schema.validate(.object(["size": .double(100)])) == .object(["size": .integer(100)]))
        #expect(try schema.validate(.object(["size": .integer(7)])) == .object(["size": .integer(7)]))
        let minutes = Schema([Field("timeout", .minutes)])
        #expect(try minutes.validate(.object(["timeout": .double(0.5)])) == .object(["timeout": .double(0.5)]))
        #expect(throws: Rejection.self) { try minutes.validate(.object(["timeout": .double(1e300)])) }
        #expect(throws: Rejection.self) { try minutes.validate(.object(["timeout": .double(-1)])) }
    }

    @Test func everyNumberOfEveryConfigurationSchemaIsBounded() {
        func numbers(_ type: FieldType) -> [(min: Double, max: Double)] {
            switch type {
            case .number(let min, let max, _): [(min, max)]
            case .object(let fields): fields.flatMap { numbers($0.type) }
            case .array(let element, _, _): numbers(element)
            default: []
            }
        }
        let all =
            ResourceKind.allCases.flatMap { numbers(.object($0.schema.fields)) }
            + numbers(.object(RequestMessages.schema.fields))
        #expect(all.count == 7)
        for range in all {
            #expect(range.min.isFinite && range.max.isFinite)
            // Every bound converts to Int64 exactly, so nothing validated can trap a conversion.
            #expect(Int64(exactly: range.max.rounded(.down)) != nil)
            #expect(Int64(exactly: range.min.rounded(.down)) != nil)
        }
    }
}
