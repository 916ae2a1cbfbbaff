import Foundation
import HubDomain
import Testing

struct EventCatalogueTests {
    /// One stored event: type, schema version, and the data's text exactly as the log holds it.
    struct StoredEvent: CustomTestStringConvertible {
        var line: Int
        var type: String
        var schemaVersion: Int
        var data: String

        var testDescription: String { "\(line): \(type)" }
    }

    /// Every event of `Tests/Fixtures/store-v1` (the data directory written before projections), exported
    /// with `sqlite3 hub.sqlite "select json_object('type', type, 'schemaVersion', schema_version, 'data',
    /// json(data)) from events order by position"`. `json(data)` is the stored text byte for byte there
    /// (`select count(*) from events where json(data) <> data` is 0), and `data` is the line's last key,
    /// so the stored text is cut out of the line as it is.
    static func storeV1() throws -> [StoredEvent] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/events/store-v1.ndjson")
        struct Line: Decodable {
            var type: String
            var schemaVersion: Int
        }
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
        return try lines.enumerated().map { index, line in
            let parsed = try JSONDecoder().decode(Line.self, from: Data(line.utf8))
            let data = try #require(line.firstRange(of: #","data":"#)).upperBound
            #expect(line.hasSuffix("}"))
            return StoredEvent(
                line: index + 1,
                type: parsed.type,
                schemaVersion: parsed.schemaVersion,
                data: String(line[data..<line.index(before: line.endIndex)])
            )
        }
    }

    @Test func everyStoredEventDecodesToItsTypedPayloadAndBackToTheSameBytes() throws {
        let events = try Self.storeV1()
        #expect(events.count == 74)
        for stored in events {
            let event = try EventCatalogue.decode(
                type: stored.type,
                schemaVersion: stored.schemaVersion,
                data: stored.data
            )
            try checkRoundTrip(event, of: stored)
        }
    }

    /// Shapes the producers write that the fixture store does not hold, read off the producers
    /// (`ClientRegistry`, `MessageIntake`, `Outbox`, `AssetStore.expireUnused`, `ConfigurationStore.delete`).
    static let producerShapes: [(type: String, data: String)] = [
        ("client.revoked", #"{"id":"01a2325c-82c8-71fd-bfb3-65ad31172fe8"}"#),
        (
            "appInstallation.created",
            #"{"account":"64467156","id":"9d2f","installation":{"client_name":"SMS","enabled":true,"#
                + #""grant_types":["client_credentials"],"scope":"msg.consumer"},"secret":"$sealed:v1:AAAA"}"#
        ),
        ("appInstallation.updated", #"{"account":"64467156","id":"9d2f","installation":{"client_name":"SMS 2"}}"#),
        ("appInstallation.deleted", #"{"account":"64467156","id":"9d2f"}"#),
        (
            "connector.conversationOpened",
            #"{"account":"64467156","app":"9d2f","consumer":"5c40","conversation":"01a3","skillId":"-1","#
                + #""ttrType":"PRIORITIZED","ttrValue":600}"#
        ),
        (
            "connector.eventPublished",
            #"{"conversation":"01a3","deliveries":[{"application":"9d2f","id":"01a5","#
                + #""type":"ms.MessagingEventNotification.ContentEvent"}],"dialog":"01a3","#
                + #""event":{"contentType":"text/plain","type":"ContentEvent"},"#
                + #""message":"01a4","originator":{"id":"5c40","role":"CONSUMER"},"sequence":0}"#
        ),
        (
            "connector.eventPublished",
            #"{"conversation":"01a3","dialog":"01a3","event":{"chatState":"COMPOSING","type":"ChatStateEvent"},"#
                + #""originator":{"id":"bot","role":"ASSIGNED_AGENT"}}"#
        ),
        ("connector.conversationChanged", #"{"change":"close","closeReason":"CONSUMER","conversation":"01a3"}"#),
        (
            "connector.conversationChanged",
            #"{"change":"csat","conversation":"01a3","#
                + #""csat":{"csatRate":5,"csatResolutionConfirmation":true,"status":"FILLED"}}"#
        ),
        (
            "consumer.profileSet",
            #"{"account":"64467156","app":"9d2f","consumer":"5c40","externalId":"sms:1","profile":"$sealed:v1:AAAA"}"#
        ),
        ("customer.contactsLinked", #"{"account":"ac43","contactKeys":["k1","k2"],"customer":"01a2"}"#),
        ("conversation.escalated", #"{"bypassedBot":true,"previousConversation":"01a2325c-6d27-703e-b388"}"#),
        ("conversation.assigned", #"{"by":"01a2","queue":"billing"}"#),
        ("conversation.assigned", #"{"agent":"bob","by":"01a2","queue":"billing"}"#),
        ("conversation.assigned", #"{"by":"01a2"}"#),
        (
            "conversation.started",
            #"{"account":{"address":"1000","id":"ac43"},"channel":{"type":"sms"},"#
                + #""customer":{"contactKeys":[],"id":"01a2","identity":"$sealed:v1:AAAA"},"id":"01a3","origin":"egain"}"#
        ),
        (
            "message.received",
            #"{"attributes":[{"name":"tier","value":"gold"}],"content":"$sealed:v1:AAAA","#
                + #""conversation":"01a3","created":"2026-12-01T16:07:27.711Z","id":"01a4","messageId":"m-1","#
                + #""sender":{"type":"custom_bot"},"type":{"value":"typing.start"}}"#
        ),
        (
            // Routed as it was received: the routing in the event (and no `message.routed` after it).
            "message.received",
            #"{"content":"$sealed:v1:AAAA","conversation":"01a3","id":"01a6","messageId":"m-2","#
                + #""routing":{"configurationGeneration":8,"deliveries":[{"application":"3d37","id":"01a7","#
                + #""participant":{"id":"5508","name":"bot"},"type":"custom_bot"},{"application":"3d38","id":"01a8","#
                + #""type":"customer"}],"seq":13,"state":"active"},"#
                + #""sender":{"type":"customer"},"type":{"value":"text"}}"#
        ),
        (
            // Since December 2026 a message's first delivery has the message's id, left out here, and
            // the conversation is the stream's.
            "message.received",
            #"{"content":"$sealed:v2:3:AAAA","id":"01ad","messageId":"m-3","#
                + #""routing":{"configurationGeneration":8,"deliveries":[{"application":"3d37","#
                + #""participant":{"id":"5508","name":"bot"},"type":"custom_bot"},{"application":"3d38","id":"01ae","#
                + #""type":"customer"}],"seq":14,"state":"active"},"#
                + #""sender":{"type":"customer"},"type":{"value":"text"}}"#
        ),
        (
            "message.originated",
            #"{"causedBy":"01a4","content":"$sealed:v1:AAAA","conversation":"01a3","#
                + #""id":"01a5","sender":{"type":"system"},"type":{"value":"text"}}"#
        ),
        (
            "message.routed",
            #"{"configurationGeneration":8,"conversation":"01a3","deliveries":[],"message":"01a4","#
                + #""seq":12,"state":"ended"}"#
        ),
        (
            "routing.configured",
            #"{"account":"ac43","configuration":{"account":{"id":"ac43","position":8},"channel":{"id":"70ac","#
                + #""position":6},"clientApplications":[]},"generation":8}"#
        ),
        (
            // Since December 2026 with the recipients that deliveries written by reference name.
            "routing.configured",
            #"{"account":"ac43","configuration":{"account":{"id":"ac43","position":8},"channel":{"id":"70ac","#
                + #""position":6},"clientApplications":[{"id":"3d37","position":7}]},"generation":8,"#
                + #""recipients":[{"application":"3d37","participant":{"id":"5508","name":"bot"},"type":"custom_bot"},"#
                + #"{"application":"3d38","type":"customer"}]}"#
        ),
        (
            // A delivery written by reference: its type only (and its id when it is not the message's).
            "message.received",
            #"{"content":"$sealed:v2:3:AAAA","id":"01af","messageId":"m-4","#
                + #""routing":{"configurationGeneration":8,"deliveries":[{"type":"custom_bot"},"#
                + #"{"id":"01b0","type":"customer"}],"seq":15,"state":"active"},"#
                + #""sender":{"type":"customer"},"type":{"value":"text"}}"#
        ),
        ("message.erased", #"{"by":"01a6","conversation":"01a3","message":"01a4"}"#),
        (
            "erasure.performed",
            #"{"assets":[],"conversations":["01a3"],"customers":["01a2"],"id":"01a9","positions":[3,4,9],"#
                + #""shredded":["customer/01a2","message/01a4"]}"#
        ),
        (
            "delivery.failed",
            #"{"application":"3d37","attempt":8,"deliveries":[{"conversation":"01a3","#
                + #""delivery":"01a7","message":"01a4"},{"conversation":"01a3","delivery":"01a8","message":"01a5"}],"#
                + #""error":"HTTP 500","latencyMs":12,"request":"01a7","role":"custom_bot","status":500}"#
        ),
        (
            // Since December 2026 an item names its delivery and message only (the message says its
            // conversation).
            "delivery.succeeded",
            #"{"application":"3d37","attempt":1,"deliveries":[{"delivery":"01a7","message":"01a4"},"#
                + #"{"delivery":"01ab","message":"01ac"}],"latencyMs":4,"request":"01a7","role":"custom_bot","#
                + #""status":200}"#
        ),
        (
            // And an item of that delivery names it only.
            "delivery.succeeded",
            #"{"application":"3d37","attempt":1,"deliveries":[{"delivery":"01ad"},"#
                + #"{"delivery":"01ae","message":"01ad"}],"latencyMs":4,"request":"01ad","role":"custom_bot","#
                + #""status":200}"#
        ),
        (
            "delivery.failed",
            #"{"application":"3d37","attempt":1,"deliveries":[],"error":"timed out","#
                + #""latencyMs":30000,"request":"01a9","role":"customer"}"#
        ),
        (
            "delivery.attempted",
            #"{"application":"3d37","attempt":1,"deliveries":[],"latencyMs":3,"#
                + #""nextAttemptAt":"2026-12-01T16:08:00.182Z","request":"01aa","role":"customer","status":503}"#
        ),
        ("asset.deleted", #"{"id":"01a2325c-c395-707a-ab11-d413db946e07","reason":"expired"}"#),
    ]

    @Test func everyProducerShapeDecodesToItsTypedPayloadAndBackToTheSameBytes() throws {
        for (index, shape) in Self.producerShapes.enumerated() {
            let version = EventCatalogue.currentSchemaVersion(of: shape.type) ?? 1
            let stored = StoredEvent(line: index + 1, type: shape.type, schemaVersion: version, data: shape.data)
            try checkRoundTrip(
                try EventCatalogue.decode(type: shape.type, schemaVersion: version, data: shape.data),
                of: stored
            )
        }
    }

    @Test(arguments: ResourceKind.allCases)
    func configurationEventsOfEveryKind(_ kind: ResourceKind) throws {
        let state =
            #"{"active":true,"created":"2026-12-01T16:07:27.761Z","id":"70ac","modified":"2026-12-01T16:07:49.583Z","name":"n/a"}"#
        for change in ["created", "updated"] {
            let stored = StoredEvent(line: 0, type: "\(kind.itemName).\(change)", schemaVersion: 1, data: state)
            let event = try EventCatalogue.decode(type: stored.type, schemaVersion: 1, data: state)
            let changed = try #require(event as? ConfigurationChanged)
            #expect(changed.kind == kind && changed.change.rawValue == change && changed.id == "70ac")
            try checkRoundTrip(event, of: stored)
        }
        let deleted = StoredEvent(line: 0, type: "\(kind.itemName).deleted", schemaVersion: 1, data: #"{"id":"70ac"}"#)
        let event = try EventCatalogue.decode(type: deleted.type, schemaVersion: 1, data: deleted.data)
        #expect(event as? ConfigurationDeleted == ConfigurationDeleted(kind: kind, id: "70ac"))
        try checkRoundTrip(event, of: deleted)
        #expect(EventCatalogue.currentSchemaVersion(of: "\(kind.itemName).deleted") == 1)
        // The payload is Codable on its own too, given its type name.
        let decoder = JSONDecoder()
        decoder.userInfo[.eventType] = "\(kind.itemName).updated"
        let decoded = try decoder.decode(ConfigurationChanged.self, from: Data(state.utf8))
        #expect(decoded == ConfigurationChanged(kind: kind, change: .updated, state: try JSONValue.parse(state)))
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(ConfigurationChanged.self, from: Data(state.utf8))
        }
    }

    /// The type decodes to its own payload (never ``UnknownEvent``), encodes back to the stored bytes,
    /// and the encoded text decodes to an equal value.
    private func checkRoundTrip(_ event: any DomainEvent, of stored: StoredEvent) throws {
        #expect(!(event is UnknownEvent), "\(stored.testDescription) decoded as unknown")
        #expect(event.eventType == stored.type)
        if event.eventSchemaVersion != stored.schemaVersion {
            // An older version, upcast on read: the current version's encoding decodes to the same value.
            #expect(
                (stored.type == "message.originated" || stored.type == "message.routed")
                    && event.eventSchemaVersion == 2
            )
            let again = try EventCatalogue.decode(
                type: event.eventType,
                schemaVersion: event.eventSchemaVersion,
                data: try EventCatalogue.encode(event)
            )
            #expect(Self.equal(event, again), "\(stored.testDescription)")
            if let originated = event as? MessageOriginated { #expect(originated.attributesUnrecorded == true) }
            if let routed = event as? MessageRouted {
                // Version 1 carried the configuration whole, and still reads and writes so.
                #expect(routed.configuration != nil && routed.configurationGeneration == nil)
                #expect(try EventCatalogue.encode(event) == stored.data)
            }
            return
        }
        let encoded = try EventCatalogue.encode(event)
        // A payload written directly writes what its Codable encoding writes.
        #expect(try EventCatalogue.encodeWithCodable(event) == encoded, "\(stored.testDescription)")
        // Semantically the same (no key lost or added) …
        #expect(try JSONValue.parse(encoded) == JSONValue.parse(stored.data), "\(stored.testDescription)")
        // … and byte for byte what the producers write today (JSONValue.text and JSONEncoder.sorted agree).
        #expect(encoded == stored.data, "\(stored.testDescription)")
        let again = try EventCatalogue.decode(
            type: event.eventType,
            schemaVersion: event.eventSchemaVersion,
            data: encoded
        )
        #expect(Self.equal(event, again), "\(stored.testDescription)")
        #expect(
            try EventCatalogue.encoded(event)
                == .init(type: stored.type, schemaVersion: stored.schemaVersion, data: stored.data)
        )
    }

    @Test func aRoutedMessageReceivedImpliesItsMessageRouted() throws {
        let shape = try #require(Self.producerShapes.first { $0.data.contains(#""routing":"#) })
        let received = try EventCatalogue.decode(MessageReceived.self, from: shape.data)
        let implied = try #require(received.impliedEvents.first as? MessageRouted)
        #expect(received.impliedEvents.count == 1)
        #expect(implied.message == "01a6" && implied.conversation == "01a3" && implied.seq == 13)
        #expect(implied.state == "active" && implied.configurationGeneration == 8 && implied.configuration == nil)
        #expect(implied.deliveries.map(\.id) == ["01a7", "01a8"])
        #expect(implied.deliveries.first?.participant == .init(id: "5508", name: "bot"))
        // Without a routing (a control, or a message written before), nothing is implied.
        let alone = try #require(Self.producerShapes.first { $0.type == "message.received" && $0.data != shape.data })
        #expect(try EventCatalogue.decode(MessageReceived.self, from: alone.data).impliedEvents.isEmpty)
    }

    @Test func aMessagesFirstDeliveryHasTheMessagesIdWhichItsEventsLeaveOutAsTheyDoTheStreamsConversation() throws {
        let shape = try #require(Self.producerShapes.first { $0.data.contains(#""messageId":"m-3""#) })
        var received = try EventCatalogue.decode(MessageReceived.self, from: shape.data)
        #expect(received.routing?.deliveries.map(\.id) == ["01ad", "01ae"])
        // The conversation is its stream's.
        #expect(received.conversation == "" && !received.conversationWritten)
        received.scope(to: "conversation/01a3")
        #expect(received.conversation == "01a3")
        #expect(try EventCatalogue.encode(received) == shape.data)
        let implied = try #require(received.impliedEvents.first as? MessageRouted)
        #expect(implied.deliveries.map(\.id) == ["01ad", "01ae"])
        // The implied `message.routed` leaves the id out too, and reads back with it.
        let routedData = implied.encodedData()
        #expect(!routedData.contains(#""id":"01ad""#) && routedData.contains(#""id":"01ae""#))
        #expect(
            try EventCatalogue.decode(MessageRouted.self, from: routedData).deliveries.map(\.id) == ["01ad", "01ae"]
        )
        let outcome = try #require(Self.producerShapes.first { $0.data.contains(#""request":"01ad""#) })
        let succeeded = try EventCatalogue.decode(DeliverySucceeded.self, from: outcome.data)
        #expect(
            succeeded.deliveries == [
                .init(delivery: "01ad", message: "01ad"), .init(delivery: "01ae", message: "01ad"),
            ]
        )
        // Two deliveries without an id cannot both have the message's.
        let twice = shape.data.replacingOccurrences(of: #""id":"01ae","#, with: "")
        #expect(throws: (any Error).self) { try EventCatalogue.decode(MessageReceived.self, from: twice) }
    }

    @Test func aDeliveryWrittenByReferenceIsResolvedFromItsGenerationsRecipients() throws {
        let configured = try #require(Self.producerShapes.first { $0.data.contains(#""recipients":"#) })
        let recipients = try #require(
            try EventCatalogue.decode(RoutingConfigured.self, from: configured.data).recipients
        )
        let shape = try #require(Self.producerShapes.first { $0.data.contains(#""messageId":"m-4""#) })
        let received = try EventCatalogue.decode(MessageReceived.self, from: shape.data)
        let deliveries = try #require(received.routing?.deliveries)
        #expect(deliveries.map(\.id) == ["01af", "01b0"] && deliveries.allSatisfy(\.isUnresolved))
        let resolved = try deliveries.map { try $0.resolved(by: recipients) }
        #expect(resolved.map(\.application) == ["3d37", "3d38"])
        #expect(resolved.map(\.participant) == [.init(id: "5508", name: "bot"), nil])
        // Resolved, it is the writer's own payload, which still writes the reference only.
        var written = received
        written.routing?.deliveries = resolved
        written.scope(to: "conversation/01a3")
        #expect(try EventCatalogue.encode(written) == shape.data)
        #expect(try EventCatalogue.encodeWithCodable(written) == shape.data)

        // The writer names a recipient by reference only when it is its generation's one of that type,
        // and the same one.
        let bot = MessageRouted.Delivery(
            id: "d",
            application: "3d37",
            type: "custom_bot",
            participant: .init(id: "5508", name: "bot")
        )
        #expect(bot.referencing(recipients).byReference)
        var otherBot = bot
        otherBot.participant = .init(id: "5509", name: "another")
        #expect(!otherBot.referencing(recipients).byReference)
        let twoBots = recipients + [MessageRouted.Delivery(id: "", application: "3d39", type: "custom_bot")]
        #expect(!bot.referencing(twoBots).byReference)
        // A reference its generation does not resolve to exactly one recipient is an error, never a guess.
        #expect(throws: RecipientReferenceError.self) { try deliveries[0].resolved(by: twoBots) }
        #expect(throws: RecipientReferenceError.self) { try deliveries[0].resolved(by: []) }
    }

    @Test func messageOriginatedVersion2RecordsItsAttributes() throws {
        let data =
            #"{"attributes":[{"name":"transcript","value":"true"}],"causedBy":"a","content":{},"conversation":"c","id":"i","sender":{"type":"system"},"type":{"value":"text"}}"#
        let event = try EventCatalogue.decode(MessageOriginated.self, schemaVersion: 2, from: data)
        #expect(event.attributes == .array([.object(["name": "transcript", "value": "true"])]))
        #expect(event.attributesUnrecorded == nil)
        #expect(try EventCatalogue.encode(event) == data)
    }

    static func equal(_ left: any DomainEvent, _ right: any DomainEvent) -> Bool {
        func compare<E: DomainEvent>(_ left: E) -> Bool { (right as? E) == left }
        return compare(left)
    }

    @Test func theFixtureAndTheShapesCoverEveryNamedType() throws {
        let seen = Set(try Self.storeV1().map(\.type) + Self.producerShapes.map(\.type))
        for type in EventCatalogue.namedTypes.map({ $0.type }) {
            #expect(seen.contains(type), "no example of \(type)")
        }
        #expect(EventCatalogue.knownTypes.count == EventCatalogue.namedTypes.count + 18)
        #expect(EventCatalogue.namedTypes.count == 29)
    }

    @Test func typedPayloadsAreTheProducersFields() throws {
        let escalated = try EventCatalogue.decode(
            ConversationEscalated.self,
            from: #"{"bypassedBot":true,"previousConversation":"c1"}"#
        )
        #expect(escalated.cause == .bypassedBot(previousConversation: "c1"))
        #expect(try EventCatalogue.decode(ConversationEscalated.self, from: #"{"by":"m1"}"#).cause == .message("m1"))
        let requested = AssetRequested(
            id: "a1",
            name: "receipt.png",
            size: 8,
            contentType: "image/png",
            sender: TypeReference(type: "customer"),
            channel: TypeReference(type: "web_chat")
        )
        // Keys sorted, compact, slashes as they are.
        #expect(
            try EventCatalogue.encode(requested)
                == #"{"channel":{"type":"web_chat"},"contentType":"image/png","id":"a1","name":"receipt.png","#
                + #""sender":{"type":"customer"},"size":8}"#
        )
        #expect(try EventCatalogue.encode(AssetDeleted(id: "a1")) == #"{"id":"a1"}"#)
        #expect(try EventCatalogue.encode(ConfigurationDeleted(kind: .clientApplication, id: "x")) == #"{"id":"x"}"#)
        #expect(ConfigurationDeleted(kind: .clientApplication, id: "x").eventType == "clientApplication.deleted")
        #expect(ClientCreated.type == "client.created" && MessageReceived.schemaVersion == 1)
    }

    @Test func dataThatDoesNotFitItsTypeIsATypedError() throws {
        let missing = #expect(throws: EventCatalogueError.self) {
            try EventCatalogue.decode(type: "message.softDeleted", schemaVersion: 1, data: #"{"by":"m","message":"m"}"#)
        }
        #expect(missing == .invalidData(type: "message.softDeleted", schemaVersion: 1, reason: "no `conversation`"))
        let nested = #expect(throws: EventCatalogueError.self) {
            try EventCatalogue.decode(type: "message.received", schemaVersion: 1, data: #"{"id":1}"#)
        }
        #expect(nested.map { "\($0)" }?.contains("message.received") == true)
        for (type, data) in [
            ("asset.deleted", "not json"), ("conversation.escalated", "{}"), ("channel.created", "[]"),
            ("channel.deleted", #"{"id":7}"#), ("delivery.attempted", #"{"attempt":"1"}"#),
        ] {
            #expect(throws: EventCatalogueError.self, "\(type) \(data)") {
                try EventCatalogue.decode(type: type, schemaVersion: 1, data: data)
            }
        }
        #expect(throws: EventCatalogueError.unexpectedType(expected: "AssetDeleted", found: "asset.attached")) {
            try EventCatalogue.standard.decode(
                AssetDeleted.self,
                type: "asset.attached",
                schemaVersion: 1,
                data: #"{"conversation":"c","id":"a","message":"m"}"#.utf8
            )
        }
    }

    @Test func unknownTypesAreKeptAsTheyAre() throws {
        for data in [#"{"n":1, "z":[true]}"#, "not json at all", ""] {
            let event = try EventCatalogue.decode(type: "bench.appended", schemaVersion: 3, data: data)
            let unknown = try #require(event as? UnknownEvent)
            #expect(unknown == UnknownEvent(type: "bench.appended", schemaVersion: 3, rawData: data))
            #expect(try EventCatalogue.encode(unknown) == data)
            #expect(try EventCatalogue.encoded(unknown) == .init(type: "bench.appended", schemaVersion: 3, data: data))
        }
        // A configuration-like name with another change is unknown too, not an error.
        #expect(try EventCatalogue.decode(type: "channel.archived", schemaVersion: 1, data: "{}") is UnknownEvent)
        #expect(
            try EventCatalogue.decode(type: "conversation.fieldUpdated", schemaVersion: 1, data: "{}") is UnknownEvent
        )
        #expect(EventCatalogue.currentSchemaVersion(of: "bench.appended") == nil)
    }

    @Test func aVersionNewerThanTheHubsIsRefused() {
        #expect(throws: EventCatalogueError.newerSchemaVersion(type: "asset.deleted", schemaVersion: 2, current: 1)) {
            try EventCatalogue.decode(type: "asset.deleted", schemaVersion: 2, data: #"{"id":"a"}"#)
        }
        #expect(throws: EventCatalogueError.newerSchemaVersion(type: "account.updated", schemaVersion: 5, current: 1)) {
            try EventCatalogue.decode(type: "account.updated", schemaVersion: 5, data: #"{"id":"a"}"#)
        }
    }

    /// A made-up version 0 of `asset.deleted`: `{"asset", "expired": Bool}`.
    static let deletedV0: Upcast = { data in
        guard case .object(let fields) = data, let id = fields["asset"] else { throw TestFailure.notV0 }
        var upcast: [String: JSONValue] = ["id": id]
        if fields["expired"] == .bool(true) { upcast["reason"] = "expired" }
        return .object(upcast)
    }

    enum TestFailure: Error { case notV0 }

    @Test func olderVersionsAreUpcastOnRead() throws {
        let catalogue = EventCatalogue(
            upcasters: Upcasters.standard.registering("asset.deleted", from: 0, Self.deletedV0)
        )
        let old = #"{"asset":"a1","expired":true}"#
        #expect(
            try catalogue.decode(AssetDeleted.self, schemaVersion: 0, from: old)
                == AssetDeleted(id: "a1", reason: "expired")
        )
        let event = try catalogue.decode(type: "asset.deleted", schemaVersion: 0, data: #"{"asset":"a2"}"#)
        #expect(event as? AssetDeleted == AssetDeleted(id: "a2"))
        // Upcast events are written at the current version.
        #expect(event.eventSchemaVersion == 1)
        // The current version does not go through the upcaster.
        #expect(try catalogue.decode(AssetDeleted.self, from: #"{"id":"a3"}"#) == AssetDeleted(id: "a3"))
        // An upcaster's own failure is the event's.
        #expect(throws: EventCatalogueError.self) {
            try catalogue.decode(type: "asset.deleted", schemaVersion: 0, data: #"{"id":"a4"}"#)
        }
        // Without the step, version 0 cannot be read: no guessing.
        #expect(throws: EventCatalogueError.missingUpcaster(type: "asset.deleted", fromVersion: 0)) {
            try EventCatalogue.decode(type: "asset.deleted", schemaVersion: 0, data: old)
        }
        #expect(!Upcasters.standard.contains("asset.deleted", from: 0))
    }

    @Test func upcastersChainStepByStep() throws {
        var upcasters = Upcasters()
        upcasters.register("note.added", from: 1) { data in .object(["text": data["body"] ?? .null]) }
        upcasters.register("note.added", from: 2) { data in .object(["text": data["text"] ?? .null, "pinned": false]) }
        let v1: JSONValue = .object(["body": "hello"])
        #expect(
            try upcasters.upcast(v1, type: "note.added", from: 1, to: 3) == .object(["text": "hello", "pinned": false])
        )
        #expect(try upcasters.upcast(v1, type: "note.added", from: 3, to: 3) == v1)
        #expect(throws: EventCatalogueError.missingUpcaster(type: "note.added", fromVersion: 3)) {
            try upcasters.upcast(v1, type: "note.added", from: 1, to: 4)
        }
        #expect(throws: EventCatalogueError.missingUpcaster(type: "other.type", fromVersion: 1)) {
            try upcasters.upcast(v1, type: "other.type", from: 1, to: 2)
        }
    }
}

extension EventCatalogueTests {
    /// The hot types read without Codable read exactly what Codable reads.
    @Test func directlyReadEventsEqualTheirCodableDecoding() throws {
        var checked = 0
        let shapes = Self.producerShapes.map {
            StoredEvent(
                line: 0,
                type: $0.type,
                schemaVersion: EventCatalogue.currentSchemaVersion(of: $0.type) ?? 1,
                data: $0.data
            )
        }
        for stored in try Self.storeV1() + shapes {
            guard
                let named = EventCatalogue.namedTypes.first(where: { $0.type == stored.type }),
                let direct = named as? any DirectlyReadEvent.Type
            else { continue }
            func codable<E: NamedDomainEvent>(_ type: E.Type) throws -> any DomainEvent {
                try JSONDecoder().decode(E.self, from: Data(stored.data.utf8))
            }
            var data = stored.data
            let fast = try data.withUTF8 { try direct.read($0) }
            let slow = try codable(named)
            #expect(Self.equal(fast, slow), "\(stored.testDescription)")
            checked += 1
        }
        #expect(checked >= 30)
        var partial = #"{"message":"m"}"#
        #expect(throws: (any Error).self) { try partial.withUTF8 { try MessageRouted.read($0) } }
    }

    /// Spellings the fast reader does not take (escaped keys, whitespace, other number forms) still
    /// decode, through Codable, to the same payload.
    @Test func unusualSpellingsOfHotEventsDecodeLikeCodable() throws {
        var checked = 0
        for stored in try Self.storeV1() {
            guard
                let named = EventCatalogue.namedTypes.first(where: { $0.type == stored.type }),
                named is any DirectlyReadEvent.Type
            else { continue }
            func codable<E: NamedDomainEvent>(_ type: E.Type) throws -> any DomainEvent {
                try JSONDecoder().decode(E.self, from: Data(stored.data.utf8))
            }
            let pretty = String(
                decoding: try JSONSerialization.data(
                    withJSONObject: try JSONSerialization.jsonObject(with: Data(stored.data.utf8)),
                    options: [.prettyPrinted]
                ),
                as: UTF8.self
            )
            let escapedKey = stored.data.replacingOccurrences(of: #""conversation":"#, with: #""conv\u0065rsation":"#)
            for variant in [pretty, escapedKey, " " + stored.data + "\n"] {
                let decoded = try EventCatalogue.decode(type: stored.type, schemaVersion: 1, data: variant)
                #expect(Self.equal(decoded, try codable(named)), "\(stored.testDescription)")
                checked += 1
            }
        }
        #expect(checked >= 30)
    }
}
