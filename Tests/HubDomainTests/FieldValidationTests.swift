import HubDomain
import Testing

/// Lengths are counted in characters, as the spec's limits are; a missing or wrong field is named by its
/// whole path.
struct FieldValidationTests {
    private let schema = Schema([
        Field("name", .string(min: 2, max: 3), required: true),
        Field("id", .string(max: 36, format: .uuid)),
        Field("items", .array(of: .object([Field("tag", .string(max: 4), required: true)]))),
    ])

    @Test(arguments: [
        ("ab", true), ("abc", true), ("a", false), ("abcd", false),
        // Three characters of four bytes each: within a limit of three characters.
        ("😀😀😀", true),
        // One character, two bytes and more: still one character, below the minimum of two.
        ("é", false), ("😀", false),
        ("😀😀😀😀", false),
    ])
    func lengthsAreCountedInCharacters(name: String, accepted: Bool) {
        let result = Result { () throws(Rejection) in try schema.validate(.object(["name": .string(name)])) }
        #expect(((try? result.get()) != nil) == accepted)
        if !accepted, case .failure(let error) = result { #expect(error.reason == .invalidValue) }
    }

    @Test func errorsNameTheFieldsWholePath() {
        #expect(throws: Rejection.missingAttribute("items[1].tag")) {
            try schema.validate(.object(["name": "ab", "items": .array([.object(["tag": "t"]), .object([:])])]))
        }
        #expect(throws: Rejection.invalidValue("items[0].tag", "must be 1 to 4 characters, not 5")) {
            try schema.validate(.object(["name": "ab", "items": .array([.object(["tag": "tagss"])])]))
        }
        #expect(throws: Rejection.missingAttribute("name")) { try schema.validate(.object([:])) }
    }

    /// A valid body comes back as sent; only what validation changes differs: unknown fields and nulls
    /// are dropped, defaults filled in, whole numbers sent as decimals made integers, at any depth.
    @Test func aValidBodyIsKeptAsSentAndOnlyWhatValidationChangesDiffers() throws {
        let schema = Schema([
            Field("name", .string(max: 8), required: true),
            Field("mode", .enumeration(["a", "b"]), default: "a"),
            Field(
                "items",
                .array(of: .object([Field("count", .integer(min: 0)), Field("note", .string(max: 8))]))
            ),
            Field("value", .any),
        ])
        let asSent: JSONValue = .object([
            "name": "n", "mode": "b", "value": .object(["x": .null, "y": .double(1.5)]),
            "items": .array([.object(["count": 1, "note": "a"]), .object(["count": 2])]),
        ])
        #expect(try schema.validate(asSent) == asSent)
        let sent: JSONValue = .object([
            "name": "n", "extra": true, "value": .object(["x": .null]),
            "items": .array([.object(["count": 1, "note": .null]), .object(["count": .double(2)]), .object([:])]),
        ])
        #expect(
            try schema.validate(sent)
                == .object([
                    "name": "n", "mode": "a", "value": .object(["x": .null]),
                    "items": .array([.object(["count": 1]), .object(["count": 2]), .object([:])]),
                ])
        )
        #expect(
            try schema.validate(.object(["name": "n", "mode": "b", "unknown": 1]))
                == .object(["name": "n", "mode": "b"])
        )
    }

    @Test(arguments: [
        ("0193a3b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b", true), ("0193A3B4-5C6D-7E8F-9A0B-1C2D3E4F5A6B", true),
        ("0193a3b4-5c6d-7e8f-9a0b-1c2d3e4f5a6", false), ("0193a3b4x5c6d-7e8f-9a0b-1c2d3e4f5a6b", false),
        ("0193a3b4-5c6d-7e8f-9a0b-1c2d3e4f5a6g", false), ("", false),
    ])
    func idsAreEightFourFourFourTwelveHexDigits(text: String, valid: Bool) {
        #expect(Schema.isUUID(text) == valid)
    }
}
