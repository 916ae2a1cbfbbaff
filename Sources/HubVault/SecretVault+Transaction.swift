@_spi(Storage) public import HubEventLog

/// The vault inside the writer's transaction, for commands (which never hold the connection itself).
extension SecretVault {
    /// ``seal(_:record:_:now:newRecord:)`` in the transaction, at its time.
    public func seal(
        _ plaintext: String,
        record: String,
        in transaction: LogTransaction,
        newRecord: Bool = false
    ) throws -> String {
        try seal(plaintext, record: record, transaction.connection, now: transaction.recordedAt, newRecord: newRecord)
    }

    /// ``createContentKey(_:_:now:)`` in the transaction, at its time.
    public func createContentKey(_ position: Int64, in transaction: LogTransaction) throws {
        try createContentKey(position, transaction.connection, now: transaction.recordedAt)
    }

    /// ``sealContent(_:record:contentKey:stream:_:)`` in the transaction.
    public func sealContent(
        _ plaintext: String,
        record: String,
        contentKey position: Int64,
        stream: String,
        in transaction: LogTransaction
    ) throws -> String? {
        try sealContent(plaintext, record: record, contentKey: position, stream: stream, transaction.connection)
    }

    /// ``separate(_:from:_:now:)`` in the transaction, at its time.
    public func separate(_ records: [String], from position: Int64, in transaction: LogTransaction) throws {
        try separate(records, from: position, transaction.connection, now: transaction.recordedAt)
    }

    /// ``hasKey(_:_:)`` in the transaction.
    public func hasKey(_ record: String, in transaction: LogTransaction) throws -> Bool {
        try hasKey(record, transaction.connection)
    }

    /// ``shred(record:_:)`` in the transaction (which should erase securely).
    public func shred(record: String, in transaction: LogTransaction) throws {
        try shred(record: record, transaction.connection)
    }
}
