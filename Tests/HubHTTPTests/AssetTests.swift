import Foundation
import HTTPTypes
import HubCommands
import HubDomain
@_spi(Storage) import HubEventLog
import HubReadModels
import HubTestSupport
import HubVault
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// Assets (spec §6): signed upload and download URLs, channel policies, attachment to messages.
struct AssetTests {
    /// `POST /assets` for the bot side of the test channel; returns the id and the upload path.
    func requestUpload(
        _ hub: ConversationHub,
        name: String,
        size: Int,
        sender: String = "custom_bot"
    ) async throws
        -> (status: Int, json: JSONValue?)
    {
        try await hub.api.call(
            .post,
            "/assets",
            #"{"channel": {"type": "custom_channel"}, "sender": {"type": "\#(sender)"}, "name": "\#(name)", "size": \#(size)}"#
        )
    }

    /// A request on an absolute URL the hub handed out, without a bearer token.
    func raw(
        _ hub: ConversationHub,
        _ url: String,
        method: HTTPRequest.Method,
        contentType: String? = nil,
        body: [UInt8]? = nil
    ) async throws -> (status: Int, headers: HTTPFields, body: ByteBuffer) {
        let path = String(url[try #require(url.range(of: "/conversation/")).lowerBound...])
        var headers: HTTPFields = [:]
        if let contentType { headers[.contentType] = contentType }
        return try await hub.api.client.execute(
            uri: path,
            method: method,
            headers: headers,
            body: body.map { ByteBuffer(bytes: $0) }
        ) { (Int($0.status.code), $0.headers, $0.body) }
    }

    @Test func uploadDownloadAttachAndDeleteFollowTheContract() async throws {
        try await withConversationHub { hub in
            let bytes = Array("%PDF-1.4 a small receipt".utf8)
            let (status, requested) = try await requestUpload(hub, name: "receipt.pdf", size: bytes.count)
            #expect(status == 200, "\(requested?.text ?? "")")
            let id = try #require(requested?["id"]?.stringValue)
            let uploadURL = try #require(requested?["contentUrl"]?.stringValue)
            #expect(uploadURL.contains("/conversation/conversationmgr/v3/assets/upload?signature="))
            #expect(Timestamp.milliseconds(try #require(requested?["contentUrlExpiry"]?.stringValue)) != nil)

            // Declared size and type are enforced; a bad signature is refused.
            #expect(
                try await raw(hub, uploadURL, method: .post, contentType: "application/pdf", body: [1, 2]).status == 400
            )
            #expect(try await raw(hub, uploadURL, method: .post, contentType: "image/png", body: bytes).status == 400)
            #expect(
                try await raw(hub, uploadURL + "x", method: .post, contentType: "application/pdf", body: bytes).status
                    == 401
            )
            #expect(
                try await raw(hub, uploadURL, method: .post, contentType: "application/pdf", body: bytes).status == 204
            )
            #expect(
                try await raw(hub, uploadURL, method: .post, contentType: "application/pdf", body: bytes).status == 400
            )

            // Metadata and download.
            let (getStatus, metadata) = try await hub.api.call(.get, "/assets/\(id)")
            #expect(getStatus == 200)
            #expect(metadata?["name"] == "receipt.pdf")
            #expect(metadata?["contentType"] == "application/pdf")
            #expect(metadata?["size"] == .integer(Int64(bytes.count)))
            let downloadURL = try #require(metadata?["contentUrl"]?.stringValue)
            let download = try await raw(hub, downloadURL, method: .get)
            #expect(download.status == 200)
            #expect(Array(download.body.readableBytesView) == bytes)
            #expect(download.headers[.contentType] == "application/pdf")
            #expect(download.headers[.contentDisposition] == #"attachment; filename="receipt.pdf""#)
            // The upload URL does not download, and the download URL does not upload.
            #expect(try await raw(hub, uploadURL, method: .get).status >= 400)

            // Bytes are content-addressed on disk; events carry the hash, never the bytes.
            let events = try await hub.events().filter { $0.stream == "asset/\(id)" }
            #expect(events.map(\.type) == ["asset.requested", "asset.uploaded"])
            let hash = try #require(try JSONValue.parse(events[1].data)["sha256"]?.stringValue)
            let stored = FileManager.default.contents(atPath: hub.store.directory.path + "/assets/" + hash)
            #expect(stored.map(Array.init) == bytes)
            #expect(!events.contains { $0.data.contains("%PDF") })

            // Attached to a bot message, the callback carries its metadata; then it cannot be deleted.
            let start = try await hub.sendAccepted(messageBody())
            let conversation = try #require(start.first?.value(at: "conversation.id")?.stringValue)
            var reply = messageBody(from: "custom_bot", text: "Here is your receipt.", conversation: conversation)
            reply = Self.addAttachment(id, to: reply)
            _ = try await hub.sendAccepted(reply)
            try await hub.callbacks.waitFor { $0.contains { $0.path == "/customer" } }
            let callback = try JSONValue.parse(hub.callbacks.requests(to: "/customer")[0].body)
            let attachment = callback.value(at: "messages")?["message"]?.arrayValue?.first?
                .value(at: "content.attachments")?["attachment"]?.arrayValue?.first
            #expect(attachment?["name"] == "receipt.pdf")
            #expect(attachment?["contentType"] == "application/pdf")
            let (deleteStatus, deleteBody) = try await hub.api.call(.delete, "/assets/\(id)")
            #expect(deleteStatus == 400)
            #expect(deleteBody?["code"] == "400-147")
            let (_, listed) = try await hub.queryText("/v1/assets?conversation=\(conversation)")
            #expect(try JSONValue.parse(listed)["assets"]?.arrayValue?.first?["state"] == "attached")
        }
    }

    @Test func channelPoliciesAndUnusedAssetsAreEnforced() async throws {
        try await withConversationHub { hub in
            _ = try await hub.api.create(
                "channels",
                #"""
                {"type": "strict_channel", "displayName": "Strict", "icon": "iVBORw0KGgo=",
                 "restrictions": {"inbound": {"attachmentPolicy": {"enabled": true, "maxSize": 100, "type": "allow",
                                                                   "extensions": ["png"]}},
                                  "outbound": {"attachmentPolicy": {"enabled": false}}}}
                """#
            )
            func request(_ name: String, _ size: Int, _ sender: String) async throws -> (Int, String?) {
                let (status, json) = try await hub.api.call(
                    .post,
                    "/assets",
                    #"{"channel": {"type": "strict_channel"}, "sender": {"type": "\#(sender)"}, "name": "\#(name)", "size": \#(size)}"#
                )
                return (status, json?["code"]?.stringValue)
            }
            #expect(try await request("photo.png", 50, "customer").0 == 200)
            #expect(try await request("photo.png", 101, "customer") == (400, "400-102"))
            #expect(try await request("notes.pdf", 50, "customer") == (400, "400-102"))
            #expect(try await request("noextension", 50, "customer") == (400, "400-102"))
            #expect(try await request("photo.png", 50, "custom_agent") == (400, "400-102"))
            let (unknown, unknownBody) = try await hub.api.call(
                .post,
                "/assets",
                #"{"channel": {"type": "nope"}, "sender": {"type": "customer"}, "name": "a.png", "size": 5}"#
            )
            #expect(unknown == 400 && unknownBody?["code"] == "400-145")
            let (missing, missingBody) = try await hub.api.call(.post, "/assets", #"{"name": "a.png", "size": 5}"#)
            #expect(missing == 400 && missingBody?["code"] == "400-143")

            // An asset not uploaded cannot be attached; one never attached can be deleted.
            let (_, requested) = try await requestUpload(hub, name: "later.png", size: 10)
            let id = try #require(requested?["id"]?.stringValue)
            let start = try await hub.sendAccepted(messageBody())
            let conversation = try #require(start.first?.value(at: "conversation.id")?.stringValue)
            let (status, body) = try await hub.send(
                Self.addAttachment(id, to: messageBody(from: "custom_bot", text: "file", conversation: conversation))
            )
            #expect(status == 400 && body?["code"] == "400-145")
            // The test channel's inbound features leave attachments out: customers cannot send them.
            let (customerStatus, _) = try await hub.send(
                Self.addAttachment(id, to: messageBody(text: "file", conversation: conversation))
            )
            #expect(customerStatus == 400)
            #expect(try await hub.api.call(.delete, "/assets/\(id)").status == 204)
            #expect(try await hub.api.call(.get, "/assets/\(id)").status == 404)
            #expect(try await hub.api.call(.delete, "/assets/\(id)").status == 404)
        }
    }

    @Test func unusedAssetsExpireAndAttachedOnesStay() async throws {
        try await withConversationHub { hub in
            let bytes = Array("%PDF-1.4 kept".utf8)
            var ids: [String] = []
            for name in ["requested.pdf", "uploaded.pdf", "attached.pdf"] {
                let (_, requested) = try await requestUpload(hub, name: name, size: bytes.count)
                ids.append(try #require(requested?["id"]?.stringValue))
                if name != "requested.pdf" {
                    let url = try #require(requested?["contentUrl"]?.stringValue)
                    let upload = try await raw(hub, url, method: .post, contentType: "application/pdf", body: bytes)
                    #expect(upload.status == 204)
                }
            }
            let start = try await hub.sendAccepted(messageBody())
            let conversation = try #require(start.first?.value(at: "conversation.id")?.stringValue)
            _ = try await hub.sendAccepted(
                Self.addAttachment(
                    ids[2],
                    to: messageBody(from: "custom_bot", text: "file", conversation: conversation)
                )
            )
            let assets = AssetStore(store: hub.store)
            // Nothing is old enough yet.
            let hourAgo = Int64(Date().timeIntervalSince1970 * 1000) - 3_600_000
            #expect(try await assets.expireUnused(createdBefore: hourAgo) == 0)
            // The service, with a lifetime of 50 ms, expires the two unused ones.
            let expiry = AssetExpiry(
                assets: assets,
                lifetime: .milliseconds(50),
                interval: .milliseconds(20),
                logger: Logger(label: "expiry", factory: { _ in SwiftLogNoOpLogHandler() })
            )
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await expiry.run() }
                defer { group.cancelAll() }
                try await hub.waitForEvents { events in
                    events.filter { $0.type == "asset.deleted" }.count == 2
                }
            }
            #expect(try await hub.api.call(.get, "/assets/\(ids[0])").status == 404)
            #expect(try await hub.api.call(.get, "/assets/\(ids[1])").status == 404)
            #expect(try await hub.api.call(.get, "/assets/\(ids[2])").status == 200)
            let deleted = try await hub.events().filter { $0.type == "asset.deleted" }
            #expect(Set(deleted.map(\.stream)) == ["asset/\(ids[0])", "asset/\(ids[1])"])
            #expect(deleted.allSatisfy { $0.actor == "system" })
            #expect(try deleted.allSatisfy { try JSONValue.parse($0.data)["reason"] == "expired" })
        }
    }

    static func addAttachment(_ id: String, to body: JSONValue) -> JSONValue {
        guard case .object(var root) = body, case .object(var messages)? = root["messages"],
            case .array(var items)? = messages["message"], case .object(var message) = items[0],
            case .object(var content)? = message["content"]
        else { return body }
        content["attachments"] = .object(["attachment": .array([.object(["id": .string(id)])])])
        message["content"] = .object(content)
        items[0] = .object(message)
        messages["message"] = .array(items)
        root["messages"] = .object(messages)
        return .object(root)
    }
}
