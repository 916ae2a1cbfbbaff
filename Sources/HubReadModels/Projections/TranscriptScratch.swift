import HubDomain
package import HubEventLog

extension TranscriptRows {
    /// A conversation as the transcripts' message rows need it.
    package struct Conversation {
        var id: String
        /// What its messages' rows name it by (`conversations.number`).
        var number: Int64
        var customer: String
        /// `customer_state.name` (a string, as customers send it) …
        var nameText: String?
        /// … or, when the name is anything else, the whole `customer_state` to read it from.
        var state: String?
        var messageCount: Int64

        /// The customer's `name` as sent.
        func customerName() throws -> JSONValue? {
            if let nameText { return .string(nameText) }
            return try state.map(JSONValue.parse)?["name"]
        }
    }

    /// Hands the transcripts a conversation's row that a command just read in the writer's
    /// transaction, so that applying the command's next event does not read it again: nothing changes
    /// the row between (an append in between ends with ``settle(_:)``, which drops it with the rest of
    /// the append's working state, and so does a rolled-back command). Not when the transcripts hold
    /// the conversation already (theirs is as fresh), nor when the customer's name is neither absent nor
    /// a string: that is read from `customer_state`'s text as stored.
    package static func seed(_ row: ConversationRow, _ context: ProjectionContext) {
        let name = row.customerState?["name"]
        guard let number = row.number, name == nil || name?.stringValue != nil else { return }
        let scratch = context.state(TranscriptScratch.init)
        guard scratch.conversations[row.id] == nil else { return }
        scratch.conversations[row.id] = Conversation(
            id: row.id,
            number: number,
            customer: row.customer,
            nameText: name?.stringValue,
            state: nil,
            messageCount: row.messageCount
        )
    }
}

/// A message row held back until its routing (``TranscriptRows``).
struct HeldMessage {
    var conversation: String
    /// The conversation's `number`, by which the row names it.
    var conversationNumber: Int64
    var seq: Int64
    var id: String
    var messageId: String?
    var type: String
    var senderType: String
    var sender: String
    var text: String?
    var content: String
    var attributes: String?
    var transcript: Bool
    var recordedAt: Int64
    /// The position of the event that made it (`message.received`, `message.originated`): its rowid,
    /// by which the search projection's FTS5 index names it.
    var row: Int64
    /// The position of the last event that changed it (its `message.routed`, or the event that made it).
    var position: Int64
    /// Whether it counts as the conversation's activity (`message.received`; not the hub's own).
    var isActivity: Bool
    /// The row's recipients, by their id in `message_recipients` (none until the message is routed).
    var recipients: Int64?
    var status = "accepted"
    var pending: Int64 = 0
    var sentAt: Int64?
    /// The positions of the `delivery.succeeded|failed` events that finished its deliveries,
    /// space-separated.
    var outcomes: String?
}

/// The transcripts' working state in one append or rebuild chunk.
package final class TranscriptScratch {
    /// Message rows not written yet, in the order they were made, and where each is by id.
    var held: [HeldMessage] = []
    var heldIndex: [String: Int] = [:]
    /// The newest held row while its routing may still follow it at once.
    var awaiting: String?
    /// Each conversation's counters as the events so far left them, not written yet.
    var conversationChanges: [String: ConversationChange] = [:]
    /// Conversations read in this append or chunk (their customer part never changes).
    var conversations: [String: TranscriptRows.Conversation] = [:]
    /// What the outbox needs of the message just routed with its row written whole (it applies
    /// right after the transcripts): `nil` when it must read the row.
    var routed: MessageSummary?
    /// The ids of the lists of recipients found or added in `message_recipients` (dropped with this
    /// state when an append is rolled back, as the rows it added are).
    var recipientIds: [String: Int64] = [:]

    init() {}
}

/// A conversation's `last_activity`, `message_count` and `position` to write (`nil`: unchanged).
struct ConversationChange {
    var lastActivity: Int64?
    var messageCount: Int64?
    var position: Int64
}

extension TranscriptScratch {
    /// Records what an event changes of a conversation's counters (a later event's values win).
    func change(_ conversation: String, lastActivity: Int64? = nil, messageCount: Int64? = nil, position: Int64) {
        var change = conversationChanges[conversation] ?? ConversationChange(position: position)
        if let lastActivity { change.lastActivity = lastActivity }
        if let messageCount {
            change.messageCount = messageCount
            // The conversation as read stays current after its change is written.
            conversations[conversation]?.messageCount = messageCount
        }
        change.position = position
        conversationChanges[conversation] = change
    }
}

/// What the outbox needs of a message for its delivery rows.
struct MessageSummary {
    var id: String
    var seq: Int64
    var senderType: String
    var type: String
    var text: String?
}
