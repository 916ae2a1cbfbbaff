import Synchronization

/// How many failed client authentications `/oauth2/token` forgives, per client id and per address.
///
/// Each key has a bucket of `burst` failures that refills one failure per `refill`. While a bucket is
/// empty, requests for that client id, or from that address, are answered 429 with `Retry-After`
/// before the secret is checked, so a guess cannot succeed either.
public struct TokenThrottlePolicy: Sendable, Equatable {
    /// Failures a client id may have in a row before it is throttled.
    public var clientBurst: Int
    /// Failures an address may have in a row before it is throttled.
    public var addressBurst: Int
    /// How long it takes for one failure to be forgiven.
    public var refill: Duration
    /// Keys remembered per kind (client id, address); beyond it the least throttled are forgotten.
    public var capacity: Int

    public init(clientBurst: Int = 10, addressBurst: Int = 30, refill: Duration = .seconds(6), capacity: Int = 10_000) {
        self.clientBurst = clientBurst
        self.addressBurst = addressBurst
        self.refill = refill
        self.capacity = capacity
    }
}

/// The failure buckets of ``TokenThrottlePolicy``.
final class TokenThrottle: Sendable {
    private struct Bucket {
        var available: Double
        var updated: ContinuousClock.Instant
    }

    private struct Buckets {
        var clients: [String: Bucket] = [:]
        var addresses: [String: Bucket] = [:]
    }

    let policy: TokenThrottlePolicy
    private let buckets = Mutex(Buckets())

    init(policy: TokenThrottlePolicy) {
        self.policy = policy
    }

    /// How long `client` (or `address`) must wait before trying again; `nil` when it may try now.
    func wait(client: String, address: String, now: ContinuousClock.Instant = .now) -> Duration? {
        buckets.withLock { buckets in
            let waits = [
                wait(buckets.clients[client], burst: policy.clientBurst, now: now),
                wait(buckets.addresses[address], burst: policy.addressBurst, now: now),
            ]
            return waits.compactMap { $0 }.max()
        }
    }

    /// Counts a failure; returns `true` when it used up the client's or the address's last allowance.
    func recordFailure(client: String, address: String, now: ContinuousClock.Instant = .now) -> Bool {
        buckets.withLock { buckets in
            let client = take(&buckets.clients, client, burst: policy.clientBurst, now: now)
            let address = take(&buckets.addresses, address, burst: policy.addressBurst, now: now)
            return client || address
        }
    }

    private func refilled(_ bucket: Bucket?, burst: Int, now: ContinuousClock.Instant) -> Double {
        guard let bucket else { return Double(burst) }
        let forgiven = (now - bucket.updated) / policy.refill
        return min(Double(burst), bucket.available + forgiven)
    }

    private func wait(_ bucket: Bucket?, burst: Int, now: ContinuousClock.Instant) -> Duration? {
        let available = refilled(bucket, burst: burst, now: now)
        return available >= 1 ? nil : policy.refill * (1 - available)
    }

    private func take(_ table: inout [String: Bucket], _ key: String, burst: Int, now: ContinuousClock.Instant) -> Bool
    {
        let available = refilled(table[key], burst: burst, now: now) - 1
        table[key] = Bucket(available: available, updated: now)
        if table.count > policy.capacity { forget(&table, burst: burst, now: now) }
        return available < 1
    }

    /// Drops the keys whose allowance is whole again; if that is not enough, the least throttled half.
    private func forget(_ table: inout [String: Bucket], burst: Int, now: ContinuousClock.Instant) {
        table = table.filter { refilled($0.value, burst: burst, now: now) < Double(burst) }
        guard table.count > policy.capacity else { return }
        let kept = table.sorted {
            refilled($0.value, burst: burst, now: now) < refilled($1.value, burst: burst, now: now)
        }
        .prefix(policy.capacity / 2)
        table = Dictionary(uniqueKeysWithValues: kept.map { ($0.key, $0.value) })
    }
}
