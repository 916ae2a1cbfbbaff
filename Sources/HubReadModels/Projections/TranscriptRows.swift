package import HubDomain
@_spi(Storage) package import HubEventLog
package import HubSQLite
import HubVault

/// How one event changes the transcript tables (``TranscriptsProjection``).
package struct TranscriptRows {
    package let context: ProjectionContext
    package let event: RecordedEvent

    var connection: Connection { context.connection }
    private var conversations: String { context.table("conversations") }
    var messages: String { context.table("messages") }
    /// The condition that picks the conversation's rows of `messages` (its id the statement's next argument).
    var ofConversation: String { ConversationProjection.ofConversation(conversations) }

    /// `conversation.started`: the conversation, its customer's identity opened, and every contact key
    /// of the customer.
    package func start(_ started: ConversationStarted) throws {
        let customer = started.customer.id
        let identity = try context.openJSON(started.customer.identity, record: "customer/\(customer)")?.text
        try connection.run(
            sql: """
                INSERT INTO \(conversations) (id, number, account, account_address, channel_type, entry_point,
                    customer, customer_state, contact, origin, state, escalated, started_at, last_activity,
                    message_count, position)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', 0, ?, ?, 0, ?)
                """,
            [
                started.id, event.position, started.account.id, started.account.address, started.channel.type,
                started.entryPoint?.id, customer, identity, started.conversationContact, started.origin,
                event.recordedAt, event.recordedAt, event.position,
            ]
        )
        try link(account: started.account.id, customer: customer, keys: started.customer.contactKeys)
    }

    /// The customer's contact keys (`conversation.started`, `customer.contactsLinked`); a key already
    /// linked stays with its customer.
    package func link(account: String, customer: String, keys: [String]) throws {
        for key in keys {
            try connection.run(
                sql: """
                    INSERT OR IGNORE INTO \(context.table("customer_contacts")) (account, contact_key, customer)
                    VALUES (?, ?, ?)
                    """,
                [account, key, customer]
            )
        }
    }

    /// `message.received`: the message's row, its content opened (and `*****` for a redacted text),
    /// the customer's participant opened or, when the customer app sent none, the customer's name.
    package func received(_ received: MessageReceived) throws {
        let id = received.id
        let conversation = try conversationRow(received.conversation)
        var content = try openedContent(.string(received.content), message: id) ?? .object([:])
        if content["redact"] == .bool(true), case .object(var fields) = content, fields["text"] != nil {
            fields["text"] = "*****"
            content = .object(fields)
        }
        var sender = received.sender
        if sender["type"]?.stringValue == "customer", case .object(var fields) = sender {
            if let sealed = fields["participant"]?.stringValue {
                fields["participant"] = try context.openJSON(sealed, record: "customer/\(conversation.customer)")
            } else if fields["participant"] == nil,
                let name = try conversation.customerName()
            {
                fields["participant"] = .object(["name": name])
            }
            sender = .object(fields)
        }
        let type = received.type.value
        hold(
            id: id,
            conversation: conversation,
            messageId: received.messageId,
            type: type,
            sender: sender,
            content: content,
            attributes: received.attributes,
            transcript: ConversationRules.isTranscriptLine(type),
            isActivity: true
        )
    }

    /// `message.originated`: a message of the hub's own. Version 1 of the event did not record the
    /// callback's attributes: they were the forwarded transcript's flag, none for a delivery failure's
    /// `error`, and otherwise those of the message that caused it.
    package func originated(_ originated: MessageOriginated) throws {
        let id = originated.id
        let conversation = try conversationRow(originated.conversation)
        let type = originated.type.value
        let carriesTranscript = originated.content.stringValue != nil
        let content = try openedContent(originated.content, message: id) ?? .object([:])
        let attributes: JSONValue?
        if originated.attributesUnrecorded != true {
            attributes = originated.attributes
        } else if carriesTranscript {
            attributes = ConversationRules.transcriptAttributes
        } else if type == "error" {
            attributes = nil
        } else {
            attributes = try connection.singleText(
                sql: "SELECT attributes FROM \(messages) WHERE id = ?",
                [originated.causedBy]
            ).map(JSONValue.parse)
        }
        hold(
            id: id,
            conversation: conversation,
            messageId: nil,
            type: type,
            sender: .object(["type": "system", "participant": .object(["name": "system"])]),
            content: content,
            attributes: attributes,
            transcript: !carriesTranscript && ConversationRules.isTranscriptLine(type),
            isActivity: false
        )
    }

    /// `message.routed`: the message's recipients and deliveries; the conversation counts it.
    package func routed(_ routed: MessageRouted) throws {
        let deliveries = routed.deliveries
        // Each recipient as callbacks show it: `{type, participant: {id, name}}`.
        let recipients = JSONValue.array(
            deliveries.map { delivery in
                var fields: [String: JSONValue] = ["type": .string(delivery.type)]
                if let participant = delivery.participant {
                    var names: [String: JSONValue] = [:]
                    if let id = participant.id { names["id"] = .string(id) }
                    if let name = participant.name { names["name"] = .string(name) }
                    fields["participant"] = .object(names)
                }
                return .object(fields)
            }
        )
        let status = deliveries.isEmpty ? "discarded" : "accepted"
        let reference = deliveries.isEmpty ? nil : try recipientsId(recipients.text)
        let scratch = context.state(TranscriptScratch.init)
        if let index = scratch.heldIndex[routed.message] {
            // The usual case: the row is still held, and is written once, complete.
            var held = scratch.held[index]
            held.recipients = reference
            held.status = status
            held.pending = Int64(deliveries.count)
            held.position = event.position
            scratch.held[index] = held
            scratch.routed = MessageSummary(
                id: held.id,
                seq: held.seq,
                senderType: held.senderType,
                type: held.type,
                text: held.text
            )
            if scratch.awaiting == held.id {
                // Its routing follows it at once: the activity is counted with the routing.
                scratch.awaiting = nil
                scratch.change(
                    routed.conversation,
                    lastActivity: held.isActivity ? held.recordedAt : nil,
                    messageCount: routed.seq,
                    position: event.position
                )
            } else {
                Self.closeAwaiting(context)
                scratch.change(routed.conversation, messageCount: routed.seq, position: event.position)
            }
            return
        }
        Self.closeAwaiting(context)
        scratch.routed = nil
        try connection.run(
            sql: "UPDATE \(messages) SET recipients = ?, status = ?, deliveries_pending = ?, position = ? WHERE id = ?",
            [reference, status, deliveries.count, event.position, routed.message]
        )
        scratch.change(routed.conversation, messageCount: routed.seq, position: event.position)
    }

    /// Writes everything held back: the message rows and the conversations' counters.
    package static func settle(_ context: ProjectionContext) throws {
        let scratch = context.state(TranscriptScratch.init)
        // The summary serves the outbox within one event: none outlives an append (a rolled-back one
        // could be retried with the same message id).
        scratch.routed = nil
        try writeHeld(context)
        try writeConversationChanges(context)
        scratch.conversations.removeAll(keepingCapacity: true)
    }

    /// Counts the activity of the newest held row when its routing did not follow it at once (as its
    /// own event left it: the routing, when it comes, changes only the row and the message count).
    package static func closeAwaiting(_ context: ProjectionContext) {
        let scratch = context.state(TranscriptScratch.init)
        guard let id = scratch.awaiting, let index = scratch.heldIndex[id] else { return }
        scratch.awaiting = nil
        let held = scratch.held[index]
        if held.isActivity {
            scratch.change(held.conversation, lastActivity: held.recordedAt, position: held.position)
        }
    }

    /// Writes the rows held back, in the order they were made, as the events so far left them.
    package static func writeHeld(_ context: ProjectionContext) throws {
        let scratch = context.state(TranscriptScratch.init)
        closeAwaiting(context)
        guard !scratch.held.isEmpty else { return }
        for held in scratch.held { try insert(held, context) }
        scratch.held.removeAll(keepingCapacity: true)
        scratch.heldIndex.removeAll(keepingCapacity: true)
    }

    /// Writes the conversations' activity, message count and position as the events so far left
    /// them: one update per conversation, however many of its messages a chunk holds.
    package static func writeConversationChanges(_ context: ProjectionContext) throws {
        let scratch = context.state(TranscriptScratch.init)
        guard !scratch.conversationChanges.isEmpty else { return }
        for (id, change) in scratch.conversationChanges.sorted(by: { $0.key < $1.key }) {
            try context.connection.run(
                sql: """
                    UPDATE \(context.table("conversations")) SET last_activity = coalesce(?, last_activity),
                        message_count = coalesce(?, message_count), position = ? WHERE id = ?
                    """,
                [change.lastActivity, change.messageCount, change.position, id]
            )
        }
        scratch.conversationChanges.removeAll(keepingCapacity: true)
    }

    /// `message.softDeleted|restored`: the target message's row.
    package func updateMessage(_ change: String, _ message: String) throws {
        try connection.run(
            sql: "UPDATE \(messages) SET \(change), position = ? WHERE id = ?",
            [event.position, message]
        )
    }

    /// `conversation.escalated|assigned|ended`.
    package func updateConversation(_ change: String, _ arguments: [any SQLiteBindable] = [], of stream: String) throws
    {
        guard stream.hasPrefix("conversation/") else { throw event.missing("a conversation stream") }
        // What was held back for the conversations lands first, so positions keep the log's order.
        try Self.writeConversationChanges(context)
        try connection.run(
            sql: "UPDATE \(conversations) SET \(change), position = ? WHERE id = ?",
            arguments + [event.position, String(stream.dropFirst("conversation/".count))]
        )
    }

    /// `delivery.succeeded|failed`: a message is `sent` once all its deliveries succeeded, `failed`
    /// once one failed; it keeps the position of the event that finished each (`outcomes`), by which
    /// its audit trail finds the call's stream once the outbox no longer holds the delivery.
    package func delivered(_ items: [DeliveryItem], succeeded: Bool) throws {
        let scratch = context.state(TranscriptScratch.init)
        for message in items.map(\.message) {
            if let index = scratch.heldIndex[message] {
                // What the updates below do, to a row not written yet.
                let position = String(event.position)
                scratch.held[index].outcomes = scratch.held[index].outcomes.map { $0 + " " + position } ?? position
                let pending = scratch.held[index].pending
                scratch.held[index].pending = pending - 1
                if !succeeded {
                    scratch.held[index].status = "failed"
                } else if scratch.held[index].status != "failed" && pending <= 1 {
                    scratch.held[index].status = "sent"
                    scratch.held[index].sentAt = event.recordedAt
                }
            } else if succeeded {
                try connection.run(
                    sql: """
                        UPDATE \(messages) SET deliveries_pending = deliveries_pending - 1,
                            status = CASE WHEN status = 'failed' OR deliveries_pending > 1 THEN status ELSE 'sent' END,
                            sent_at = CASE WHEN status = 'failed' OR deliveries_pending > 1 THEN sent_at ELSE ?2 END,
                            outcomes = ifnull(outcomes || ' ', '') || ?3
                        WHERE id = ?1
                        """,
                    [message, event.recordedAt, event.position]
                )
            } else {
                try connection.run(
                    sql: """
                        UPDATE \(messages) SET deliveries_pending = deliveries_pending - 1, status = 'failed',
                            outcomes = ifnull(outcomes || ' ', '') || ?2
                        WHERE id = ?1
                        """,
                    [message, event.position]
                )
            }
        }
    }

    // MARK: - Helpers

    /// The conversation as a message row needs it: its customer never changes after the start, and its
    /// message count is the one held back when there is one.
    private func conversationRow(_ id: String) throws -> Conversation {
        let scratch = context.state(TranscriptScratch.init)
        var row = try scratch.conversations[id] ?? readConversation(id)
        if let count = scratch.conversationChanges[id]?.messageCount { row.messageCount = count }
        scratch.conversations[id] = row
        return row
    }

    private func readConversation(_ id: String) throws -> Conversation {
        let statement = try connection.cachedStatement(
            sql: """
                SELECT customer, message_count, json_type(customer_state, '$.name'),
                    json_extract(customer_state, '$.name'), customer_state, number
                FROM \(conversations) WHERE id = ?
                """
        )
        defer { statement.reset() }
        try statement.bind([id])
        guard try statement.step() else { throw event.missing("conversation \(id) (never started)") }
        let nameType = statement.optionalText(at: 2)
        return Conversation(
            id: id,
            number: statement.int64(at: 5),
            customer: statement.text(at: 0),
            nameText: nameType == "text" ? statement.text(at: 3) : nil,
            state: nameType == nil || nameType == "text" ? nil : statement.optionalText(at: 4),
            messageCount: statement.int64(at: 1)
        )
    }

    /// Content sealed under the message's key, opened; content logged in the clear, as is; `nil` once
    /// the key was shredded.
    private func openedContent(_ logged: JSONValue, message id: String) throws -> JSONValue? {
        guard let sealed = logged.stringValue else { return logged }
        return try context.openJSON(sealed, record: "message/\(id)")
    }

    /// Holds a new message's row back: its `message.routed` usually follows in the same append, and
    /// its deliveries' outcomes often in the same rebuild chunk; the row is written once, complete, at
    /// ``settle(_:)`` (or before an event that reads or changes it in SQL).
    private func hold(
        id: String,
        conversation: Conversation,
        messageId: String?,
        type: String,
        sender: JSONValue,
        content: JSONValue,
        attributes: JSONValue?,
        transcript: Bool,
        isActivity: Bool
    ) {
        let scratch = context.state(TranscriptScratch.init)
        Self.closeAwaiting(context)
        scratch.heldIndex[id] = scratch.held.count
        scratch.awaiting = id
        scratch.held.append(
            HeldMessage(
                conversation: conversation.id,
                conversationNumber: conversation.number,
                seq: conversation.messageCount + 1,
                id: id,
                messageId: messageId,
                type: type,
                senderType: sender["type"]?.stringValue ?? "",
                sender: sender.text,
                text: content["text"]?.stringValue,
                content: content.text,
                attributes: attributes?.text,
                transcript: transcript,
                recordedAt: event.recordedAt,
                row: event.position,
                position: event.position,
                isActivity: isActivity
            )
        )
    }

    private static func insert(_ held: HeldMessage, _ context: ProjectionContext) throws {
        try context.connection.run(
            sql: """
                INSERT INTO \(context.table("messages")) (rowid, conversation, seq, id, message_id, type, sender_type, sender,
                    recipients, content, attributes, transcript, status, created_at, sent_at, deliveries_pending,
                    position, outcomes)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            [
                held.row, held.conversationNumber, held.seq, held.id, held.messageId, held.type, held.senderType,
                held.sender,
                held.recipients, held.content, held.attributes, held.transcript, held.status,
                held.recordedAt, held.sentAt, held.pending, held.position, held.outcomes,
            ]
        )
    }
}
