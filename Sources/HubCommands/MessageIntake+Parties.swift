import HubDomain
import HubEventLog
import HubReadModels
import HubVault

extension MessageIntake {
    /// The conversation's transcript as plain text, one line per visible message: time, sender, text.
    /// A message like any other, its content stays within `RequestMessages.maxContentBytes`: the latest
    /// lines that fit are kept, after a line saying that earlier ones were left out.
    package func transcriptText(of conversation: String) throws -> String {
        let lines = try ConversationProjection.messages(of: conversation, visibleOnly: true, in: transaction)
            .map(\.plainTranscriptLine)
        let omitted = "(earlier lines left out)"
        var budget = RequestMessages.maxContentBytes - 64 - omitted.utf8.count
        var kept = lines.endIndex
        while kept > lines.startIndex {
            // The line as written inside the content's JSON: its two quotes count for the escaped line break.
            let size = JSONValue.string(lines[kept - 1]).text.utf8.count
            guard size <= budget else { break }
            budget -= size
            kept -= 1
        }
        return ((kept > lines.startIndex ? [omitted] : []) + lines[kept...]).joined(separator: "\n")
    }

    /// Whether a bot sent anything in the conversation: an escalated one that it did not escalate
    /// started escalated (`bypassVaDuration`), without the bot.
    package func botTookPart(in conversation: String) throws -> Bool {
        try ConversationProjection.botTookPart(in: conversation, transaction)
    }
}
