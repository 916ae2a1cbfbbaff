import Foundation
import HubDomain
import Testing

struct JSONParserTests {
    @Test func parsesWhatJSONDecoderParses() throws {
        let texts = [
            #"{"a": [1, -2, 3.5, 1e3, true, false, null], "b": {"c": "d\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"}}"#,
            #"  "top-level string"  "#, "0", "-0.5", "[]", "{}", #"{"k": 9223372036854775807}"#,
            #"{"k": 9223372036854775808}"#, #"["é", "日本"]"#,
        ]
        for text in texts {
            let fast = try JSONValue.parse(text)
            let reference = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
            #expect(fast.text == reference.text, "\(text)")
        }
        #expect(try JSONValue.parse(#"{"n": 12}"#)["n"] == .integer(12))
        #expect(try JSONValue.parse(#"{"n": 1.5}"#)["n"] == .double(1.5))
    }

    @Test func refusesWhatIsNotJSON() {
        let bad = [
            "", "{", "{\"a\"}", "{\"a\":}", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "-", "tru", "nul",
            "\"unterminated", "\"bad \\x escape\"", "\"\\ud800\"", "[1] 2", "{'a': 1}", "\"tab\there\"",
            String(repeating: "[", count: 600) + String(repeating: "]", count: 600), "1e999",
        ]
        for text in bad {
            #expect(throws: (any Error).self, "\(text.prefix(20))") { try JSONValue.parse(text) }
        }
        #expect(throws: (any Error).self) { try JSONValue.parse(bytes: [0x22, 0xFF, 0x22]) }
    }
}

struct JSONTextTests {
    @Test func escapesWhatJSONRequiresAndNothingElse() throws {
        let value = JSONValue.string("a\"b\\c\n\r\t\u{1}\u{1F}é日本😀/")
        #expect(value.text == #""a\"b\\c\n\r\t\u0001\u001fé日本😀/""#)
        #expect(try JSONValue.parse(value.text) == value)
        let object: JSONValue = .object(["b": 1, "a": .array([.null, true, .double(1.5)]), "c": .object([:])])
        #expect(object.text == #"{"a":[null,true,1.5],"b":1,"c":{}}"#)
    }

    @Test func valueAtWalksDottedPaths() throws {
        let value = try JSONValue.parse(#"{"a": {"b": {"c": 1}, "d": [true]}, "e": "x"}"#)
        #expect(value.value(at: "a.b.c") == .integer(1))
        #expect(value.value(at: "e") == .string("x"))
        #expect(value.value(at: "a.d") == .array([.bool(true)]))
        #expect(value.value(at: "a.b") == .object(["c": .integer(1)]))
        #expect(value.value(at: "") == value)
        #expect(value.value(at: "a..b.c") == .integer(1))
        #expect(value.value(at: "a.x") == nil)
        #expect(value.value(at: "e.f") == nil)
        #expect(value.value(at: "a.b.c.d") == nil)
    }

}
