import HubDomain
@_spi(Storage) import HubEventLog

/// One event as a line of `events.ndjson`, in the export form of DESIGN.md §3:
/// `{"position","id","stream","version","type","schemaVersion","recordedAt","account","actor",
/// "correlationId","causationId","data","hash"}`, with `previousHash` last in a filtered export (what a
/// verifier needs to check each event against the chain without the events left out).
///
/// `data` is the stored JSON text byte for byte (the hash covers those bytes), so a line is read by
/// rebuilding its fixed prefix and suffix from the parsed members and taking what lies between them.
enum EventLine {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func write(_ event: RecordedEvent, previousHash: [UInt8]?, to output: inout [UInt8]) {
        output.append(contentsOf: prefix(event).utf8)
        output.append(contentsOf: event.data.utf8)
        output.append(contentsOf: suffix(hash: event.hash, previousHash: previousHash).utf8)
        output.append(0x0A)
    }

    /// Reads one line (without its newline).
    static func read(_ line: String) throws -> (event: RecordedEvent, previousHash: [UInt8]?) {
        let value: JSONValue
        do {
            value = try JSONValue.parse(line)
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
        func hex(_ key: String) throws -> [UInt8] {
            guard let bytes = try string(key).hexDecoded, bytes.count == 32 else {
                throw Failure(description: "`\(key)` is not 64 hex digits")
            }
            return bytes
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
            hash: try hex("hash")
        )
        let previousHash = value["previousHash"] == nil ? nil : try hex("previousHash")
        let head = prefix(event)
        let tail = suffix(hash: event.hash, previousHash: previousHash)
        let bytes = Array(line.utf8)
        guard bytes.count > head.utf8.count + tail.utf8.count, line.hasPrefix(head), line.hasSuffix(tail) else {
            throw Failure(description: "not in the export form (members out of order or spelled otherwise)")
        }
        event.data = String(decoding: bytes[head.utf8.count..<(bytes.count - tail.utf8.count)], as: UTF8.self)
        return (event, previousHash)
    }

    private static func prefix(_ event: RecordedEvent) -> String {
        func text(_ value: String?) -> String { value.map { JSONValue.string($0).text } ?? "null" }
        return #"{"position":"# + String(event.position) + #","id":"# + text(event.id) + #","stream":"#
            + text(event.stream) + #","version":"# + String(event.version) + #","type":"# + text(event.type)
            + #","schemaVersion":"# + String(event.schemaVersion) + #","recordedAt":"# + String(event.recordedAt)
            + #","account":"# + text(event.account) + #","actor":"# + text(event.actor) + #","correlationId":"#
            + text(event.correlationId) + #","causationId":"# + text(event.causationId) + #","data":"#
    }

    private static func suffix(hash: [UInt8], previousHash: [UInt8]?) -> String {
        var text = #","hash":""# + hash.hexEncoded + "\""
        if let previousHash { text += #","previousHash":""# + previousHash.hexEncoded + "\"" }
        return text + "}"
    }
}
