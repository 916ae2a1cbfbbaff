import Foundation
import HTTPTypes
import HubCommands
import HubDomain
@_spi(Storage) import HubEventLog
import HubReadModels
import HubSQLite
import HubTestSupport
import HubVault
import Testing

@testable import HubHTTP

/// Numbers from JSON (issue 13 items 6–8): every one is range-checked where it is validated, none
/// reaches a trapping conversion, and a stored configuration cannot crash routing.
@Suite(.timeLimit(.minutes(5)))
struct NumericInputTests {
    /// Huge, negative, fractional, exponent-notation, out-of-range and not-quite-numbers, as JSON text.
    static let hostileNumbers = [
        "1e300", "-1e300", "1e308", "1.7976931348623157e308", "1e309", "-1e309", "9223372036854775807",
        "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "18446744073709551616",
        "123456789012345678901234567890", "9007199254740993", "-1", "-0", "0", "0.5", "1.5", "1e-300", "4.9e-324",
        "1e2", "1E+2", "2.5e1", "100.0", "NaN", "Infinity", "-Infinity", "0x10", "1e", "--1", "\"1e300\"", "null",
        "true", "[1e300]", "{\"value\": 1e300}",
    ]

    /// One of each kind of ``hostileNumbers``.
    static let oneOfEachKind = [
        "1e300", "-1e300", "1e309", "9223372036854775808", "-1", "0.5", "1e-300", "1E+2", "NaN", "\"1e300\"",
        "[1e300]",
    ]

    /// The dotted paths (`[0]` for an array's first element) of every field of `type` whose type
    /// satisfies `include`, found by walking the schema: new fields are fuzzed without editing the test.
    static func paths(in type: FieldType, prefix: String = "", where include: (FieldType) -> Bool) -> [String] {
        var found: [String] = []
        if !prefix.isEmpty, include(type) { found.append(prefix) }
        switch type {
        case .object(let fields):
            for field in fields {
                let path = prefix.isEmpty ? field.name : prefix + "." + field.name
                found += paths(in: field.type, prefix: path, where: include)
            }
        case .array(let element, _, _):
            found += paths(in: element, prefix: prefix + "[0]", where: include)
        default:
            break
        }
        return found
    }

    static func isNumber(_ type: FieldType) -> Bool {
        if case .number = type { return true }
        return false
    }

    /// `body` with the JSON text `value` at `path` (objects and the first array element made as needed).
    static func setting(_ path: String, to value: JSONValue, in body: JSONValue) -> JSONValue {
        var steps: [(key: String, isArray: Bool)] = []
        for part in path.split(separator: ".") {
            if part.hasSuffix("[0]") {
                steps.append((String(part.dropLast(3)), true))
            } else {
                steps.append((String(part), false))
            }
        }
        func set(_ current: JSONValue?, _ steps: ArraySlice<(key: String, isArray: Bool)>) -> JSONValue {
            guard let step = steps.first else { return value }
            var fields = current?.objectValue ?? [:]
            if step.isArray {
                var items = fields[step.key]?.arrayValue ?? []
                if items.isEmpty { items.append(.object([:])) }
                items[0] = set(items[0], steps.dropFirst())
                fields[step.key] = .array(items)
            } else {
                fields[step.key] = set(fields[step.key], steps.dropFirst())
            }
            return .object(fields)
        }
        return set(body, steps[...])
    }

    /// `body` as JSON text with `number` (raw JSON text) at `path`.
    static func text(_ body: JSONValue, _ path: String, _ number: String) -> String {
        let marker = "\u{1}MARK\u{1}"
        return setting(path, to: .string(marker), in: body).text.replacingOccurrences(
            of: JSONValue.string(marker).text,
            with: number
        )
    }

    /// A resource as PUT takes it back: the GET body without the fields the hub sets.
    static func editable(_ state: JSONValue) -> JSONValue {
        guard case .object(var fields) = state else { return state }
        fields["id"] = nil
        fields["created"] = nil
        return .object(fields)
    }

    /// Asks for an asset and sends a customer message: what reads the channel's and account's numbers.
    static func exerciseRouting(_ hub: ConversationHub, _ context: String) async throws {
        let (assetStatus, asset) = try await hub.api.call(
            .post,
            "/assets",
            #"{"channel": {"type": "custom_channel"}, "sender": {"type": "customer"}, "name": "a.pdf", "size": 10}"#
        )
        #expect(assetStatus < 500, "\(context): POST /assets \(asset?.text ?? "")")
        let (messageStatus, message) = try await hub.send(messageBody(text: "Hi"))
        #expect(messageStatus < 500, "\(context): message \(message?.text ?? "")")
    }

    @Test func everyNumericConfigurationFieldTakesHostileNumbersWithoutA5xx() async throws {
        try await withConversationHub { hub in
            let resources: [(ResourceKind, String)] = [
                (.channel, hub.setup.channel), (.orchestration, hub.setup.orchestration),
                (.account, hub.setup.account), (.clientApplication, hub.setup.customerApp),
                (.participant, hub.setup.participant),
            ]
            var checked = 0
            for kind in ResourceKind.allCases {
                let numeric = Self.paths(in: .object(kind.schema.fields), where: Self.isNumber)
                let existing = resources.first { $0.0 == kind }?.1
                for path in numeric {
                    for number in Self.hostileNumbers {
                        let context = "\(kind.pathSegment) \(path) = \(number)"
                        guard let existing else {
                            let (created, createdBody) = try await hub.api.call(
                                .post,
                                "/\(kind.pathSegment)",
                                Self.text(.object([:]), path, number)
                            )
                            #expect(created < 500, "\(context): \(createdBody?.text ?? "")")
                            continue
                        }
                        let (_, current) = try await hub.api.call(.get, "/\(kind.pathSegment)/\(existing)")
                        let body = Self.editable(try #require(current))
                        // A new resource like the working one, and an update of the working one.
                        checked += 1
                        var fresh = body.objectValue ?? [:]
                        fresh["modified"] = nil
                        fresh[kind.uniqueField] = .string("fuzz-\(checked)")
                        if kind == .account { fresh["address"] = .string("fuzz-\(checked)") }
                        let (created, createdBody) = try await hub.api.call(
                            .post,
                            "/\(kind.pathSegment)",
                            Self.text(.object(fresh), path, number)
                        )
                        #expect(created < 500, "\(context): \(createdBody?.text ?? "")")
                        let (updated, updatedBody) = try await hub.api.call(
                            .put,
                            "/\(kind.pathSegment)/\(existing)",
                            Self.text(body, path, number)
                        )
                        #expect(updated < 500, "\(context): \(updatedBody?.text ?? "")")
                        for answer in [createdBody, updatedBody]
                        where answer?["code"]?.stringValue?.hasPrefix("400") == true {
                            #expect(answer?["code"] == "400-102", "\(context): \(answer?.text ?? "")")
                        }
                        if updated == 204 {
                            // Whatever was stored, routing reads it without failing.
                            try await Self.exerciseRouting(hub, context)
                        }
                    }
                }
            }
            // The channel's four, the orchestration's one and the account's two, at least.
            #expect(checked >= 7 * Self.hostileNumbers.count)
            let assetSchemaPaths = Self.paths(in: .object(AssetController.requestSchema.fields), where: Self.isNumber)
            #expect(assetSchemaPaths == ["size"])
            let base: JSONValue = .object([
                "channel": .object(["type": "custom_channel"]), "sender": .object(["type": "customer"]),
                "name": "a.pdf",
            ])
            for number in Self.hostileNumbers {
                let (status, body) = try await hub.api.call(.post, "/assets", Self.text(base, "size", number))
                #expect(status < 500, "size = \(number): \(body?.text ?? "")")
                // Not JSON at all (`NaN`, `1e309`): the body is named; otherwise the attribute.
                let named: JSONValue = (try? JSONValue.parse(number)) == nil ? "body" : "size"
                if status == 400 { #expect(body?.value(at: "details")?.arrayValue?.first?["value"] == named) }
            }
            try await Self.exerciseRouting(hub, "after all")
        }
    }

    @Test func everyFieldOfEveryMessageTypeTakesHostileNumbersWithoutA5xx() async throws {
        try await withConversationHub { hub in
            let started = try await hub.sendAccepted(messageBody(text: "Hello"))
            let conversation = try #require(started.first?.value(at: "conversation.id")?.stringValue)
            let messages = RequestMessages.schema.fields.first { $0.name == "messages" }
            guard case .object(let envelope)? = messages?.type, case .array(let messageType, _, _) = envelope[0].type
            else {
                Issue.record("the RequestMessages schema changed shape")
                return
            }
            let schemaPaths = Self.paths(in: messageType, where: { _ in true })
            // `content.value` is passed through: the keys the hub reads (spec §4.3), and some it does not.
            let valuePaths = [
                "content.value", "content.value.messageId", "content.value.url", "content.value.status",
                "content.value.agent.id", "content.value.agent.name", "content.value.queue.id", "content.value.code",
                "content.value.size", "content.value.list.sections[0].order",
            ]
            // `conversation.end` last: it ends the conversation the others are sent in.
            let types = MessagePermissions.messageTypes.sorted {
                ($0 == "conversation.end" ? 1 : 0, $0) < ($1 == "conversation.end" ? 1 : 0, $1)
            }
            var sent = 0
            for type in types {
                let sender = SenderType.allCases.first { MessagePermissions.allows($0, toSend: type) == true }!
                let base = messageBody(
                    type,
                    from: sender.rawValue,
                    text: "some text",
                    value: .object(["messageId": "nope", "url": "https://example.com"]),
                    conversation: sender == .customer ? nil : conversation
                )
                // Every field of the schema with every number once (for `text`); the content of every
                // type with one number of each kind.
                let paths = (type == "text" ? schemaPaths : []) + ["content.text"] + valuePaths
                for path in paths {
                    for number in type == "text" ? Self.hostileNumbers : Self.oneOfEachKind {
                        let text = Self.text(base, "messages.message[0]." + path, number)
                        let (status, body) = try await hub.api.call(.post, "/conversations/messages", text)
                        #expect(status < 500, "\(type) \(path) = \(number): \(body?.text ?? "")")
                        sent += 1
                    }
                }
            }
            #expect(sent > 3000)
            // The hub still routes.
            let (status, _) = try await hub.send(messageBody(text: "Still there?", contact: "later@example.com"))
            #expect(status == 202)
        }
    }

    @Test func hostileNumbersAreRefusedWith400102NamingTheAttribute() async throws {
        try await withConversationHub { hub in
            let cases: [(String, String, String)] = [
                ("channels", "restrictions.inbound.maxTextLength", "1e300"),
                ("channels", "restrictions.outbound.maxTextLength", "1.5"),
                ("channels", "restrictions.inbound.attachmentPolicy.maxSize", "1e300"),
                ("channels", "restrictions.outbound.attachmentPolicy.maxSize", "-1"),
                ("channels", "restrictions.outbound.attachmentPolicy.maxSize", "9223372036854775807"),
            ]
            let channel: JSONValue = .object(["type": "other", "displayName": "Other", "icon": "iVBORw0KGgo="])
            for (segment, path, number) in cases {
                let (status, body) = try await hub.api.call(.post, "/\(segment)", Self.text(channel, path, number))
                #expect(status == 400, "\(path) = \(number)")
                #expect(body?["code"] == "400-102")
                #expect(body?.value(at: "details")?.arrayValue?.first?["value"] == .string(path))
            }
            // A whole number written with an exponent is a whole number.
            let (status, _) = try await hub.api.call(
                .post,
                "/channels",
                Self.text(channel, "restrictions.inbound.maxTextLength", "1.4e2")
            )
            #expect(status == 201)
            for number in ["1e300", "9223372036854775807", "1.5", "0", "-3"] {
                let (status, body) = try await hub.api.call(
                    .post,
                    "/assets",
                    #"{"channel": {"type": "custom_channel"}, "sender": {"type": "customer"}, "name": "a.pdf", "size": \#(number)}"#
                )
                #expect(status == 400, "size \(number)")
                #expect(body?["code"] == "400-102")
                #expect(body?.value(at: "details")?.arrayValue?.first?["value"] == "size")
            }
        }
    }

    /// A configuration stored before validation bounded its numbers (here written into the projection
    /// directly) is read with clamping: messages and asset requests are answered, not fatal.
    @Test func aStoredChannelWithHugeNumbersDoesNotCrashRouting() async throws {
        try await withConversationHub { hub in
            // A channel stored with numbers no API request could give (an older version's data): its
            // event appended directly, and applied by the configuration projection like any other.
            let channel = hub.setup.channel
            try await hub.store.writer.perform { transaction in
                let state = try transaction.connection.singleText(
                    sql: """
                        SELECT json_set(state,
                            '$.restrictions.inbound.maxTextLength', 1e300,
                            '$.restrictions.outbound.maxTextLength', -1e300,
                            '$.restrictions.inbound.attachmentPolicy', json('{"maxSize": 1e300}'))
                        FROM config_resources WHERE kind = 'channel' AND id = ?
                        """,
                    [channel]
                )
                try transaction.append(
                    [EventDraft(type: "channel.updated", data: state ?? "{}", actor: "test")],
                    to: "channel/\(channel)"
                )
            }
            let (messageStatus, message) = try await hub.send(messageBody(text: "Hello"))
            #expect(messageStatus == 202, "\(message?.text ?? "")")
            let (assetStatus, asset) = try await hub.api.call(
                .post,
                "/assets",
                #"{"channel": {"type": "custom_channel"}, "sender": {"type": "customer"}, "name": "a.pdf", "size": 10}"#
            )
            #expect(assetStatus == 200, "\(asset?.text ?? "")")
        }
    }
}
