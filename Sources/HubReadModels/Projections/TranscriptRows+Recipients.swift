@_spi(Storage) import HubEventLog
import HubSQLite

/// The lists of recipients the transcript rows refer to (`message_recipients`, version 5).
extension TranscriptRows {
    /// The id of a list of recipients (JSON text) in `message_recipients`, added if new. Ids are given
    /// in the order the events first name each list, so a rebuild gives the same ones.
    func recipientsId(_ text: String) throws(SQLiteError) -> Int64 {
        let scratch = context.state(TranscriptScratch.init)
        if let id = scratch.recipientIds[text] { return id }
        let table = context.table("message_recipients")
        let id: Int64
        if let found = try connection.singleInt64(sql: "SELECT id FROM \(table) WHERE json = ?", [text]) {
            id = found
        } else {
            try connection.run(sql: "INSERT INTO \(table) (json) VALUES (?)", [text])
            id = connection.lastInsertedRowID
        }
        scratch.recipientIds[text] = id
        return id
    }
}
