import Foundation
import HubDomain

/// How delivery workers behave (DESIGN.md §7, spec §5.1 [P]).
public struct DeliveryConfiguration: Sendable {
    /// Waits before the 2nd, 3rd, ... attempt; after the last the message is `failed`.
    public var retrySchedule: [Duration]
    /// Per attempt (the callback must answer within 5 s).
    public var timeout: Duration
    /// Calls in flight at once, over all endpoints.
    public var maxConcurrent: Int
    /// Calls in flight at once to one endpoint (application role), so a slow endpoint cannot take
    /// every slot.
    public var maxConcurrentPerEndpoint: Int
    /// Messages one callback POST may carry (spec §5.3: "one or more messages per call"). Messages
    /// due together for one application role, of different conversations, share a call; 1 sends
    /// each message alone. 25, as a request to the hub may carry.
    public var maxMessagesPerCall: Int
    /// The wait between a LivePerson webhook's attempts: its app's `max_retries` of them, 30 s apart
    /// (connector spec §8.2).
    public var webhookRetryInterval: Duration

    public init(
        retrySchedule: [Duration] = [.seconds(1), .seconds(5), .seconds(30), .seconds(120)],
        timeout: Duration = .seconds(5),
        maxConcurrent: Int = 128,
        maxConcurrentPerEndpoint: Int = 32,
        maxMessagesPerCall: Int = 25,
        webhookRetryInterval: Duration = .seconds(30)
    ) {
        self.retrySchedule = retrySchedule
        self.timeout = timeout
        self.maxConcurrent = maxConcurrent
        self.maxConcurrentPerEndpoint = maxConcurrentPerEndpoint
        self.maxMessagesPerCall = maxMessagesPerCall
        self.webhookRetryInterval = webhookRetryInterval
    }

    /// Parses `1s,5s,30s,2m` (units ms, s, m, h; a bare number is seconds).
    public static func parseSchedule(_ text: String) -> [Duration]? {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        var schedule: [Duration] = []
        for part in parts {
            guard let wait = DurationText.parse(part) else { return nil }
            schedule.append(wait)
        }
        return schedule
    }
}
