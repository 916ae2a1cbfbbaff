import Dispatch
import Foundation
import HTTPTypes
import HubCommands
import HubDomain
@_spi(Storage) import HubEventLog
import HubReadModels
import HubSQLite
import HubTestSupport
import HubVault
import Synchronization
import Testing

/// Rebuilding the read models from the log gives the tables the writer keeps inline, row for row:
/// after random traffic, and with events appended while the rebuild runs.
struct RebuildTests {
    /// Every table of every projection, fingerprinted on one snapshot (a reader's transaction), with the
    /// position it stands at.
    static func fingerprints(_ store: EventStore) async throws -> (position: Int64, tables: [TableFingerprint]) {
        let tables = store.projections.projections.flatMap(\.schema.tables)
        return try await store.pool.read { connection in
            let position = try connection.singleInt64(sql: "SELECT coalesce(max(position), 0) FROM events") ?? 0
            return (position, try tables.map { try TableFingerprint.compute($0, connection) })
        }
    }

    /// Rebuilds every projection in place, as `hubstore rebuild` does beside a server.
    static func rebuildInPlace(
        _ store: EventStore,
        chunk: Int = 4096,
        progress: @escaping @Sendable (ProjectionRebuilder.Progress) -> Void = { _ in }
    ) async throws -> [ProjectionReport] {
        let tool = try await EventStore.open(
            .init(dataDirectory: store.directory.path),
            exclusive: false,
            readModels: .hub
        )
        do {
            let registry = tool.projections
            let reports = try await tool.pool.writer.perform { connection in
                try ProjectionRebuilder(registry: registry, chunk: chunk).rebuild([], connection, progress: progress)
            }
            await tool.close()
            return reports
        } catch {
            await tool.close()
            throw error
        }
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func randomTrafficRebuildsToTheSameTables(seed: UInt64) async throws {
        // The agent's callback fails now and then, so some deliveries fail for good and tell the sender.
        let responder: CallbackServer.Responder = { request, count in
            if request.path == "/token" { return (200, #"{"data": {"accessToken": "t"}}"#) }
            return request.path == "/custom_agent" && count % 3 == 0 ? (500, "{}") : (200, "{}")
        }
        try await withConversationHub(responder: responder) { hub in
            var random = SeededRandom(seed: seed)
            var conversations: [(id: String, customerMessages: [String], escalated: Bool)] = []
            let bot = #"{"id": "\#(hub.setup.participant)", "name": "custom_bot_participant"}"#
            for step in 0..<60 {
                let choice = random.next(12)
                if conversations.isEmpty || choice == 0 {
                    let contact = "customer\(random.next(4))@example.com"
                    let accepted = try await hub.sendAccepted(messageBody(id: "s\(step)", contact: contact))
                    guard let id = accepted.first?.value(at: "conversation.id")?.stringValue else { continue }
                    if let index = conversations.firstIndex(where: { $0.id == id }) {
                        conversations[index].customerMessages.append("s\(step)")
                    } else {
                        conversations.append((id, ["s\(step)"], false))
                    }
                    continue
                }
                let index = random.next(conversations.count)
                let conversation = conversations[index]
                let target = conversation.customerMessages[random.next(conversation.customerMessages.count)]
                let body: JSONValue
                switch choice {
                case 1, 2:
                    var message = messageBody(id: "s\(step)", text: "text \(step)", conversation: conversation.id)
                    if random.next(3) == 0, case .object(var root) = message {
                        // A redacted text: `*****` in the transcript, the original delivered once.
                        root["messages"] = try JSONValue.parse(
                            root["messages"]!.text.replacingOccurrences(
                                of: #""text":"text \#(step)""#,
                                with: #""redact":true,"text":"text \#(step)""#
                            )
                        )
                        message = .object(root)
                    }
                    body = message
                    conversations[index].customerMessages.append("s\(step)")
                case 3:
                    body = messageBody(
                        "text",
                        from: "custom_bot",
                        id: "s\(step)",
                        conversation: conversation.id,
                        participant: try JSONValue.parse(bot)
                    )
                case 4:
                    body = messageBody(
                        "escalation.transfer",
                        from: "custom_bot",
                        id: "s\(step)",
                        text: "to an agent",
                        conversation: conversation.id,
                        participant: try JSONValue.parse(bot)
                    )
                    conversations[index].escalated = true
                case 5, 6:
                    body = messageBody(
                        "text",
                        from: "custom_agent",
                        id: "s\(step)",
                        text: "agent \(step)",
                        conversation: conversation.id
                    )
                case 7:
                    body = messageBody(
                        "delete.soft",
                        id: "s\(step)",
                        text: nil,
                        value: .object(["messageId": .string(target)]),
                        conversation: conversation.id
                    )
                case 8:
                    body = messageBody(
                        "undo",
                        id: "s\(step)",
                        text: nil,
                        value: .object(["messageId": .string(target)]),
                        conversation: conversation.id
                    )
                case 9:
                    body = messageBody(
                        "delete.permanent",
                        id: "s\(step)",
                        text: nil,
                        value: .object(["messageId": .string(target)]),
                        conversation: conversation.id
                    )
                case 10:
                    body = messageBody(
                        "conversation.end",
                        from: "custom_agent",
                        id: "s\(step)",
                        text: "bye",
                        conversation: conversation.id
                    )
                default:
                    // A configuration change: the channel's inbound text limit.
                    let limit = 100 + random.next(100)
                    let (status, json) = try await hub.api.call(
                        .put,
                        "/channels/\(hub.setup.channel)",
                        #"""
                        {"type": "custom_channel", "displayName": "Custom \#(limit)", "icon": "iVBORw0KGgo=",
                         "restrictions": {"inbound": {"maxTextLength": \#(limit), "features": ["typing_events"]},
                                          "outbound": {"maxTextLength": 1000, "richMessageTypes": ["quickreply"]}}}
                        """#
                    )
                    #expect(status == 204, "\(json?.text ?? "")")
                    continue
                }
                // Refusals (an ended conversation, a message the sender may not send now) are part of the traffic.
                let (status, json) = try await hub.send(body)
                #expect(status == 202 || status == 400 || status == 403, "\(status) \(json?.text ?? "")")
            }
            // Let some deliveries finish or fail meanwhile.
            try await Task.sleep(for: .milliseconds(400))
            #expect(try await projectionMismatches(hub.store) == [])
            let reports = try await Self.rebuildInPlace(hub.store)
            #expect(
                reports.map(\.name) == [
                    "configuration", "routing", "clients", "transcripts", "connector-apps", "connector", "outbox",
                    "assets", "search", "metrics",
                ]
            )
            let messageRows = reports.flatMap(\.tables).first { $0.table == "messages" }?.rows ?? 0
            #expect(messageRows > 20)
            #expect(try await projectionMismatches(hub.store) == [])
            // One event per chunk: a message's row held back for its routing is written by the chunk's
            // end instead, and then completed by the routing — to the same rows.
            _ = try await Self.rebuildInPlace(hub.store, chunk: 1)
            #expect(try await projectionMismatches(hub.store) == [])
        }
    }

    @Test func eventsAppendedDuringARebuildAreAppliedBeforeTheSwap() async throws {
        try await withConversationHub { hub in
            for index in 0..<40 {
                _ = try await hub.sendAccepted(
                    messageBody(id: "m\(index)", text: "before \(index)", contact: "c\(index % 7)@example.com")
                )
            }
            let sent = Mutex(false)
            let reports = try await Self.rebuildInPlace(hub.store, chunk: 16) { progress in
                // Between two chunks (no transaction open): the server side appends and commits.
                guard progress.applied > 0,
                    sent.withLock({ done in
                        defer { done = true }
                        return !done
                    })
                else {
                    return
                }
                let appended = DispatchSemaphore(value: 0)
                Task {
                    _ = try? await hub.sendAccepted(messageBody(id: "during", text: "sent during the rebuild"))
                    appended.signal()
                }
                appended.wait()
            }
            #expect(sent.withLock { $0 })
            let (position, _) = try await Self.fingerprints(hub.store)
            let rebuiltAt = reports.map(\.position).min() ?? 0
            #expect(rebuiltAt > 0 && rebuiltAt <= position)
            let during = try await hub.store.pool.read { connection in
                try connection.singleInt64(sql: "SELECT count(*) FROM messages WHERE text = 'sent during the rebuild'")
            }
            #expect(during == 1)
            // Every projection's state names the code's version.
            let states = try await hub.store.pool.read { connection in
                try connection.singleText(
                    sql:
                        "SELECT group_concat(name || ':' || version, ' ') FROM (SELECT * FROM projection_state ORDER BY name)"
                )
            }
            let versions = hub.store.projections.projections.sorted { $0.name < $1.name }.map {
                "\($0.name):\($0.version)"
            }
            #expect(states == versions.joined(separator: " "))
        }
    }
}

/// A small deterministic generator (SplitMix64), so a failing seed replays.
struct SeededRandom {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next(_ bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(bound))
    }
}
