// Reading JSON member by member with `JSONParser`: no dictionary per object, each value read as the
// caller expects it (the `DirectlyReadEvent` readers are built on it). Anything unexpected throws.

/// An object member's key, as the bytes between its quotes.
struct JSONKey {
    var bytes: UnsafeBufferPointer<UInt8>

    static func == (key: JSONKey, name: StaticString) -> Bool {
        guard key.bytes.count == name.utf8CodeUnitCount else { return false }
        for offset in 0..<key.bytes.count where key.bytes[offset] != name.utf8Start[offset] { return false }
        return true
    }
}

extension JSONParser {
    /// Parses `bytes` as one value with `body`, then requires the end of the data.
    static func reading<T>(_ bytes: UnsafeBufferPointer<UInt8>, _ body: (inout JSONParser) throws -> T) throws -> T {
        var parser = JSONParser(bytes)
        parser.skipWhitespace()
        let result = try body(&parser)
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.failure("unexpected data after the value") }
        return result
    }

    /// Reads an object, handing `body` each key with the parser at its value; `body` must read (or
    /// ``skip()``) the value.
    mutating func members(_ body: (inout JSONParser, JSONKey) throws -> Void) throws {
        try expect(UInt8(ascii: "{"))
        skipWhitespace()
        if peek(UInt8(ascii: "}")) { return }
        while true {
            skipWhitespace()
            try expect(UInt8(ascii: "\""))
            let start = index
            while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                // The hub never writes an escaped key: leave those to the reference decoder.
                guard bytes[index] != UInt8(ascii: "\\") else { throw failure("escaped key") }
                index += 1
            }
            let key = JSONKey(bytes: UnsafeBufferPointer(rebasing: bytes[start..<index]))
            try expect(UInt8(ascii: "\""))
            skipWhitespace()
            try expect(UInt8(ascii: ":"))
            skipWhitespace()
            try body(&self, key)
            skipWhitespace()
            if peek(UInt8(ascii: "}")) { return }
            try expect(UInt8(ascii: ","))
        }
    }

    /// Reads an array, calling `body` with the parser at each element.
    mutating func elements(_ body: (inout JSONParser) throws -> Void) throws {
        try expect(UInt8(ascii: "["))
        skipWhitespace()
        if peek(UInt8(ascii: "]")) { return }
        while true {
            skipWhitespace()
            try body(&self)
            skipWhitespace()
            if peek(UInt8(ascii: "]")) { return }
            try expect(UInt8(ascii: ","))
        }
    }

    /// An array's elements, each read by `element`.
    mutating func array<T>(_ element: (inout JSONParser) throws -> T) throws -> [T] {
        var items: [T] = []
        try elements { items.append(try element(&$0)) }
        return items
    }

    mutating func readString() throws -> String {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw failure("expected a string") }
        return try string()
    }

    /// A string, or `nil` for `null`.
    mutating func readOptionalString() throws -> String? {
        try readNull() ? nil : readString()
    }

    /// An integer written without fraction or exponent that fits `Int64`.
    mutating func readInteger() throws -> Int64 {
        let negative = peek(UInt8(ascii: "-"))
        let start = index
        var value: Int64 = 0
        while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
            let (times, overflow) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int64(bytes[index] - UInt8(ascii: "0")))
            guard !overflow, !overflow2 else { throw failure("integer out of range") }
            value = sum
            index += 1
        }
        guard index > start, !(index - start > 1 && bytes[start] == UInt8(ascii: "0")) else {
            throw failure("expected an integer")
        }
        if index < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[index]) {
            throw failure("expected an integer")
        }
        return negative ? -value : value
    }

    /// An integer, or `nil` for `null`.
    mutating func readOptionalInteger() throws -> Int64? {
        try readNull() ? nil : readInteger()
    }

    /// Any value as a ``JSONValue``; `nil` for `null`.
    mutating func readOptionalValue() throws -> JSONValue? {
        try readNull() ? nil : value()
    }

    /// Reads past any value.
    mutating func skip() throws { _ = try value() }

    /// Consumes `null` when it comes next.
    mutating func readNull() throws -> Bool {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "n") else { return false }
        try literal("null")
        return true
    }

    /// Consumes `byte` when it comes next.
    private mutating func peek(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    private mutating func expect(_ byte: UInt8) throws {
        guard peek(byte) else { throw failure("expected '\(Character(Unicode.Scalar(byte)))'") }
    }
}
