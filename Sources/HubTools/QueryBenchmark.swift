import AsyncHTTPClient
import Foundation
import HubDomain
import HubSQLite
import NIOCore
import NIOHTTP1
import Synchronization

/// `hubstore bench query`: the query API on a store of realistic traffic (the ingest benchmark's mix),
/// in one hub in this process (DESIGN.md §10; issue targets):
/// - the transcript of a 200-message conversation, search, and 30 days of analytics, each as the
///   latencies of sequential requests over one keep-alive client, beside the same client's
///   `GET /healthz` (the reference: what a request costs here without any query);
/// - the live tail: subscribers of `GET /v1/events/live` reading the whole log from position 1 while
///   ingest runs (events/s each), with every position checked to arrive once and in order;
/// - ingest with subscribers following live vs without, each as its ratio to the ingest reference.
public struct QueryBenchmark: Sendable {
    public struct Options: Sendable {
        /// Messages ingested to make the store (about three events each).
        public var messages: Int
        /// Messages of each ingest phase (without and with subscribers).
        public var tailMessages: Int
        public var subscribers: Int
        public var senders: Int
        public var requests: Int
        /// Where the store is made and kept; a store an earlier run kept there is measured again as it
        /// is (its ingest phases add to it). `nil`: a temporary directory.
        public var dataDirectory: String?

        public init(
            messages: Int,
            tailMessages: Int,
            subscribers: Int,
            senders: Int = 64,
            requests: Int = 1000,
            dataDirectory: String? = nil
        ) {
            self.messages = messages
            self.tailMessages = tailMessages
            self.subscribers = subscribers
            self.senders = senders
            self.requests = requests
            self.dataDirectory = dataDirectory
        }
    }

    /// Latencies of sequential requests, in milliseconds.
    public struct Latency: Sendable {
        public var count: Int
        public var p50: Double
        public var p99: Double
        public var max: Double

        init(_ samples: [Double]) {
            let sorted = samples.sorted()
            count = sorted.count
            func at(_ p: Double) -> Double {
                sorted.isEmpty ? 0 : sorted[Swift.min(sorted.count - 1, Int(Double(sorted.count) * p))]
            }
            p50 = at(0.5)
            p99 = at(0.99)
            max = sorted.last ?? 0
        }
    }

    public struct Result: Sendable {
        public var events: Int64
        public var conversations: Int
        public var reference: Latency
        public var transcript: Latency
        public var search: Latency
        public var analytics: Latency
        public var agents: Latency
        /// Each subscriber's events/s reading the log from position 1 while ingest ran.
        public var catchUpEventsPerSecond: [Double]
        /// Each live subscriber's events/s during the ingest it followed.
        public var liveEventsPerSecond: [Double]
        /// Positions a subscriber missed or got twice or out of order (must be 0).
        public var gaps: Int
        public var ingestReferenceRequestsPerSecond: Double
        public var ingestAlone: Double
        public var ingestWithSubscribers: Double
    }

    public let options: Options

    public init(options: Options) { self.options = options }

    public func run(log: @escaping @Sendable (String) -> Void) async throws -> Result {
        let (directory, temporary) = IngestBenchmark.workDirectory(options.dataDirectory, name: "query")
        defer { if temporary { try? FileManager.default.removeItem(atPath: directory) } }
        let kept = try? JSONValue.parse(String(contentsOfFile: directory + "/" + Self.keptFile, encoding: .utf8))
        let options = self.options
        return try await IngestBenchmark.withHub(directory: directory, synchronous: .full) { hub, receiver, delivered in
            let setup: IngestBenchmark.Setup
            if let account = kept?["account"]?.stringValue, let participant = kept?["participant"]?.stringValue {
                setup = IngestBenchmark.Setup(
                    account: account,
                    participant: participant,
                    // A store kept before runs were tagged used the plain names.
                    address: kept?["address"]?.stringValue ?? "bench",
                    channelType: kept?["channelType"]?.stringValue ?? "bench_channel"
                )
                // The callbacks of the kept account point at the earlier run's receiver.
                try await Self.pointCallbacks(hub, at: receiver.baseURL)
            } else {
                setup = try await IngestBenchmark.configure(hub, callbacks: receiver.baseURL)
            }
            func ingest(_ messages: Int) async throws -> IngestBenchmark.Result {
                try await IngestBenchmark.drive(
                    hub,
                    receiver: receiver,
                    delivered: delivered,
                    setup: setup,
                    options: .init(
                        messages: messages,
                        senders: options.senders,
                        synchronous: .full,
                        dataDirectory: directory
                    ),
                    log: log
                )
            }
            let conversation: String
            if let long = kept?["conversation"]?.stringValue {
                conversation = long
                log("measuring the store kept in \(directory)")
            } else {
                log("making the store: \(options.messages) messages of the ingest benchmark's mix")
                _ = try await ingest(options.messages)
                conversation = try await Self.longConversation(hub, setup: setup, messages: 200)
                if !temporary {
                    let record: JSONValue = .object([
                        "account": .string(setup.account), "participant": .string(setup.participant),
                        "address": .string(setup.address), "channelType": .string(setup.channelType),
                        "conversation": .string(conversation),
                    ])
                    try record.text.write(
                        toFile: directory + "/" + Self.keptFile,
                        atomically: true,
                        encoding: .utf8
                    )
                }
            }
            let events = try await Self.head(hub)
            let (_, list) = try await hub.call(.GET, "/v1/analytics/conversations?interval=week")
            let conversations =
                (try? JSONValue.parse(list).value(at: "total.conversations.started")).flatMap {
                    if case .integer(let count) = $0 { Int(count) } else { nil }
                } ?? 0
            log("store: \(events) events, \(conversations) conversations")
            return try await Self.measure(
                hub,
                options: options,
                conversation: conversation,
                events: events,
                conversations: conversations,
                ingest: ingest,
                log: log
            )
        }
    }

    private static func measure(
        _ hub: InProcessHub,
        options: Options,
        conversation: String,
        events: Int64,
        conversations: Int,
        ingest: (Int) async throws -> IngestBenchmark.Result,
        log: @escaping @Sendable (String) -> Void
    ) async throws -> Result {
        let requests = options.requests
        let reference = try await latencies(hub, requests) { _ in "/healthz" }
        log(String(format: "reference: GET /healthz p50 %.2f ms, p99 %.2f ms", reference.p50, reference.p99))
        let transcript = try await latencies(hub, requests) { _ in "/v1/conversations/\(conversation)/transcript" }
        log(String(format: "transcript (200 messages): p50 %.2f ms, p99 %.2f ms", transcript.p50, transcript.p99))
        let queries = [
            "order", "number AND where", "\"my order number\"", "look*", "moment NOT please", "reply",
            "customer OR bot", "order number", "\"one moment\"", "lookup OR look",
        ]
        let search = try await latencies(hub, requests) { index in
            let query = queries[index % queries.count]
            return "/v1/search?q=" + (query.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? query)
        }
        log(String(format: "search: p50 %.2f ms, p99 %.2f ms", search.p50, search.p99))
        let analytics = try await latencies(hub, 50) { _ in "/v1/analytics/conversations?interval=day" }
        log(
            String(
                format: "analytics (30 days, all accounts, per day): p50 %.2f ms, max %.2f ms",
                analytics.p50,
                analytics.max
            )
        )
        let agents = try await latencies(hub, 50) { _ in "/v1/analytics/agents" }

        let ingestReference = try await IngestBenchmark.reference(
            hub,
            options: .init(messages: 20_000, senders: options.senders, synchronous: .full, dataDirectory: nil)
        )
        log(String(format: "ingest reference: GET /healthz %.0f requests/s", ingestReference.requestsPerSecond))
        let alone = try await ingest(options.tailMessages)
        log(String(format: "ingest alone: %.0f messages/s", alone.messagesPerSecond))

        // Subscribers following from the head while ingest runs: what they cost the ingest.
        let (followed, live) = try await withSubscribers(hub, options.subscribers, fromStart: false) {
            try await ingest(options.tailMessages)
        }
        log(
            String(
                format: "ingest with %d live subscribers: %.0f messages/s",
                options.subscribers,
                followed.messagesPerSecond
            )
        )
        // Subscribers reading the whole log from position 1 while ingest runs: what the feed can deliver.
        let (_, catchUp) = try await withSubscribers(hub, options.subscribers, fromStart: true) {
            try await ingest(options.tailMessages)
        }
        log(
            "catching up from position 1: "
                + catchUp.map { String(format: "%.0f", $0.catchUpEventsPerSecond) }.joined(separator: ", ")
                + " events/s"
        )
        return Result(
            events: events,
            conversations: conversations,
            reference: reference,
            transcript: transcript,
            search: search,
            analytics: analytics,
            agents: agents,
            catchUpEventsPerSecond: catchUp.map(\.catchUpEventsPerSecond),
            liveEventsPerSecond: live.map { Double($0.count) / max(followed.seconds, 1e-9) },
            gaps: (live + catchUp).reduce(0) { $0 + $1.gaps },
            ingestReferenceRequestsPerSecond: ingestReference.requestsPerSecond,
            ingestAlone: alone.messagesPerSecond,
            ingestWithSubscribers: followed.messagesPerSecond
        )
    }

    /// What a kept store's directory records of it: the account, the bot participant, the long conversation.
    static let keptFile = "bench-query.json"

    /// Points the bench account's client applications at this run's receiver.
    static func pointCallbacks(_ hub: InProcessHub, at receiver: String) async throws {
        let (_, text) = try await hub.call(.GET, "/conversation/conversationmgr/v3/clientapplications?$pagesize=75")
        let listed = (try JSONValue.parse(text)).objectValue?.values.compactMap(\.arrayValue).first ?? []
        for application in listed {
            guard let id = application["id"]?.stringValue, case .object(var fields) = application,
                let roles = application["roles"]?.arrayValue
            else { continue }
            fields["roles"] = .array(
                roles.map { role in
                    guard case .object(var role) = role, let name = role["name"]?.stringValue else { return role }
                    role["callback"] = .string(receiver + "/" + name)
                    return .object(role)
                }
            )
            let (status, answer) = try await hub.call(
                .PUT,
                "/conversation/conversationmgr/v3/clientapplications/\(id)",
                body: JSONValue.object(fields).text
            )
            guard status == 204 || status == 200 else {
                throw InProcessHubError("pointing \(id) at the receiver: \(status) \(answer.prefix(200))")
            }
        }
    }

    /// `requests` sequential GETs of `path(i)`, each expected to answer 200.
    static func latencies(
        _ hub: InProcessHub,
        _ requests: Int,
        _ path: (Int) -> String
    ) async throws -> Latency {
        var samples: [Double] = []
        samples.reserveCapacity(requests)
        for index in 0..<requests {
            let started = ContinuousClock.now
            let (status, body) = try await hub.call(.GET, path(index))
            samples.append(AppendBenchmark.seconds(started.duration(to: .now)) * 1000)
            guard status == 200 else { throw InProcessHubError("GET \(path(index)): \(status) \(body.prefix(200))") }
        }
        return Latency(samples)
    }

    static func head(_ hub: InProcessHub) async throws -> Int64 {
        let (_, text) = try await hub.call(.GET, "/v1/events?limit=1")
        guard case .integer(let head)? = (try JSONValue.parse(text))["head"] else {
            throw InProcessHubError("no head in \(text.prefix(200))")
        }
        return head
    }

    /// A conversation of `messages` messages, customer and bot taking turns.
    static func longConversation(
        _ hub: InProcessHub,
        setup: IngestBenchmark.Setup,
        messages: Int
    ) async throws
        -> String
    {
        var conversation: String?
        for turn in 0..<messages {
            let body = IngestBenchmark.message(
                turn: turn,
                sender: 9999,
                conversationNumber: 1,
                conversation: conversation,
                setup: setup
            )
            let (status, text) = try await hub.call(
                .POST,
                "/conversation/conversationmgr/v3/conversations/messages",
                body: body
            )
            guard status == 202,
                let id = (try JSONValue.parse(text)).value(at: "messages")?["message"]?.arrayValue?.first?
                    .value(at: "conversation.id")?.stringValue
            else { throw InProcessHubError("the long conversation's message \(turn): \(status) \(text.prefix(200))") }
            conversation = id
        }
        return conversation ?? ""
    }

}
