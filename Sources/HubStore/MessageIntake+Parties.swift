import HubDomain
import HubSQLite

extension MessageIntake {
    /// Whether a bot sent anything in the conversation: an escalated one that it did not escalate
    /// started escalated (`bypassVaDuration`), without the bot.
    func botTookPart(in conversation: String) throws -> Bool {
        try transaction.connection.singleInt64(
            sql: """
                SELECT EXISTS (SELECT 1 FROM messages WHERE conversation = ?
                    AND sender_type IN ('custom_bot', 'egain_bot'))
                """,
            [conversation]
        ) == 1
    }
}
