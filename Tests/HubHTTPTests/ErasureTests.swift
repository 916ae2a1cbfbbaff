import Foundation
import HubCommands
import HubDomain
@_spi(Storage) import HubEventLog
import HubReadModels
import HubSQLite
import HubTestSupport
import HubVault
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
            try await hub.callbacks.waitFor { $0.contains { $0.body.contains(secret) } }
            #expect(try await Self.vaultHasKey("message/\(hubId)", hub.store))
            _ = try await hub.sendAccepted(
                messageBody(
                    "delete.permanent",
                    id: "c-2",
                    text: nil,
                    value: .object(["messageId": "c-1"]),
                    conversation: conversation
                )
            )
            #expect(try await !Self.vaultHasKey("message/\(hubId)", hub.store))
            let erased = try #require(try await hub.events().last { $0.type == "message.erased" })
            #expect(erased.data.contains("message/\(hubId)"))
            try await Self.expectGone(secret, from: hub.store.directory)
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

    static func vaultHasKey(_ record: String, _ store: EventStore) async throws -> Bool {
        try await store.pool.read { try $0.singleInt64(sql: "SELECT count(*) FROM vault_keys WHERE id = ?", [record]) }
            == 1
    }

    /// Waits (a few seconds at most: the delivery's outcome commits after the callback answered) until
    /// no file of the data directory holds `text`.
    static func expectGone(_ text: String, from directory: DataDirectory) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        var holding: [String] = []
        repeat {
            holding = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { name in
                let data = FileManager.default.contents(atPath: directory.path + "/" + name) ?? Data()
                return data.range(of: Data(text.utf8)) != nil
            }
            if holding.isEmpty { return }
            try await Task.sleep(for: .milliseconds(50))
        } while ContinuousClock.now < deadline
        Issue.record("\(text) is still in \(holding)")
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
