import Crypto
import Foundation
import HTTPTypes
import HubCommands
import HubDomain
@_spi(Storage) import HubEventLog
import HubReadModels
import HubTestSupport
import HubVault
import HummingbirdTesting
import NIOCore
import Testing

@testable import HubHTTP

/// Upload and message size limits (issue 13 item 10): uploads are streamed to disk under a cap
/// (`--max-upload`), and the longest message the schema allows fits the event store's limit.
struct UploadLimitTests {
    func requestUpload(_ hub: ConversationHub, size: Int) async throws -> (status: Int, json: JSONValue?) {
        try await hub.api.call(
            .post,
            "/assets",
            #"{"channel": {"type": "custom_channel"}, "sender": {"type": "custom_bot"}, "name": "r.pdf", "size": \#(size)}"#
        )
    }

    func upload(_ hub: ConversationHub, _ url: String, _ bytes: [UInt8]) async throws -> (Int, JSONValue?) {
        let path = String(url[try #require(url.range(of: "/conversation/")).lowerBound...])
        return try await hub.api.client.execute(
            uri: path,
            method: .post,
            headers: [.contentType: "application/pdf"],
            body: ByteBuffer(bytes: bytes)
        ) { response in
            let text = String(buffer: response.body)
            return (Int(response.status.code), try? JSONValue.parse(text))
        }
    }

    func temporaryFiles(_ hub: ConversationHub) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: hub.store.directory.path + "/assets")) ?? []
        return names.filter { $0.hasPrefix(".upload-") }
    }

    @Test func anUploadOverTheCapIsA413AndLeavesNothingBehind() async throws {
        try await withConversationHub(maxUploadBytes: 1024) { hub in
            // A declared size over the cap is refused when the URL is asked for.
            let (overStatus, over) = try await requestUpload(hub, size: 2048)
            #expect(overStatus == 400)
            #expect(over?["code"] == "400-102")
            #expect(over?.value(at: "details")?.arrayValue?.first?["value"] == "size")

            let (status, requested) = try await requestUpload(hub, size: 1000)
            #expect(status == 200)
            let url = try #require(requested?["contentUrl"]?.stringValue)
            // A body over the cap: 413 in the API's error format.
            let (tooLarge, error) = try await upload(hub, url, [UInt8](repeating: 7, count: 1500))
            #expect(tooLarge == 413)
            #expect(error?["code"] == "413-101")
            #expect(error?["developerMessage"]?.stringValue?.contains("1024") == true)
            // Over the declared size but within the cap: refused while streaming.
            let (overDeclared, _) = try await upload(hub, url, [UInt8](repeating: 7, count: 1020))
            #expect(overDeclared == 400)
            #expect(temporaryFiles(hub).isEmpty)
            // The asset still takes its bytes.
            let (accepted, _) = try await upload(hub, url, [UInt8](repeating: 7, count: 1000))
            #expect(accepted == 204)
            #expect(temporaryFiles(hub).isEmpty)
        }
    }

    @Test func aLargeUploadIsStreamedToDiskWhole() async throws {
        try await withConversationHub { hub in
            // 12 MiB: many times the 256 KiB pieces the upload is written in.
            var bytes = [UInt8](repeating: 0, count: 12 << 20)
            bytes.withUnsafeMutableBytes { raw in
                var generator = SystemRandomNumberGenerator()
                for offset in stride(from: 0, to: raw.count, by: 8) {
                    raw.storeBytes(of: generator.next(), toByteOffset: offset, as: UInt64.self)
                }
            }
            let (status, requested) = try await requestUpload(hub, size: bytes.count)
            #expect(status == 200)
            let url = try #require(requested?["contentUrl"]?.stringValue)
            let (uploaded, body) = try await upload(hub, url, bytes)
            #expect(uploaded == 204, "\(body?.text ?? "")")
            let hash = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
            let stored = FileManager.default.contents(atPath: hub.store.directory.path + "/assets/" + hash)
            #expect(stored?.count == bytes.count)
            #expect(stored.map { Array($0) == bytes } == true)
            #expect(temporaryFiles(hub).isEmpty)
        }
    }

    /// The longest text the schema allows is accepted whole; a content over the limit is refused
    /// naming the message.
    @Test func theLongestTextFitsAndAnOversizedContentNamesItsMessage() async throws {
        try await withConversationHub { hub in
            // The test channel limits text to 140 characters: lift that.
            let path = "/channels/\(hub.setup.channel)"
            let (_, channel) = try await hub.api.call(.get, path)
            var fields = try #require(channel?.objectValue)
            for key in ["id", "created", "restrictions"] { fields[key] = nil }
            #expect(try await hub.api.call(.put, path, JSONValue.object(fields).text).status == 204)

            let longest = String(repeating: "a", count: RequestMessages.maxTextCharacters)
            let (accepted, answer) = try await hub.send(messageBody(text: longest))
            #expect(accepted == 202, "\(answer?.text.prefix(300) ?? "")")

            // Short in the request, long as the hub writes it: 9e14 is written 900000000000000.
            var body = messageBody(text: "first")
            let numbers = JSONValue.array(Array(repeating: .double(9e14), count: 70_000))
            let second = messageBody(text: "second", value: numbers)
            if case .object(var envelope) = body, case .array(let one)? = body.value(at: "messages")?["message"],
                case .array(let two)? = second.value(at: "messages")?["message"]
            {
                envelope["messages"] = .object(["message": .array(one + two)])
                body = .object(envelope)
            }
            let text = body.text.replacingOccurrences(of: "900000000000000", with: "9e14")
            #expect(text.utf8.count < 1 << 20)
            let (refused, error) = try await hub.api.call(.post, "/conversations/messages", text)
            #expect(refused == 400)
            #expect(error?["code"] == "400-102")
            #expect(error?.value(at: "details")?.arrayValue?.first?["value"] == "messages.message[1].content")
        }
    }

    /// A forwarded transcript is a message too: of a conversation longer than a message may be, it
    /// keeps the latest lines, and the conversation still ends.
    @Test func aLongTranscriptIsForwardedWithItsLatestLines() async throws {
        try await withConversationHub(botOptions: #""forwardTranscript": true,"#) { hub in
            let path = "/channels/\(hub.setup.channel)"
            let (_, channel) = try await hub.api.call(.get, path)
            var fields = try #require(channel?.objectValue)
            for key in ["id", "created", "restrictions"] { fields[key] = nil }
            #expect(try await hub.api.call(.put, path, JSONValue.object(fields).text).status == 204)
            var conversation = ""
            for letter in ["a", "b", "c"] {
                let accepted = try await hub.sendAccepted(messageBody(text: String(repeating: letter, count: 600_000)))
                conversation = try #require(accepted.first?.value(at: "conversation.id")?.stringValue)
            }
            let (status, answer) = try await hub.send(
                messageBody("conversation.end", from: "custom_bot", text: nil, conversation: conversation)
            )
            #expect(status == 202, "\(answer?.text ?? "")")
            try await hub.callbacks.waitFor { $0.contains { $0.path == "/custom_agent" } }
            let body = try JSONValue.parse(try #require(hub.callbacks.requests(to: "/custom_agent").first).body)
            let text = body.value(at: "messages")?["message"]?.arrayValue?.first?.value(at: "content.text")?.stringValue
            let lines = (text ?? "").split(separator: "\n")
            // The note, the last customer message and the end itself; the older ones are left out.
            #expect(lines.count == 3)
            #expect(lines.first == "(earlier lines left out)")
            #expect(lines.dropFirst().first?.hasSuffix(String(repeating: "c", count: 600_000)) == true)
            #expect(lines.last?.contains("conversation.end") == true, "\(lines.last ?? "")")
            #expect(!(text ?? "").contains("bbbbbbbbbb"))
        }
    }

    @Test func theSchemaTheOpenAPIDocumentAndTheEventLimitAgree() {
        let document = OpenAPIDocument.json
        let text = document.value(at: "components.schemas.RequestMessages.properties.messages.properties.message")?[
            "items"
        ]?.value(at: "properties.content.properties.text")
        #expect(text?["maxLength"] == .integer(Int64(RequestMessages.maxTextCharacters)))
        #expect(RequestMessages.maxTextCharacters <= RequestMessages.maxContentBytes)
        // A sealed content of the largest size (nonce, tag, base64, prefix), with room for the rest of
        // its event (ids, sender, 25 attributes of 255-character names and values, escaped).
        let sealed = 11 + (RequestMessages.maxContentBytes + 28 + 2) / 3 * 4
        #expect(sealed + 256 * 1024 <= EventStoreConfiguration.Limits().maxEventDataBytes)
    }
}
