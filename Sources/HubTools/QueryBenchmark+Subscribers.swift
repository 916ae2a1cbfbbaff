import AsyncHTTPClient
import Foundation
import HubDomain
import NIOCore
import NIOHTTP1
import Synchronization

/// The query benchmark's SSE subscribers: counting what arrives without parsing it.
extension QueryBenchmark {
    /// Runs `body` (an ingest) while `count` subscribers follow the live feed, from the head or from
    /// position 1, each until it has seen the head `body` left.
    static func withSubscribers(
        _ hub: InProcessHub,
        _ count: Int,
        fromStart: Bool,
        _ body: () async throws -> IngestBenchmark.Result
    ) async throws -> (IngestBenchmark.Result, [SubscriberOutcome]) {
        let start = try await head(hub)
        return try await withThrowingTaskGroup(of: SubscriberOutcome.self) { group in
            let stop = Counter(.max)
            for _ in 0..<count {
                group.addTask {
                    try await subscribe(hub, after: fromStart ? 0 : start, caughtUpAt: start, until: stop)
                }
            }
            let result = try await body()
            stop.value.store(Int(try await head(hub)), ordering: .relaxed)
            var outcomes: [SubscriberOutcome] = []
            for try await outcome in group { outcomes.append(outcome) }
            return (result, outcomes)
        }
    }

    struct SubscriberOutcome: Sendable {
        var count = 0
        var gaps = 0
        /// Events and seconds until it reached the head the ingest started from.
        var caughtUp: (count: Int, seconds: Double)?
        var catchUpEventsPerSecond: Double {
            caughtUp.map { Double($0.count) / max($0.seconds, 1e-9) } ?? 0
        }
    }

    /// Follows the live feed after `after` until it has seen position `until` (once that is set),
    /// counting events by their `id:` lines and checking each is the next position; notes when it
    /// reached `caughtUpAt`.
    static func subscribe(
        _ hub: InProcessHub,
        after: Int64,
        caughtUpAt: Int64,
        until: Counter
    ) async throws
        -> SubscriberOutcome
    {
        var request = HTTPClientRequest(url: hub.baseURL + "/v1/events/live?from=\(after + 1)&heartbeat=1")
        // An auditor's token: the feed in its export form, content sealed.
        request.headers.add(name: "Authorization", value: "Bearer \(hub.token(scopes: [.audit]))")
        request.headers.add(name: "Accept", value: "text/event-stream")
        let started = ContinuousClock.now
        let response = try await hub.client.execute(request, timeout: .hours(1))
        guard response.status == .ok else { throw InProcessHubError("live feed: \(response.status.code)") }
        var outcome = SubscriberOutcome()
        var last = after
        // The start of the line the last buffer ended in (enough of it for an `id:` line).
        var line: [UInt8] = []
        func ended(_ line: some Collection<UInt8>) {
            guard line.starts(with: "id: ".utf8),
                let position = Int64(String(decoding: line.dropFirst(4), as: UTF8.self))
            else { return }
            if position != last + 1 { outcome.gaps += 1 }
            last = position
            outcome.count += 1
            if position == caughtUpAt {
                outcome.caughtUp = (outcome.count, AppendBenchmark.seconds(started.duration(to: .now)))
            }
        }
        for try await buffer in response.body {
            // Line ends found with memchr: the client's share of the cores stays small.
            buffer.withUnsafeReadableBytes { bytes in
                guard let base = bytes.baseAddress else { return }
                var start = 0
                while start < bytes.count,
                    let found = memchr(base + start, 0x0A, bytes.count - start)
                {
                    let end = base.distance(to: UnsafeRawPointer(found))
                    if line.isEmpty {
                        ended(UnsafeRawBufferPointer(rebasing: bytes[start..<min(end, start + 24)]))
                    } else {
                        line += bytes[start..<min(end, start + 24)]
                        ended(line.prefix(24))
                        line.removeAll(keepingCapacity: true)
                    }
                    start = end + 1
                }
                if start < bytes.count { line += bytes[start..<min(bytes.count, start + 24)] }
            }
            if last >= Int64(until.value.load(ordering: .relaxed)) { break }
        }
        return outcome
    }
}
