import HubDomain

/// The export form of an event (DESIGN.md §3), one JSON object on one line, for `export` bundles and
/// the event feed: `{"position","id","stream","version","type","schemaVersion","recordedAt","account",
/// "actor","correlationId","causationId","data","hash"}`, with `data` the stored JSON text byte for byte
/// (the hash covers those bytes), `recordedAt` in milliseconds, `hash` in hex, and `previousHash` last
/// when given.
extension RecordedEvent {
    /// Appends the line, newline included.
    public func writeExportForm(previousHash: [UInt8]? = nil, to output: inout [UInt8]) {
        // Byte by byte, without building strings.
        func key(_ text: StaticString) {
            output.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        }
        func string(_ value: String?) {
            guard let value else { return output.append(contentsOf: "null".utf8) }
            if value.utf8.allSatisfy({ $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
                output.append(UInt8(ascii: "\""))
                output.append(contentsOf: value.utf8)
                output.append(UInt8(ascii: "\""))
            } else {
                output.append(contentsOf: JSONValue.string(value).text.utf8)
            }
        }
        func integer(_ value: Int64) { output.append(contentsOf: String(value).utf8) }
        func hex(_ bytes: [UInt8]) {
            output.append(UInt8(ascii: "\""))
            for byte in bytes {
                output.append(Self.hexDigits[Int(byte >> 4)])
                output.append(Self.hexDigits[Int(byte & 0x0F)])
            }
            output.append(UInt8(ascii: "\""))
        }
        key(#"{"position":"#)
        integer(position)
        key(#","id":"#)
        string(id)
        key(#","stream":"#)
        string(stream)
        key(#","version":"#)
        integer(version)
        key(#","type":"#)
        string(type)
        key(#","schemaVersion":"#)
        integer(Int64(schemaVersion))
        key(#","recordedAt":"#)
        integer(recordedAt)
        key(#","account":"#)
        string(account)
        key(#","actor":"#)
        string(actor)
        key(#","correlationId":"#)
        string(correlationId)
        key(#","causationId":"#)
        string(causationId)
        key(#","data":"#)
        output.append(contentsOf: data.utf8)
        key(#","hash":"#)
        hex(hash)
        if let previousHash {
            key(#","previousHash":"#)
            hex(previousHash)
        }
        output.append(UInt8(ascii: "}"))
        output.append(0x0A)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// The line as a string, without its newline.
    public var exportForm: String {
        var line: [UInt8] = []
        writeExportForm(to: &line)
        line.removeLast()
        return String(decoding: line, as: UTF8.self)
    }
}
