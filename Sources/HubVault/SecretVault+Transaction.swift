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

    /// ``store(_:record:_:now:)`` in the transaction, at its time.
    public func store(_ prepared: PreparedSeal, record: String, in transaction: LogTransaction) throws {
        try store(prepared, record: record, transaction.connection, now: transaction.recordedAt)
    }

    /// ``shred(record:_:)`` in the transaction (which should erase securely).
    public func shred(record: String, in transaction: LogTransaction) throws {
        try shred(record: record, transaction.connection)
    }
}
