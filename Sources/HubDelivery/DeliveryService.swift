import AsyncHTTPClient
import Foundation
import HubCommands
import HubDomain
public import HubEventLog
import HubReadModels
public import HubVault
public import Logging
public import Metrics
import NIOCore
public import ServiceLifecycle
import Synchronization

/// The delivery workers (DESIGN.md §7): take due deliveries from the outbox, POST them to the
/// recipient role's callback, and record every attempt as an event. Runs as a `Service`.
///
/// Each lane (conversation → application role) has at most one delivery in flight and its next one
/// waits until the current one succeeded or failed for good, so one callback receives a
/// conversation's messages in order; lanes are independent, and each endpoint has its own cap on
/// calls in flight, so a slow or dead endpoint does not hold up the others. Deliveries due together
/// to one endpoint share a call (up to ``DeliveryConfiguration/maxMessagesPerCall``), so under load
/// the number of POSTs grows far slower than the number of messages. The outbox lives in the
/// database, so deliveries pending at a crash go out after the restart.
public final class DeliveryService: Service, Sendable {
    private let outbox: Outbox
    private let store: EventStore
    private let configuration: DeliveryConfiguration
    private let logger: Logger
    private let wake = WakeSignal()
    private let stopping = Atomic<Bool>(false)
    /// When the next pending delivery falls due (ms since 1970), for the ticker.
    private let nextDue = Atomic<Int64>(0)
    private let inFlight = Mutex(InFlight())
    private let metrics: DeliveryMetrics

    private struct InFlight {
        var lanes: Set<String> = []
        var perEndpoint: [String: Int] = [:]
        var total = 0
    }

    public init(
        store: EventStore,
        vault: SecretVault,
        configuration: DeliveryConfiguration = .init(),
        logger: Logger,
        metricsFactory: any MetricsFactory = NOOPMetricsHandler.instance
    ) {
        self.store = store
        self.outbox = Outbox(store: store, vault: vault)
        self.configuration = configuration
        self.logger = logger
        self.metrics = DeliveryMetrics(factory: metricsFactory)
    }

    public func run() async throws {
        var pool = HTTPClient.Configuration.ConnectionPool()
        pool.concurrentHTTP1ConnectionsPerHostSoftLimit = configuration.maxConcurrentPerEndpoint
        let client = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: .init(redirectConfiguration: .disallow, timeout: .init(), connectionPool: pool)
        )
        let callbacks = CallbackClient(client: client, timeout: configuration.timeout)
        await withGracefulShutdownHandler {
            await loop(callbacks)
        } onGracefulShutdown: {
            self.stopping.store(true, ordering: .relaxed)
            self.wake.signal()
        }
        try? await client.shutdown()
    }

    private func loop(_ callbacks: CallbackClient) async {
        await withTaskGroup(of: Void.self) { helpers in
            // Every commit may have added deliveries.
            helpers.addTask {
                var seen = self.store.headPosition
                while let position = await self.store.waitForCommit(beyond: seen) {
                    seen = position
                    self.wake.signal()
                }
            }
            // Retries fall due without a commit: a ticker wakes the loop by then (at least every 250 ms).
            helpers.addTask {
                while !Task.isCancelled {
                    let until = self.nextDue.load(ordering: .relaxed) - Self.now()
                    try? await Task.sleep(for: .milliseconds(min(max(until, 5), 250)))
                    self.wake.signal()
                }
            }
            await withDiscardingTaskGroup { attempts in
                while !stopping.load(ordering: .relaxed), !Task.isCancelled {
                    do {
                        for call in try await takeDue() {
                            attempts.addTask { await self.attempt(call, callbacks) }
                        }
                    } catch {
                        logger.error("delivery: reading the outbox failed", metadata: ["error": "\(error)"])
                    }
                    await wake.wait()
                }
            }
            helpers.cancelAll()
        }
    }

    /// Due deliveries grouped into calls that fit the free slots; their lanes and endpoints are marked busy.
    private func takeDue() async throws -> [DeliveryCall] {
        let (calls, busy) = inFlight.withLock { ($0.total, $0.lanes) }
        let room = configuration.maxConcurrent - calls
        // With no free slot nothing is read, nor `nextDue` updated: a finished call frees one and wakes
        // the loop.
        guard room > 0 else { return [] }
        let perCall = max(1, configuration.maxMessagesPerCall)
        let (due, next) = try await outbox.due(now: Self.now(), limit: room * perCall, excludingLanes: busy)
        nextDue.store(next ?? Int64.max / 2, ordering: .relaxed)
        return inFlight.withLock { state in
            var taken: [DeliveryCall] = []
            for call in DeliveryCall.group(due, maximum: perCall)
            where !call.deliveries.contains(where: { state.lanes.contains($0.lane) }) {
                let endpoint = state.perEndpoint[call.endpointKey, default: 0]
                guard endpoint < configuration.maxConcurrentPerEndpoint, state.total < configuration.maxConcurrent
                else { continue }
                for delivery in call.deliveries { state.lanes.insert(delivery.lane) }
                state.perEndpoint[call.endpointKey] = endpoint + 1
                state.total += 1
                taken.append(call)
            }
            return taken
        }
    }

    private func release(_ call: DeliveryCall) {
        inFlight.withLock { state in
            for delivery in call.deliveries { state.lanes.remove(delivery.lane) }
            state.perEndpoint[call.endpointKey, default: 1] -= 1
            state.total -= 1
        }
        wake.signal()
    }

    /// One attempt of a call (two when an OAuth2 token had to be refreshed), each recorded as one event
    /// listing the deliveries the call carries.
    private func attempt(_ call: DeliveryCall, _ callbacks: CallbackClient) async {
        defer { release(call) }
        var current = call.deliveries
        func outcome(_ result: DeliveryOutcome.Result, _ response: CallbackResponse) -> DeliveryOutcome {
            DeliveryOutcome(
                deliveries: current,
                request: call.requestId,
                result: result,
                status: response.status,
                latencyMilliseconds: response.latencyMilliseconds,
                error: response.error
            )
        }
        do {
            guard let endpoint = try await outbox.endpoint(application: call.application, role: call.role) else {
                let missing = CallbackResponse(
                    status: nil,
                    latencyMilliseconds: 0,
                    error: "client application \(call.application) has no \(call.role) role callback"
                )
                try await outbox.record(outcome(.failed, missing))
                return
            }
            let responses = await callbacks.send(call, to: endpoint)
            for (index, response) in responses.enumerated() {
                // The deliveries of a call were all tried as often (a call is retried whole).
                let attempts = current.map(\.attempts).max() ?? 0
                let result: DeliveryOutcome.Result
                if let webhook = endpoint.webhook {
                    // 200 or 201 is delivered; anything else is tried again, `max_retries` times.
                    if response.status == 200 || response.status == 201 {
                        result = .delivered
                    } else if attempts < webhook.maxRetries {
                        result = .retry(at: Self.now() + configuration.webhookRetryInterval.milliseconds)
                    } else {
                        result = .failed
                    }
                } else if response.isSuccess {
                    result = .delivered
                } else if index < responses.count - 1 {
                    result = .retry(at: Self.now())  // 401: a new token, sent again at once
                } else if response.isRetryable, attempts < configuration.retrySchedule.count {
                    let wait = configuration.retrySchedule[attempts]
                    result = .retry(at: Self.now() + wait.milliseconds)
                } else {
                    result = .failed
                }
                try await outbox.record(outcome(result, response))
                metrics.record(
                    result,
                    calls: 1,
                    messages: current.count,
                    latencyMilliseconds: response.latencyMilliseconds
                )
                if result == .failed {
                    logger.warning(
                        "delivery failed for good",
                        metadata: [
                            "request": "\(call.requestId)", "messages": "\(current.count)",
                            "application": "\(call.application)",
                            "status": "\(response.status.map(String.init) ?? "-")",
                            "error": "\(response.error ?? "-")",
                        ]
                    )
                }
                for index in current.indices { current[index].attempts += 1 }
            }
        } catch {
            // Not recorded (the writer is stopping or overloaded): the deliveries stay pending.
            logger.warning("delivery: recording an attempt failed", metadata: ["error": "\(error)"])
            try? await Task.sleep(for: .seconds(1))
        }
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}

/// `hubstore_delivery_attempts_total{outcome="succeeded|retry|failed"}` (per message),
/// `hubstore_delivery_calls_total` and `hubstore_delivery_messages_per_call`, and the calls' latency.
struct DeliveryMetrics: Sendable {
    let succeeded: Counter
    let retried: Counter
    let failed: Counter
    let calls: Counter
    let messagesPerCall: Recorder
    let latency: Metrics.Timer

    init(factory: any MetricsFactory) {
        let label = "hubstore_delivery_attempts_total"
        succeeded = Counter(label: label, dimensions: [("outcome", "succeeded")], factory: factory)
        retried = Counter(label: label, dimensions: [("outcome", "retry")], factory: factory)
        failed = Counter(label: label, dimensions: [("outcome", "failed")], factory: factory)
        calls = Counter(label: "hubstore_delivery_calls_total", dimensions: [], factory: factory)
        messagesPerCall = Recorder(label: "hubstore_delivery_messages_per_call", dimensions: [], factory: factory)
        latency = Metrics.Timer(label: "hubstore_delivery_latency_seconds", dimensions: [], factory: factory)
    }

    func record(_ result: DeliveryOutcome.Result, calls count: Int, messages: Int, latencyMilliseconds: Int64) {
        switch result {
        case .delivered: succeeded.increment(by: messages)
        case .retry: retried.increment(by: messages)
        case .failed: failed.increment(by: messages)
        }
        calls.increment(by: count)
        messagesPerCall.record(messages)
        latency.recordMilliseconds(latencyMilliseconds)
    }
}
