/// An append's idempotency key, as the id its first event takes: the UUIDv5 of `key#0` (see
/// ``LogTransaction/append(_:to:expectedVersion:idempotencyKey:knownNew:)``). Made before the command
/// is queued, the digest is computed on the caller's task, not on the writer's thread.
public struct IdempotencyKey: Sendable {
    /// Where a retry finds the first attempt's append.
    public let firstEventId: String

    public init(_ key: String) {
        firstEventId = EventID.makeV5(name: key + "#0")
    }
}
