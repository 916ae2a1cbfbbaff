import Crypto

/// The hash chain: `hash = SHA-256(previous hash ‖ canonical bytes of the event without its hash)`.
///
/// The canonical bytes are a fixed, length-prefixed binary layout, so no two different events can
/// encode the same way and no JSON canonicalisation is needed (the data is hashed as the bytes stored):
///
/// ```
/// 0x01                                  layout version
/// position, version, schema_version,    8-byte big-endian signed integers
/// recorded_at
/// id, stream, type, actor, data         4-byte big-endian length + UTF-8 bytes
/// account, correlation_id, causation_id same, or 0xFFFFFFFF for NULL
/// ```
/// (in the order: position, id, stream, version, type, schema_version, recorded_at, account, actor,
/// correlation_id, causation_id, data). The first event's previous hash is 32 zero bytes.
public enum EventHash {
    /// The previous hash of the first event.
    public static let genesis = [UInt8](repeating: 0, count: 32)

    /// The hash of `event` (its own `hash` field is ignored) chained after `previous`.
    public static func compute(_ event: RecordedEvent, previous: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: previous)
        hasher.update(data: canonicalBytes(event))
        return Array(hasher.finalize())
    }

    /// The canonical bytes of `event` without its hash (the layout above; pinned by a golden test
    /// vector: a change here stops every existing log from verifying, so a new layout needs a new
    /// version byte and the old one kept for old events).
    package static func canonicalBytes(_ event: RecordedEvent) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(128 + event.data.utf8.count)
        bytes.append(1)
        append(event.position, to: &bytes)
        append(event.id, to: &bytes)
        append(event.stream, to: &bytes)
        append(event.version, to: &bytes)
        append(event.type, to: &bytes)
        append(Int64(event.schemaVersion), to: &bytes)
        append(event.recordedAt, to: &bytes)
        append(event.account, to: &bytes)
        append(event.actor, to: &bytes)
        append(event.correlationId, to: &bytes)
        append(event.causationId, to: &bytes)
        append(event.data, to: &bytes)
        return bytes
    }

    private static func append(_ value: Int64, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    private static func append(_ value: String?, to bytes: inout [UInt8]) {
        guard var value else {
            bytes.append(contentsOf: [0xFF, 0xFF, 0xFF, 0xFF])
            return
        }
        value.withUTF8 { utf8 in
            withUnsafeBytes(of: UInt32(utf8.count).bigEndian) { bytes.append(contentsOf: $0) }
            bytes.append(contentsOf: utf8)
        }
    }
}
