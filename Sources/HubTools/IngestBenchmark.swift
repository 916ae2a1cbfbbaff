import AsyncHTTPClient
import Foundation
import HubCommands
import HubDelivery
import HubDomain
@_spi(Storage) import HubEventLog
import HubHTTP
import HubReadModels
public import HubSQLite
import HubVault
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// `hubstore bench ingest`: durable ingest over HTTP (DESIGN.md §10). Starts a hub in this process,
/// configures an account whose bot and customer callbacks are a local receiver, drives
/// `POST /conversations/messages` over keep-alive HTTP from concurrent senders holding realistic
/// conversations (customer and bot taking turns, 10–30 messages each), waits for the deliveries,
/// then checks every acknowledged message is in its transcript.
public struct IngestBenchmark: Sendable {
    public struct Options: Sendable {
        public var messages: Int
        public var senders: Int
        public var synchronous: ConnectionConfiguration.Synchronous
        public var dataDirectory: String?
        /// Also measure the HTTP reference (`GET /healthz`) first.
        public var includeReference: Bool
        /// Drive the server at this URL (`http://host:port`) instead of a hub in this process; its
        /// data directory, when given as ``dataDirectory``, is measured read-only.
        public var url: String?
        /// The operator token for ``url`` (scopes to configure, send and read transcripts, and `/metrics`).
        public var token: String?
        /// The in-process hub's writer waits for each fsync itself (the way before syncs left its thread).
        public var syncsOnWriterThread = false
        /// Count the in-process writer's SQL statements during the run (``Result/writerStatements``).
        public var profilesSQL = false

        public init(
            messages: Int,
            senders: Int,
            synchronous: ConnectionConfiguration.Synchronous,
            dataDirectory: String?,
            includeReference: Bool = true,
            url: String? = nil,
            token: String? = nil
        ) {
            self.messages = messages
            self.senders = senders
            self.synchronous = synchronous
            self.dataDirectory = dataDirectory
            self.includeReference = includeReference
            self.url = url
            self.token = token
        }
    }

    public struct Result: Sendable {
        public var acknowledged: Int
        public var seconds: Double
        public var p50Milliseconds: Double
        public var p99Milliseconds: Double
        public var maxMilliseconds: Double
        /// Messages the receiver got, and the callback POSTs that carried them.
        public var deliveries: Int
        public var deliveryCalls: Int
        public var deliverySeconds: Double
        public var conversations: Int
        public var missing: [String]
        public var refused: Int
        /// The reference measured in the same run: the same senders and client doing `GET /healthz`
        /// (no body, no token, no writer): what HTTP alone costs on this machine.
        public var reference: Reference?
        /// The writer's stages, from the hub's metrics.
        public var stages = Stages()
        /// This process's CPU time, user and system, from the first request to the last delivery: the
        /// load generator's and the callback receiver's when the hub runs elsewhere (`--url`).
        public var clientCPUSeconds: Double = 0
        /// Whether the hub ran in another process (`--url`).
        public var isRemote = false
        /// The store's size afterwards (`nil` for a server elsewhere whose data directory was not given).
        public var storeSize: StoreSize?
        /// The writer's statements during the run, longest total first (with ``Options/profilesSQL``).
        public var writerStatements: [StatementProfile.Entry]?

        /// The store's bytes (tables and indexes) per acknowledged message.
        public var bytesPerMessage: Double? {
            storeSize.map { Double($0.bytes) / Double(max(acknowledged, 1)) }
        }

        public var messagesPerSecond: Double { Double(acknowledged) / max(seconds, 1e-9) }
        /// The hub process's CPU (``Stages/cpuSeconds``) per acknowledged message, in microseconds.
        public var serverMicrosecondsPerMessage: Double { stages.cpuSeconds * 1e6 / Double(max(acknowledged, 1)) }
        /// ``clientCPUSeconds`` per acknowledged message, in microseconds.
        public var clientMicrosecondsPerMessage: Double { clientCPUSeconds * 1e6 / Double(max(acknowledged, 1)) }
        /// The CPU of the hub and the bench together, from the first request to the last delivery: with
        /// the hub in this process, this process's alone.
        public var totalCPUSeconds: Double { isRemote ? stages.cpuSeconds + clientCPUSeconds : clientCPUSeconds }
        /// The cores the hub and the bench kept busy together, on average from the first request to the
        /// last delivery.
        public var coresBusy: Double { totalCPUSeconds / max(deliverySeconds, 1e-9) }
        /// ``totalCPUSeconds`` per acknowledged message, in microseconds.
        public var totalMicrosecondsPerMessage: Double { totalCPUSeconds * 1e6 / Double(max(acknowledged, 1)) }
        /// The reference's CPU per request over ``totalMicrosecondsPerMessage``: what share of a message's CPU
        /// a `GET /healthz` costs. While the two workloads keep the same cores busy, the throughput
        /// ratio follows it, so it is the ceiling that CPU sets on that ratio.
        public var cpuRatio: Double? {
            reference.map { $0.totalMicrosecondsPerRequest / max(totalMicrosecondsPerMessage, 1e-9) }
        }
        public var deliveriesPerSecond: Double { Double(deliveries) / max(deliverySeconds, 1e-9) }
    }

    /// Requests/s and p99 of the reference workload, and what CPU it took.
    public struct Reference: Sendable {
        public var requestsPerSecond: Double
        public var p99Milliseconds: Double
        public var requests = 0
        public var seconds: Double = 0
        /// The hub's process's CPU during the reference, from its `/metrics`: zero when it is this
        /// process, whose CPU is ``clientCPUSeconds``.
        public var serverCPUSeconds: Double = 0
        /// This process's CPU during the reference, by `getrusage`.
        public var clientCPUSeconds: Double = 0

        /// ``serverCPUSeconds`` per request, in microseconds.
        public var serverMicrosecondsPerRequest: Double { serverCPUSeconds * 1e6 / Double(max(requests, 1)) }
        /// ``clientCPUSeconds`` per request, in microseconds.
        public var clientMicrosecondsPerRequest: Double { clientCPUSeconds * 1e6 / Double(max(requests, 1)) }
        /// Both processes' CPU per request, in microseconds.
        public var totalMicrosecondsPerRequest: Double { serverMicrosecondsPerRequest + clientMicrosecondsPerRequest }
        /// The cores both processes kept busy during the reference.
        public var coresBusy: Double { (serverCPUSeconds + clientCPUSeconds) / max(seconds, 1e-9) }
    }

    public let options: Options

    public init(options: Options) { self.options = options }

    public func run(log: @escaping @Sendable (String) -> Void) async throws -> Result {
        let options = self.options
        if let url = options.url {
            guard let token = options.token else { throw InProcessHubError("--url needs --token") }
            let delivered = Counter(0)
            var result = try await CallbackReceiver.run(Self.counting(into: delivered)) { receiver in
                try await RemoteHub.run(url: url, token: token) { hub in
                    try await Self.measure(hub, receiver: receiver, delivered: delivered, options: options, log: log)
                }
            }
            result.isRemote = true
            if let directory = options.dataDirectory {
                result.storeSize = try await StoreSize.measure(dataDirectory: directory)
            }
            return result
        }
        let (directory, temporary) = Self.workDirectory(options.dataDirectory, name: "ingest")
        defer { if temporary { try? FileManager.default.removeItem(atPath: directory) } }
        let profile = options.profilesSQL ? StatementProfile() : nil
        var result = try await Self.withHub(
            directory: directory,
            synchronous: options.synchronous,
            syncsOnWriterThread: options.syncsOnWriterThread,
            statementProfile: profile
        ) {
            hub,
            receiver,
            delivered in
            try await Self.measure(
                hub,
                receiver: receiver,
                delivered: delivered,
                options: options,
                statementProfile: profile,
                log: log
            )
        }
        // After the hub stopped: its WAL is checkpointed into the file.
        result.storeSize = try await StoreSize.measure(dataDirectory: directory)
        return result
    }

    /// The reference, the configuration and the run, against `hub`.
    static func measure(
        _ hub: some HubEndpoint,
        receiver: CallbackReceiver,
        delivered: Counter,
        options: Options,
        statementProfile: StatementProfile? = nil,
        log: @escaping @Sendable (String) -> Void
    ) async throws -> Result {
        let reference = options.includeReference ? try await Self.reference(hub, options: options) : nil
        if let reference {
            log(
                String(
                    format: "reference: GET /healthz %.0f requests/s, p99 %.2f ms",
                    reference.requestsPerSecond,
                    reference.p99Milliseconds
                )
            )
        }
        let setup = try await Self.configure(hub, callbacks: receiver.baseURL)
        log("configured account \(setup.account); \(options.senders) senders, \(options.messages) messages")
        // The run's statements only: not the store's opening, nor the configuration's.
        statementProfile?.reset()
        var result = try await Self.drive(
            hub,
            receiver: receiver,
            delivered: delivered,
            setup: setup,
            options: options,
            log: log
        )
        result.reference = reference
        result.writerStatements = statementProfile?.entries
        return result
    }

    /// The same senders and client doing `GET /healthz` for as many requests as messages (at most 20,000).
    static func reference(_ hub: some HubEndpoint, options: Options) async throws -> Reference {
        let requests = min(options.messages, 20_000)
        let remaining = Counter(requests)
        // With the hub in another process, its CPU comes from its /metrics (read outside the timing).
        let metricsBefore = options.url == nil ? nil : await MetricsSnapshot.read(hub)
        let cpuBefore = Self.processCPUSeconds()
        let started = ContinuousClock.now
        let scripts = try await LoadClient.run(
            (0..<options.senders).map { _ in HealthCheck(remaining: remaining) },
            host: hub.host,
            port: hub.port,
            token: hub.bearerToken
        )
        let elapsed = AppendBenchmark.seconds(started.duration(to: .now))
        let clientCPUSeconds = Self.processCPUSeconds() - cpuBefore
        var serverCPUSeconds = 0.0
        if let metricsBefore {
            serverCPUSeconds =
                await MetricsSnapshot.read(hub)["process_cpu_seconds_total"]
                - metricsBefore["process_cpu_seconds_total"]
        }
        let latencies = scripts.flatMap(\.latencies).sorted()
        return Reference(
            requestsPerSecond: Double(latencies.count) / max(elapsed, 1e-9),
            p99Milliseconds: latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, latencies.count * 99 / 100)],
            requests: latencies.count,
            seconds: elapsed,
            serverCPUSeconds: serverCPUSeconds,
            clientCPUSeconds: clientCPUSeconds
        )
    }

    struct Setup: Sendable {
        var account: String
        var participant: String
        /// The account's address and channel type, which a conversation's first message names.
        var address = "bench"
        var channelType = "bench_channel"
    }

    /// Configures the benchmark's applications, participant, channel, orchestration and account. Their
    /// names carry a tag of this run, so that runs against the same server (`--url`) do not collide.
    static func configure(_ hub: some HubEndpoint, callbacks: String) async throws -> Setup {
        let tag = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        func app(_ name: String, _ role: String) -> String {
            #"""
            {"name": "\#(name)_\#(tag)", "roles": [{"name": "\#(role)", "version": "v3", "callback": "\#(callbacks)/\#(role)",
              "notificationEmail": "ops@example.com", "headers": [{"name": "X-Bench", "value": "1"}]}]}
            """#
        }
        let customer = try await hub.create("clientapplications", app("bench_customer_app", "customer"))
        let bot = try await hub.create("clientapplications", app("bench_bot_app", "custom_bot"))
        let participant = try await hub.create(
            "participants",
            #"""
            {"name": "bench_bot_\#(tag)", "type": "custom_bot", "application": {"id": "\#(bot)"}, "options": [{"name": "k", "value": "v"}]}
            """#
        )
        let setup = Setup(account: "", participant: participant, address: "bench_\(tag)", channelType: "bench_\(tag)")
        let channel = try await hub.create(
            "channels",
            #"{"type": "\#(setup.channelType)", "displayName": "Bench", "icon": "iVBORw0KGgo="}"#
        )
        let orchestration = try await hub.create(
            "orchestrations",
            #"""
            {"name": "bench_orchestration_\#(tag)", "applications": {"botConfiguration": {"bots": [{"id": "\#(bot)",
              "participant": {"id": "\#(participant)"}}]}, "customerConfiguration": {"customer": {"id": "\#(customer)"}}}}
            """#
        )
        let account = try await hub.create(
            "accounts",
            #"""
            {"name": "bench_account_\#(tag)", "address": "\#(setup.address)", "channel": {"id": "\#(channel)"},
             "chatConfigurations": {"timeout": 60, "orchestration": {"id": "\#(orchestration)"}, "entryPoint": {"id": "1"}}}
            """#
        )
        return Setup(account: account, participant: participant, address: setup.address, channelType: setup.channelType)
    }

    static func drive(
        _ hub: some HubEndpoint,
        receiver: CallbackReceiver,
        delivered: Counter,
        setup: Setup,
        options: Options,
        log: @escaping @Sendable (String) -> Void
    ) async throws -> Result {
        let remaining = Counter(options.messages)
        let done = Counter(0)
        let progress = ProgressReporter(label: "acknowledged", total: Int64(options.messages))
        let receivedBefore = delivered.value.load(ordering: .relaxed)
        let callsBefore = receiver.count
        let metricsBefore = await MetricsSnapshot.read(hub)
        let cpuBefore = Self.processCPUSeconds()
        let started = ContinuousClock.now
        let outcomes = try await LoadClient.run(
            (0..<options.senders).map { sender in
                Sender(
                    sender: sender,
                    setup: setup,
                    remaining: remaining,
                    done: done,
                    progress: progress,
                    log: log
                )
            },
            host: hub.host,
            port: hub.port,
            token: hub.bearerToken
        ).map(\.outcome)
        let elapsed = AppendBenchmark.seconds(started.duration(to: .now))
        let acknowledged = outcomes.reduce(0) { $0 + $1.acknowledged.values.reduce(0) { $0 + $1.count } }
        progress.finish(Int64(acknowledged))
        // Every acknowledged message is delivered once (customer messages to the bot, bot replies to the customer).
        let deadline = ContinuousClock.now + .seconds(120)
        while delivered.value.load(ordering: .relaxed) - receivedBefore < acknowledged, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let deliverySeconds = AppendBenchmark.seconds(started.duration(to: .now))
        let clientCPUSeconds = Self.processCPUSeconds() - cpuBefore
        let deliveries = delivered.value.load(ordering: .relaxed) - receivedBefore
        let calls = receiver.count - callsBefore
        let stages = Stages(before: metricsBefore, after: await MetricsSnapshot.read(hub))
        log("checking \(acknowledged) acknowledged messages against their transcripts")
        var missing: [String] = []
        var conversations = 0
        for outcome in outcomes {
            for (conversation, ids) in outcome.acknowledged {
                conversations += 1
                let (status, text) = try await hub.call(
                    .GET,
                    "/v1/conversations/\(conversation)/transcript",
                    accept: "application/x-ndjson"
                )
                var present = Set<String>()
                if status == 200 {
                    for line in text.split(separator: "\n") {
                        if let id = (try? JSONValue.parse(String(line)))?["id"]?.stringValue { present.insert(id) }
                    }
                }
                missing.append(contentsOf: ids.filter { !present.contains($0) })
            }
        }
        let latencies = outcomes.flatMap(\.latencies).sorted()
        func percentile(_ p: Double) -> Double {
            latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]
        }
        return Result(
            acknowledged: acknowledged,
            seconds: elapsed,
            p50Milliseconds: percentile(0.50),
            p99Milliseconds: percentile(0.99),
            maxMilliseconds: latencies.last ?? 0,
            deliveries: deliveries,
            deliveryCalls: calls,
            deliverySeconds: deliverySeconds,
            conversations: conversations,
            missing: missing,
            refused: outcomes.reduce(0) { $0 + $1.refused },
            stages: stages,
            clientCPUSeconds: clientCPUSeconds
        )
    }

    /// This process's CPU time so far, user and system.
    static func processCPUSeconds() -> Double {
        var usage = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}
