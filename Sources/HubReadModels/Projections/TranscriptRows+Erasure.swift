package import HubDomain
@_spi(Storage) import HubEventLog
import HubSQLite

/// What an erasure does to the transcript tables: the rows keep their ids, times and counts, and lose
/// what was said; the indexed texts they had go to the search projection applied after them.
extension TranscriptRows {
    /// `message.erased`: the message's row, emptied.
    package func erase(message: String) throws {
        try handOverIndexedTexts(where: "id = ?", message)
        try updateMessage("erased = 1, content = '{}', attributes = NULL", message)
    }

    /// `erasure.performed`: the customers' conversations keep their ids, times and counts, nothing of
    /// what was said or who said it: no identity, no contact keys, no content, text or attributes, and
    /// a customer sender without a participant (as a rebuild, unable to open them, leaves them).
    package func erase(_ erasure: ErasurePerformed) throws {
        // Parsed customers held in memory go too (whether or not this transaction commits).
        JSONTextCache.customerStates.removeAll()
        for conversation in erasure.conversations {
            try handOverIndexedTexts(where: ofConversation, conversation)
            try updateConversation("customer_state = NULL, erased = 1", of: "conversation/\(conversation)")
            try connection.run(
                sql: """
                    UPDATE \(messages) SET erased = 1, content = '{}', attributes = NULL,
                        sender = CASE WHEN sender_type = 'customer' THEN '{"type":"customer"}' ELSE sender END
                    WHERE \(ofConversation)
                    """,
                [conversation]
            )
        }
        for customer in erasure.customers {
            try connection.run(sql: "DELETE FROM \(context.table("customer_contacts")) WHERE customer = ?", [customer])
        }
    }

    /// The indexed texts of the rows about to be emptied, for the search projection (``ErasedTexts``).
    private func handOverIndexedTexts(where condition: String, _ argument: String) throws {
        let statement = try connection.prepare(
            sql: "SELECT rowid, type, content FROM \(messages) WHERE \(condition) AND erased = 0"
        )
        try statement.bind([argument])
        let erased = context.state(ErasedTexts.init)
        while try statement.step() {
            let content = try JSONValue.parse(statement.text(at: 2))
            if let words = SearchProjection.indexedText(type: statement.text(at: 1), content: content) {
                erased.rows.append((statement.int64(at: 0), words))
            }
        }
    }
}
