import HubDomain
import NIOCore
import NIOHTTP1
import Synchronization

/// What the ingest benchmark's connections send: the senders' conversations and the reference's
/// `GET /healthz`.
extension IngestBenchmark {
    /// One sender: conversations of 10–30 messages, customer and bot taking turns, one request at a
    /// time, until the benchmark's messages are used up.
    struct Sender: LoadScript {
        let sender: Int
        let setup: Setup
        let remaining: Counter
        let done: Counter
        let progress: ProgressReporter
        let log: @Sendable (String) -> Void
        var outcome = SenderOutcome()
        var conversationNumber = 0
        var length = 0
        var turn = 0
        var conversation: String?

        mutating func next() -> (method: HTTPMethod, path: String, body: String?)? {
            if turn >= length {
                conversationNumber += 1
                length = Int.random(in: 10...30)
                turn = 0
                conversation = nil
            }
            guard remaining.value.subtract(1, ordering: .relaxed).oldValue > 0 else { return nil }
            let body = message(
                turn: turn,
                sender: sender,
                conversationNumber: conversationNumber,
                conversation: conversation,
                setup: setup
            )
            return (.POST, "/conversation/conversationmgr/v3/conversations/messages", body)
        }

        mutating func received(status: Int, body: ByteBuffer, milliseconds: Double) {
            outcome.latencies.append(milliseconds)
            let text = String(buffer: body)
            guard status == 202, let reply = try? JSONValue.parse(text),
                let accepted = reply.value(at: "messages")?["message"]?.arrayValue?.first,
                let id = accepted["id"]?.stringValue,
                let conversationId = accepted.value(at: "conversation.id")?.stringValue
            else {
                outcome.refused += 1
                if outcome.refused <= 3 { log("refused (\(status)): \(text.prefix(200))") }
                // A refused message ends its conversation; the next request starts another.
                turn = length
                return
            }
            conversation = conversationId
            outcome.acknowledged[conversationId, default: []].append(id)
            turn += 1
            progress.update(Int64(done.value.add(1, ordering: .relaxed).newValue))
        }
    }

    /// The reference's sender: `GET /healthz` until the requests are used up.
    struct HealthCheck: LoadScript {
        let remaining: Counter
        var latencies: [Double] = []

        mutating func next() -> (method: HTTPMethod, path: String, body: String?)? {
            remaining.value.subtract(1, ordering: .relaxed).oldValue > 0 ? (.GET, "/healthz", nil) : nil
        }

        mutating func received(status: Int, body: ByteBuffer, milliseconds: Double) {
            latencies.append(milliseconds)
        }
    }

    /// What one sender saw.
    struct SenderOutcome: Sendable {
        var latencies: [Double] = []
        /// Conversation id → hub message ids acknowledged in it.
        var acknowledged: [String: [String]] = [:]
        var refused = 0
    }

    /// Turn 0 starts a conversation (a new customer); then bot and customer take turns.
    static func message(
        turn: Int,
        sender: Int,
        conversationNumber: Int,
        conversation: String?,
        setup: Setup
    ) -> String {
        let messageId = "\(sender)-\(conversationNumber)-\(turn)-\(UInt32.random(in: 0...UInt32.max))"
        let text =
            turn % 2 == 0
            ? "Customer message \(turn): my order number is \(sender * 1000 + conversationNumber), where is it?"
            : "Bot reply \(turn): let me look that up for you, one moment please."
        if let conversation {
            let senderJSON =
                turn % 2 == 0
                ? #"{"type": "customer"}"#
                : #"{"type": "custom_bot", "participant": {"id": "\#(setup.participant)", "name": "bench_bot"}}"#
            return #"""
                {"messages": {"message": [{"messageId": "\#(messageId)", "type": {"value": "text"},
                  "content": {"text": "\#(text)"}, "conversation": {"id": "\#(conversation)"}, "sender": \#(senderJSON)}]}}
                """#
        }
        return #"""
            {"messages": {"message": [{"messageId": "\#(messageId)", "type": {"value": "text"},
              "content": {"text": "\#(text)"}, "sender": {"type": "customer"},
              "conversation": {"account": {"address": "\#(setup.address)", "channel": {"type": "\#(setup.channelType)"}},
                "customer": {"name": "Customer \#(sender)-\#(conversationNumber)", "contacts": {"contact": [
                  {"type": "email", "address": "c\#(sender)-\#(conversationNumber)-\#(UInt32.random(in: 0...UInt32.max))@example.com"}]}}}}]}}
            """#
    }
}
