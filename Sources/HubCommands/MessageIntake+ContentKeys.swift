import HubDomain
@_spi(Storage) import HubEventLog
import HubSQLite
import HubVault

/// A conversation's content key (``SecretVault``): made when the conversation starts, numbered by the
/// position of its `conversation.started` (its stream's first event); its messages' contents are sealed
/// under keys derived from it, so that a message costs no key row.
enum ContentKeys {
    /// The number of the content key of the conversation on `stream` (its first event's position),
    /// when that key is still kept (not destroyed by an erasure), in one lookup.
    static func keptNumber(of stream: String, in transaction: LogTransaction) throws -> Int64? {
        try transaction.connection.singleInt64(
            sql: """
                SELECT e.position FROM events e
                WHERE e.stream = ?1 AND e.version = 1
                    AND EXISTS (SELECT 1 FROM vault_keys k WHERE k.id = ?2 || e.position)
                """,
            [stream, SecretVault.contentKeyRecordPrefix]
        )
    }
}

extension MessageIntake {
    /// A message's content sealed for the log: under a key derived from the conversation's content
    /// key, or, when the conversation has none (started before content keys, or one of its messages
    /// was erased for good), under a key of its own. What was sealed before the transaction is kept if
    /// the key it was sealed under is still the conversation's.
    func sealContent(
        _ content: JSONValue,
        message id: String,
        stream: String,
        conversationNumber: Int64?,
        prepared: PreparedContentSeal?
    ) throws -> String {
        let record = "message/\(id)"
        // The conversation's number is its content key's: one lookup of the key row, not of the stream's first event.
        let number =
            if let conversationNumber {
                try vault.hasKey(SecretVault.contentKeyRecord(conversationNumber), in: transaction)
                    ? conversationNumber : nil
            } else {
                try ContentKeys.keptNumber(of: stream, in: transaction)
            }
        if let prepared, let number, prepared.stream == stream, prepared.contentKey == number {
            return prepared.sealed
        }
        if let number,
            let sealed = try vault.sealContent(
                content.text,
                record: record,
                contentKey: number,
                stream: stream,
                in: transaction
            )
        {
            return sealed
        }
        return try vault.seal(content.text, record: record, in: transaction, newRecord: true)
    }

    /// Destroys one message's key (`delete.permanent`); returns the records shredded. A key derived from
    /// the conversation's content key goes with that key, after every other message sealed under it got
    /// a key row of its own.
    func shredContentKey(of message: String, stream: String) throws -> [String] {
        let record = "message/\(message)"
        guard try !vault.hasKey(record, in: transaction),
            let number = try ContentKeys.keptNumber(of: stream, in: transaction)
        else {
            // A key row of its own, or no content key (any more): the row, if any, is the key.
            try vault.shred(record: record, in: transaction)
            return [record]
        }
        let contentKey = SecretVault.contentKeyRecord(number)
        let kept = try messages(sealedUnder: number, on: stream).filter { $0 != record }
        try vault.separate(kept, from: number, in: transaction)
        try vault.shred(record: contentKey, in: transaction)
        vault.forgetContentKey(of: stream)
        return [record, contentKey]
    }

    /// The records of the messages on `stream` whose contents are sealed under content key `number`.
    private func messages(sealedUnder number: Int64, on stream: String) throws -> [String] {
        let statement = try transaction.connection.prepare(
            sql: """
                SELECT json_extract(data, '$.id') FROM events
                WHERE stream = ? AND type IN ('message.received', 'message.originated')
                    AND json_extract(data, '$.content') LIKE ?
                """
        )
        try statement.bind([stream, "\(SecretVault.derivedPrefix)\(number):%"])
        var records: [String] = []
        while try statement.step() { records.append("message/" + statement.text(at: 0)) }
        return records
    }
}
