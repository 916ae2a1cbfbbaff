import Foundation
import HubCommands
import HubDomain
@_spi(Storage) import HubEventLog
import HubReadModels
import HubSQLite
import HubTestSupport
import HubTools
import HubVault
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

/// Erasure leaves nothing behind (DESIGN.md §6): `delete.permanent` destroys the message's data key,
/// and neither it nor a redacted message's original text survives anywhere in the data directory,
/// the WAL included.
struct ErasureTests {
    @Test func permanentDeleteShredsTheMessageKeyAndLeavesNoPlaintextInAnyFile() async throws {
        try await withConversationHub { hub in
            let secret = "card-4111-1111-\(UUID().uuidString.prefix(8))"
            let first = try await hub.sendAccepted(messageBody(id: "c-1", text: secret))
            let conversation = try #require(first.first?.value(at: "conversation.id")?.stringValue)
            let hubId = try #require(first.first?["id"]?.stringValue)
            let kept = try await hub.sendAccepted(messageBody(id: "c-2", text: "keep me", conversation: conversation))
            let keptId = try #require(kept.first?["id"]?.stringValue)
            try await hub.callbacks.waitFor { $0.contains { $0.body.contains(secret) } }
            // Both contents are sealed under keys derived from the conversation's content key: no key
            // row of their own.
            let log = try await hub.events()
            let started = try #require(log.first { $0.stream == "conversation/\(conversation)" })
            let contentKey = SecretVault.contentKeyRecord(started.position)
            #expect(try await Self.vaultHasKey(contentKey, hub.store))
            #expect(try await !Self.vaultHasKey("message/\(hubId)", hub.store))
            let received = log.filter { $0.type == "message.received" && $0.data.contains(hubId) }
            #expect(received.count == 1 && received[0].data.contains("$sealed:v2:\(started.position):"))
            _ = try await hub.sendAccepted(
                messageBody(
                    "delete.permanent",
                    id: "c-3",
                    text: nil,
                    value: .object(["messageId": "c-1"]),
                    conversation: conversation
                )
            )
            // The content key is gone; every other message of the conversation got the key derived for
            // it as a key row of its own, the control message included, and still opens.
            #expect(try await !Self.vaultHasKey(contentKey, hub.store))
            #expect(try await !Self.vaultHasKey("message/\(hubId)", hub.store))
            #expect(try await Self.vaultHasKey("message/\(keptId)", hub.store))
            let erased = try #require(try await hub.events().last { $0.type == "message.erased" })
            #expect(erased.data.contains("message/\(hubId)") && erased.data.contains(contentKey))
            // The conversation goes on, its new messages under keys of their own.
            let later = try await hub.sendAccepted(
                messageBody(id: "c-4", text: "and later", conversation: conversation)
            )
            let laterId = try #require(later.first?["id"]?.stringValue)
            #expect(try await Self.vaultHasKey("message/\(laterId)", hub.store))
            let (_, transcript) = try await hub.queryText("/v1/conversations/\(conversation)/transcript")
            #expect(transcript.contains("keep me") && transcript.contains("and later") && !transcript.contains(secret))
            // Opened from the log (a rebuild's way), the kept contents open and the erased one does not.
            let opened = try await hub.store.pool.read { connection in
                let vault = SecretVault(masterKey: try MasterKey.load(directory: hub.store.directory, environment: [:]))
                return try log.filter { $0.type == "message.received" }.compactMap { event -> String? in
                    let data = try JSONValue.parse(event.data)
                    guard let id = data["id"]?.stringValue, let content = data["content"]?.stringValue else {
                        return nil
                    }
                    return try vault.openIfKept(content, record: "message/\(id)", connection) ?? "erased"
                }
            }
            #expect(opened.count == 2 && opened[0] == "erased" && opened[1].contains("keep me"), "\(opened)")
            try await Self.expectGone(secret, from: hub.store.directory)
        }
    }

    /// A message's content is sealed before the writer's transaction, under the conversation's content
    /// key as the writer last used it; a `delete.permanent` earlier in the same request destroys that
    /// key, and the writer seals the content again, under a key of its own.
    @Test func aContentSealedBeforeItsKeyWasDestroyedIsSealedAgain() async throws {
        try await withConversationHub { hub in
            let first = try await hub.sendAccepted(messageBody(id: "c-1", text: "to be erased"))
            let conversation = try #require(first.first?.value(at: "conversation.id")?.stringValue)
            // The writer has sealed this conversation's messages: the next one is sealed before it.
            _ = try await hub.sendAccepted(messageBody(id: "c-2", text: "kept", conversation: conversation))
            let erase = messageBody(
                "delete.permanent",
                id: "c-3",
                text: nil,
                value: .object(["messageId": "c-1"]),
                conversation: conversation
            )
            let after = messageBody(id: "c-4", text: "said after the erasure", conversation: conversation)
            let both = erase.replacing(
                at: ["messages", "message"],
                with: .array(
                    (erase.value(at: "messages")?["message"]?.arrayValue ?? [])
                        + (after.value(at: "messages")?["message"]?.arrayValue ?? [])
                )
            )
            let accepted = try await hub.sendAccepted(both)
            let afterId = try #require(accepted.last?["id"]?.stringValue)
            #expect(try await Self.vaultHasKey("message/\(afterId)", hub.store))
            let event = try #require(try await hub.events().last { $0.type == "message.received" })
            #expect(event.data.contains(afterId) && event.data.contains("$sealed:v1:"))
            let (_, transcript) = try await hub.queryText("/v1/conversations/\(conversation)/transcript")
            #expect(transcript.contains("said after the erasure") && transcript.contains("kept"), "\(transcript)")
        }
    }

    @Test func aRedactedMessagesOriginalTextIsGoneOnceDelivered() async throws {
        try await withConversationHub { hub in
            let secret = "hunter2-\(UUID().uuidString.prefix(8))"
            var body = messageBody(text: "my password is \(secret)")
            body = body.replacing(at: ["messages", "message", 0, "content", "redact"], with: true)
            _ = try await hub.sendAccepted(body)
            try await hub.callbacks.waitFor { $0.contains { $0.path == "/custom_bot" && $0.body.contains(secret) } }
            try await Self.expectGone(secret, from: hub.store.directory)
        }
    }

    /// A `delete.permanent` after another erasure leaves none of the message's words behind:
    /// - the writer's connection keeps `secure_delete` on after a batch that erased securely (it used to
    ///   turn it off for good: SQLite's own default, where Debian's build has it on), so what an ordinary
    ///   batch deletes or rewrites leaves no copy in a page's free space;
    /// - the search index drops the words, not only marks them deleted. The secret is one lowercase word,
    ///   as FTS5 keeps it: `card-4111-…` would be four terms, and never found as one string.
    @Test func anErasureAfterAnotherLeavesNoPlaintextEither() async throws {
        try await withConversationHub { hub in
            // An erasing batch first: a redacted text's kept body, dropped once delivered.
            let password = "hunter2-\(UUID().uuidString.prefix(8))"
            var redacted = messageBody(text: "my password is \(password)", contact: "first@example.com")
            redacted = redacted.replacing(at: ["messages", "message", 0, "content", "redact"], with: true)
            _ = try await hub.sendAccepted(redacted)
            try await hub.callbacks.waitFor { $0.contains { $0.body.contains(password) } }
            try await Self.expectGone(password, from: hub.store.directory)
            #expect(try await hub.store.pool.writer.perform { try $0.singleInt64(sql: "PRAGMA secure_delete") } == 1)
            // Then a message delivered in an ordinary batch, and erased. It is sent with others after
            // it, so that its row is not the last its page received when its delivery rewrites it.
            let secret = "wombat\(UUID().uuidString.prefix(8).lowercased())"
            let opening = try await hub.sendAccepted(messageBody(id: "c-0", text: "hello"))
            let conversation = try #require(opening.first?.value(at: "conversation.id")?.stringValue)
            let batch = ["c-1": secret, "c-2": "and", "c-3": "some", "c-4": "more"].sorted { $0.key < $1.key }
            let messages = batch.compactMap { id, text in
                messageBody(id: id, text: text, conversation: conversation).value(at: "messages")?["message"]?
                    .arrayValue?.first
            }
            _ = try await hub.sendAccepted(.object(["messages": .object(["message": .array(messages)])]))
            try await hub.callbacks.waitFor { $0.contains { $0.body.contains(secret) } }
            // Its deliveries ended: the message's row was rewritten (its status, its pending count).
            let deadline = ContinuousClock.now + .seconds(10)
            while try await hub.store.pool.read({ try $0.singleInt64(sql: "SELECT count(*) FROM deliveries") }) != 0 {
                guard ContinuousClock.now < deadline else { throw CallbackWaitTimeout(what: "deliveries", seen: 0) }
                try await Task.sleep(for: .milliseconds(20))
            }
            _ = try await hub.sendAccepted(
                messageBody(
                    "delete.permanent",
                    id: "c-5",
                    text: nil,
                    value: .object(["messageId": "c-1"]),
                    conversation: conversation
                )
            )
            try await Self.expectGone(secret, from: hub.store.directory)
        }
    }

    /// A `delete.permanent` asks for the search index's merge in its own transaction, and leaves it to
    /// ``SearchIndexMerge``: until the merge the word is still in the index's segments (a merge rewrites
    /// the whole index, so deletions share one); the merge takes the request, and the word is gone.
    @Test func aPermanentDeletionsWordsLeaveTheSearchIndexAtTheNextMerge() async throws {
        try await withConversationHub(mergesSearchIndex: false) { hub in
            let merge = SearchIndexMerge(
                store: hub.store,
                logger: Logger(label: "merge", factory: { _ in SwiftLogNoOpLogHandler() })
            )
            let requests = { @Sendable in
                try await hub.store.pool.read { try $0.singleInt64(sql: "SELECT count(*) FROM maintenance_requests") }
            }
            // A new store owes no merge (migration 0016 asks for one where the log has erased a message).
            #expect(try await requests() == 0)
            #expect(try await !merge.mergeIfRequested())
            let secret = "numbat\(UUID().uuidString.prefix(8).lowercased())"
            let first = try await hub.sendAccepted(messageBody(id: "m-1", text: "my word is \(secret)"))
            let conversation = try #require(first.first?.value(at: "conversation.id")?.stringValue)
            let deletions = ["m-2", "m-3"].map { id in
                messageBody(
                    "delete.permanent",
                    id: id,
                    text: nil,
                    value: .object(["messageId": "m-1"]),
                    conversation: conversation
                )
            }
            // Two deletions, one request.
            for deletion in deletions { _ = try await hub.sendAccepted(deletion) }
            let (_, transcript) = try await hub.queryText("/v1/conversations/\(conversation)/transcript")
            #expect(!transcript.contains(secret))
            #expect(try await requests() == 1)
            // (In `hub.sqlite`, and in the WAL until the deletion's truncation of it.)
            #expect(!Self.holding(secret, in: hub.store.directory).isEmpty)
            #expect(try await merge.mergeIfRequested())
            #expect(try await requests() == 0)
            #expect(try await !merge.mergeIfRequested())
            try await Self.expectGone(secret, from: hub.store.directory)
        }
    }

    /// `POST /v1/erasures` with `token`'s scopes; status and body text.
    static func erase(_ hub: ConversationHub, _ body: String, as api: API? = nil) async throws -> (Int, String) {
        let api = api ?? hub.admin
        return try await api.client.execute(
            uri: "/v1/erasures",
            method: .post,
            headers: [.authorization: "Bearer \(api.token)", .contentType: "application/json"],
            body: ByteBuffer(string: body)
        ) { (Int($0.status.code), String(buffer: $0.body)) }
    }

    @Test func aCustomersErasureLeavesNoTraceButTheCountsAndTheChain() async throws {
        try await withConversationHub { hub in
            let mark = UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
            let word = "Quokka\(mark)"
            let contact = "erase-\(mark)@example.com"
            let first = try await hub.sendAccepted(
                messageBody(id: "e-1", text: "My secret is \(word)", contact: contact, phone: "5550001")
            )
            let conversation = try #require(first.first?.value(at: "conversation.id")?.stringValue)
            _ = try await hub.sendAccepted(
                messageBody(from: "custom_bot", id: "e-2", text: "Noted: \(word)", conversation: conversation)
            )
            _ = try await hub.sendAccepted(messageBody(id: "e-3", text: "Thanks \(word)", conversation: conversation))
            // Another customer, kept.
            let kept = try await hub.sendAccepted(
                messageBody(
                    id: "k-1",
                    text: "Wombat\(mark) here",
                    contact: "keep-\(mark)@example.com",
                    phone: "5550002"
                )
            )
            let keptConversation = try #require(kept.first?.value(at: "conversation.id")?.stringValue)
            try await hub.callbacks.waitFor { $0.filter { $0.body.contains(word) }.count >= 3 }
            #expect(try await SearchTests.search(hub, word).ids == [conversation])

            // Bad requests and the scope first: nothing is erased.
            for body in [#"{}"#, #"{"contact": ""}"#, #"{"contact": "a", "customer": "b"}"#, #"{"name": "x"}"#, "[1]"] {
                let (status, text) = try await Self.erase(hub, body)
                #expect(status == 400, "\(body): \(text)")
            }
            #expect(try await Self.erase(hub, #"{"contact": "nobody@example.com"}"#).0 == 404)
            #expect(try await Self.erase(hub, #"{"contact": "\#(contact)"}"#, as: hub.query).0 == 403)

            // A reader's snapshot may predate an erasure: readers keep no parsed customer.
            _ = try await hub.store.pool.read { try ConversationProjection.conversation(keptConversation, $0) }
            #expect(!JSONTextCache.customerStates.contains { $0.contains("keep-\(mark)@") })
            // The customer, parsed from its conversation's row by the writer, is held in memory until the
            // erasure (read again now: other tests' conversations may have filled the cache since).
            _ = try await hub.store.writer.perform { try ConversationProjection.conversation(conversation, in: $0) }
            let (status, text) = try await Self.erase(hub, #"{"contact": "\#(contact.uppercased())"}"#)
            #expect(status == 201, "\(text)")
            #expect(!JSONTextCache.customerStates.contains { $0.contains(contact) })
            let answer = try JSONValue.parse(text)
            #expect(answer["conversations"] == .array([.string(conversation)]))
            // The customer's key, its three messages' keys, and the conversation's content key they
            // were derived from.
            #expect(answer["keysDestroyed"] == .integer(1 + 3 + 1))
            #expect(!text.contains(word) && !text.contains(contact))
            let customer = try #require(answer["customers"]?.arrayValue?.first?.stringValue)
            #expect(try await !Self.vaultHasKey("customer/\(customer)", hub.store))

            // The event: ids, key records and positions, nothing of the content.
            let erasure = try #require(try await hub.events().last { $0.type == "erasure.performed" })
            #expect(erasure.data.contains("customer/\(customer)") && !erasure.data.contains(contact))
            // Search, transcripts and the feed show it erased; the other customer is untouched.
            #expect(try await SearchTests.search(hub, word).ids.isEmpty)
            #expect(try await SearchTests.search(hub, "wombat\(mark)").ids == [keptConversation])
            let (_, transcript) = try await hub.queryText("/v1/conversations/\(conversation)/transcript")
            let document = try JSONValue.parse(transcript)
            #expect(document.value(at: "conversation.erased") == .bool(true), "\(transcript)")
            #expect(document["messages"]?.arrayValue?.isEmpty == true)
            let (_, feed) = try await hub.admin.client.execute(
                uri: "/v1/events?stream=conversation/\(conversation)&limit=1000",
                method: .get,
                headers: [.authorization: "Bearer \(hub.admin.token)"]
            ) { (Int($0.status.code), String(buffer: $0.body)) }
            #expect(
                feed.contains("$sealed:v1:") && !feed.contains(word),
                "sealed content stays sealed: \(feed.prefix(300))"
            )
            // Its counts stay in the metrics.
            let (_, metrics) = try await hub.queryText("/v1/analytics/conversations")
            #expect(try JSONValue.parse(metrics).value(at: "total.conversations.started") == 2)
            // It takes no more messages, and the contact now finds nobody.
            let (refused, _) = try await hub.send(messageBody(id: "e-4", text: "again", conversation: conversation))
            #expect(refused == 400)
            #expect(try await Self.erase(hub, #"{"contact": "\#(contact)"}"#).0 == 404)

            // No file of the data directory holds the text or the contact; the chain verifies.
            for text in [word, word.lowercased(), contact] {
                try await Self.expectGone(text, from: hub.store.directory)
            }
            #expect(try await ChainVerifier(databasePath: hub.store.directory.databasePath).verify().isIntact)
        }
    }

    static func vaultHasKey(_ record: String, _ store: EventStore) async throws -> Bool {
        try await store.pool.read { try $0.singleInt64(sql: "SELECT count(*) FROM vault_keys WHERE id = ?", [record]) }
            == 1
    }

    /// The files of the data directory that hold `text` now, those under `assets/` too.
    static func holding(_ text: String, in directory: DataDirectory) -> [String] {
        let names = FileManager.default.enumerator(atPath: directory.path)?.allObjects.compactMap { $0 as? String }
        return (names ?? []).filter { name in
            let data = FileManager.default.contents(atPath: directory.path + "/" + name) ?? Data()
            return data.range(of: Data(text.utf8)) != nil
        }
    }

    /// Waits (a few seconds at most: the delivery's outcome commits after the callback answered) until
    /// no file of the data directory holds `text`.
    static func expectGone(_ text: String, from directory: DataDirectory) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        var held: [String] = []
        repeat {
            held = holding(text, in: directory)
            if held.isEmpty { return }
            try await Task.sleep(for: .milliseconds(50))
        } while ContinuousClock.now < deadline
        Issue.record("\(text) is still in \(held)")
    }
}

extension JSONValue {
    /// A copy with the value at `path` (object keys and array indexes) replaced.
    fileprivate func replacing(at path: [any Sendable], with value: JSONValue) -> JSONValue {
        guard let first = path.first else { return value }
        let rest = Array(path.dropFirst())
        switch (self, first) {
        case (.object(var fields), let key as String):
            fields[key] = (fields[key] ?? .null).replacing(at: rest, with: value)
            return .object(fields)
        case (.array(var items), let index as Int) where items.indices.contains(index):
            items[index] = items[index].replacing(at: rest, with: value)
            return .array(items)
        default:
            return self
        }
    }
}
