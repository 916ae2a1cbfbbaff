import HubDomain
@_spi(Storage) import HubEventLog

/// One event as a line of `events.ndjson`, in the export form of DESIGN.md §3:
/// `{"position","id","stream","version","type","schemaVersion","recordedAt","account","actor",
/// "correlationId","causationId","data","hash"}`, with `previousHash` last in a filtered export (what a
/// verifier needs to check each event against the chain without the events left out).
///
/// `data` is the stored JSON text byte for byte (the hash covers those bytes), so a line is read by
/// parsing the members around it and taking what lies between them; the line must then be exactly
/// what ``write(_:previousHash:to:)`` makes of the event read.
enum EventLine {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func write(_ event: RecordedEvent, previousHash: [UInt8]?, to output: inout [UInt8]) {
        event.writeExportForm(previousHash: previousHash, to: &output)
    }

    /// Reads one line (without its newline). Only the metadata before `data` is parsed: `,"data":`
    /// cannot occur inside a JSON string (its quote would be escaped), so its first occurrence ends the
    /// metadata, and the hashes sit at fixed distances from the end. The line must then be exactly what
    /// ``write(_:previousHash:to:)`` makes of what was read.
    static func read(_ line: String) throws -> (event: RecordedEvent, previousHash: [UInt8]?) {
        let bytes = Array(line.utf8)
        let marker = Array(#","data":"#.utf8)
        guard let dataKey = firstIndex(of: marker, in: bytes) else { throw Failure(description: "no `data` member") }
        let hashKey = Array(#","hash":""#.utf8)
        // `,"hash":"<64>"}`, or `,"hash":"<64>","previousHash":"<64>"}` (whose last 75 bytes fall inside
        // `,"previousHash":"`, so they never read as the first form).
        let plain = bytes.count >= 75 && bytes[(bytes.count - 75)...].starts(with: hashKey)
        let filtered = !plain
        let tailLength = filtered ? 157 : 75
        guard bytes.count >= dataKey + marker.count + tailLength + 1,
            bytes[(bytes.count - tailLength)...].starts(with: hashKey)
        else { throw Failure(description: "no `hash` at the end of the line") }
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes: bytes[..<dataKey] + [UInt8(ascii: "}")])
        } catch {
            throw Failure(description: "not JSON (\(error))")
        }
        func string(_ key: String) throws -> String {
            guard case .string(let text)? = value[key] else { throw Failure(description: "no string `\(key)`") }
            return text
        }
        func optionalString(_ key: String) throws -> String? {
            switch value[key] {
            case .string(let text)?: return text
            case .null?: return nil
            default: throw Failure(description: "`\(key)` is not a string or null")
            }
        }
        func integer(_ key: String) throws -> Int64 {
            guard case .integer(let number)? = value[key] else { throw Failure(description: "no integer `\(key)`") }
            return number
        }
        func hex(at offset: Int, _ name: String) throws -> [UInt8] {
            let start = bytes.count - tailLength + offset
            guard let decoded = String(decoding: bytes[start..<start + 64], as: UTF8.self).hexDecoded,
                decoded.count == 32
            else { throw Failure(description: "`\(name)` is not 64 hex digits") }
            return decoded
        }
        guard let schemaVersion = Int(exactly: try integer("schemaVersion")) else {
            throw Failure(description: "`schemaVersion` is out of range")
        }
        var event = RecordedEvent(
            position: try integer("position"),
            id: try string("id"),
            stream: try string("stream"),
            version: try integer("version"),
            type: try string("type"),
            schemaVersion: schemaVersion,
            recordedAt: try integer("recordedAt"),
            account: try optionalString("account"),
            actor: try string("actor"),
            correlationId: try optionalString("correlationId"),
            causationId: try optionalString("causationId"),
            data: "",
            hash: try hex(at: 9, "hash")
        )
        let previousHash = filtered ? try hex(at: 9 + 64 + 18, "previousHash") : nil
        event.data = String(decoding: bytes[(dataKey + marker.count)..<(bytes.count - tailLength)], as: UTF8.self)
        // The line must be exactly what `write` makes of what was read (compared as bytes: String
        // comparison would take canonically equivalent text as equal).
        var written: [UInt8] = []
        written.reserveCapacity(bytes.count + 1)
        write(event, previousHash: previousHash, to: &written)
        guard written.count == bytes.count + 1, written.starts(with: bytes) else {
            throw Failure(description: "not in the export form (members out of order or spelled otherwise)")
        }
        return (event, previousHash)
    }

    private static func firstIndex(of marker: [UInt8], in bytes: [UInt8]) -> Int? {
        guard bytes.count >= marker.count else { return nil }
        var index = 0
        while index <= bytes.count - marker.count {
            if bytes[index] == marker[0], bytes[index..<index + marker.count].elementsEqual(marker) { return index }
            index += 1
        }
        return nil
    }
}
