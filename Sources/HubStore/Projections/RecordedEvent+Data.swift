import HubDomain

/// Reading an event's data in a projection: a missing or mistyped field is a ``ProjectionError``
/// naming the event, never a crash.
extension RecordedEvent {
    func json() throws -> JSONValue {
        do {
            return try JSONValue.parse(data)
        } catch {
            throw ProjectionError.malformed(position: position, type: type, reason: "data is not JSON")
        }
    }

    func string(_ data: JSONValue, _ path: String) throws -> String {
        guard let value = data.value(at: path)?.stringValue else { throw missing(path) }
        return value
    }

    func hex(_ data: JSONValue, _ path: String) throws -> [UInt8] {
        guard let value = data.value(at: path)?.stringValue, let bytes = value.hexDecoded else { throw missing(path) }
        return bytes
    }

    func missing(_ path: String) -> ProjectionError {
        .malformed(position: position, type: type, reason: "no \(path)")
    }
}
