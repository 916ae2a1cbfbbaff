import Crypto
public import HubSQLite

/// A signed statement of the log's head: "at `recordedAt`, the log's tip was `position` with hash
/// `headHash`" (tamper evidence, DESIGN.md §3).
///
/// The signature is Ed25519 over ``signedBytes``, with a key derived from the master key (HKDF, purpose
/// `hubstore.log-head-signing.v1`), so whoever holds the public key can check a checkpoint kept
/// outside the data directory, and nobody without the master key can make one.
public struct LogCheckpoint: Sendable, Equatable {
    /// The position of the last event the checkpoint covers.
    public var position: Int64
    /// The hash chain's value at `position` (the `hash` column of that event).
    public var headHash: [UInt8]
    /// When it was signed (ms since 1970 UTC).
    public var recordedAt: Int64
    /// Ed25519 signature (64 bytes) of ``signedBytes``.
    public var signature: [UInt8]

    public init(position: Int64, headHash: [UInt8], recordedAt: Int64, signature: [UInt8]) {
        self.position = position
        self.headHash = headHash
        self.recordedAt = recordedAt
        self.signature = signature
    }

    /// What is signed, a fixed layout (pinned by a test):
    ///
    /// ```
    /// "hubstore.log-head.v1" 0x00       the purpose and layout version
    /// position, recorded_at             8-byte big-endian signed integers
    /// head hash                         32 bytes
    /// ```
    public var signedBytes: [UInt8] {
        var bytes = Array("hubstore.log-head.v1".utf8) + [0]
        withUnsafeBytes(of: position.bigEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: recordedAt.bigEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: headHash)
        return bytes
    }

    /// `POSITION:HASH`, the form `hubstore verify --expect-head` takes.
    public var head: String { "\(position):\(headHash.hexEncoded)" }
}

/// The public half of the log-head signing key: checks checkpoints.
public struct LogHeadKey: Sendable {
    /// The raw 32-byte Ed25519 public key.
    public let rawRepresentation: [UInt8]

    /// A raw 32-byte Ed25519 public key.
    public init?(rawRepresentation: [UInt8]) {
        guard (try? Curve25519.Signing.PublicKey(rawRepresentation: rawRepresentation)) != nil else { return nil }
        self.rawRepresentation = rawRepresentation
    }

    /// Whether `checkpoint`'s signature is this key's, over its fields as they are.
    public func isValid(_ checkpoint: LogCheckpoint) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: rawRepresentation) else { return false }
        return key.isValidSignature(checkpoint.signature, for: checkpoint.signedBytes)
    }
}

/// Signs checkpoints with the key derived from the master key. Prints as `LogHeadSigner(…)`: a log
/// line that describes a value holding one shows no key.
public struct LogHeadSigner: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The Ed25519 seed (the key's raw representation); Crypto's key types are not `Sendable`.
    private let seed: [UInt8]

    /// A signer from the 32-byte Ed25519 seed (HubVault derives it from the master key).
    public init(seed: [UInt8]) {
        precondition(seed.count == 32, "an Ed25519 seed is 32 bytes")
        self.seed = seed
    }

    /// A 32-byte seed is always a valid Ed25519 private key.
    private var privateKey: Curve25519.Signing.PrivateKey {
        try! Curve25519.Signing.PrivateKey(rawRepresentation: seed)
    }

    public var description: String { "LogHeadSigner(…)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [:]) }

    /// The matching public key.
    public var publicKey: LogHeadKey {
        LogHeadKey(rawRepresentation: Array(privateKey.publicKey.rawRepresentation))!
    }

    /// A signed checkpoint of `position` / `headHash` at `recordedAt`.
    ///
    /// - Throws: what the platform's crypto throws (it fails only when it is broken): no checkpoint is
    ///   recorded then, rather than one that can never verify.
    public func sign(position: Int64, headHash: [UInt8], recordedAt: Int64) throws -> LogCheckpoint {
        var checkpoint = LogCheckpoint(position: position, headHash: headHash, recordedAt: recordedAt, signature: [])
        checkpoint.signature = Array(try privateKey.signature(for: checkpoint.signedBytes))
        return checkpoint
    }
}

/// The `log_checkpoints` table (migration 0009).
public enum LogCheckpoints {
    /// Records a signed checkpoint of the transaction's tip, unless the log is empty or the latest
    /// checkpoint already covers that position. Returns what it recorded.
    public static func record(_ transaction: LogTransaction, signer: LogHeadSigner) throws -> LogCheckpoint? {
        let position = transaction.lastPosition
        guard position > 0 else { return nil }
        if let latest = try latest(transaction.connection), latest.position >= position { return nil }
        let checkpoint = try signer.sign(
            position: position,
            headHash: transaction.tipHash,
            recordedAt: transaction.recordedAt
        )
        try transaction.connection.run(
            sql: "INSERT INTO log_checkpoints (position, head_hash, recorded_at, signature) VALUES (?, ?, ?, ?)",
            [checkpoint.position, checkpoint.headHash, checkpoint.recordedAt, checkpoint.signature]
        )
        return checkpoint
    }

    /// The latest checkpoint (by the order they were recorded), or `nil` when there is none.
    public static func latest(_ connection: Connection) throws(SQLiteError) -> LogCheckpoint? {
        try read(connection, sql: "\(select) ORDER BY id DESC LIMIT 1").first
    }

    /// Every checkpoint in the order recorded; empty when the table does not exist (a log not
    /// migrated to 0009, read by `verify`).
    public static func all(_ connection: Connection) throws(SQLiteError) -> [LogCheckpoint] {
        let exists = try connection.singleInt64(
            sql: "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'log_checkpoints'"
        )
        guard exists == 1 else { return [] }
        return try read(connection, sql: "\(select) ORDER BY id")
    }

    private static let select = "SELECT position, head_hash, recorded_at, signature FROM log_checkpoints"

    private static func read(_ connection: Connection, sql: String) throws(SQLiteError) -> [LogCheckpoint] {
        let statement = try connection.prepare(sql: sql)
        var checkpoints: [LogCheckpoint] = []
        while try statement.step() {
            checkpoints.append(
                LogCheckpoint(
                    position: statement.int64(at: 0),
                    headHash: statement.blob(at: 1),
                    recordedAt: statement.int64(at: 2),
                    signature: statement.blob(at: 3)
                )
            )
        }
        return checkpoints
    }
}
