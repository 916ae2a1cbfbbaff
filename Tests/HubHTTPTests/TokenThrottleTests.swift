import Foundation
import HTTPTypes
import HubCommands
import HubDomain
@_spi(Storage) import HubEventLog
import HubReadModels
import HubTestSupport
import HubVault
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing

@testable import HubHTTP

/// Issue 13 item 18: `/oauth2/token` throttles failed authentications per client id and per address.
struct TokenThrottleTests {
    typealias Answer = (status: Int, retryAfter: String?, body: String)

    static func token(_ client: some TestClientProtocol, id: String, secret: String) async throws -> Answer {
        let form = "grant_type=client_credentials&client_id=\(id)&client_secret=\(secret)"
        return try await client.execute(
            uri: "/oauth2/token",
            method: .post,
            headers: [.contentType: "application/x-www-form-urlencoded"],
            body: ByteBuffer(string: form)
        ) { (Int($0.status.code), $0.headers[.retryAfter], String(buffer: $0.body)) }
    }

    func withThrottledHub(
        _ policy: TokenThrottlePolicy,
        logs: LogLines = LogLines(),
        _ body: @Sendable (any TestClientProtocol, ClientRegistry) async throws -> Void
    ) async throws {
        try await withTemporaryDirectory { directory in
            let (store, _, app) = try await makeHub(
                directory,
                options: .init(tokenThrottle: policy),
                logger: logs.logger
            )
            try await store.withWriter { store in
                try await app.test(.live) { client in try await body(client, ClientRegistry(store: store)) }
            }
            await store.close()
        }
    }

    @Test func aClientIdIsThrottledAfterItsFailuresEvenForTheRightSecretAndFailuresAreLoggedWithoutTheSecret()
        async throws
    {
        let logs = LogLines()
        try await withThrottledHub(.init(clientBurst: 5, addressBurst: 1000, refill: .seconds(60)), logs: logs) {
            client,
            registry in
            let (victim, secret) = try await registry.create(name: "victim", scopes: [.manage], actor: "test")
            let (other, otherSecret) = try await registry.create(name: "other", scopes: [.manage], actor: "test")
            var answers: [Answer] = []
            for attempt in 0..<200 {
                answers.append(try await Self.token(client, id: victim.id, secret: "guess-\(attempt)-wrong"))
            }
            #expect(answers.prefix(5).allSatisfy { $0.status == 401 })
            #expect(answers.dropFirst(5).allSatisfy { $0.status == 429 })
            let throttled = try #require(answers.last)
            #expect(Int(throttled.retryAfter ?? "") ?? 0 >= 1)
            #expect(throttled.body.contains("temporarily_unavailable"))
            // While throttled, the right secret is not even checked.
            #expect(try await Self.token(client, id: victim.id, secret: secret).status == 429)
            // Another client is not affected.
            #expect(try await Self.token(client, id: other.id, secret: otherSecret).status == 200)
            // One warning per failure (not per throttled request), with the client id and address.
            let failures = logs.all.filter { $0.contains("client authentication failed") }
            #expect(failures.count == 5)
            #expect(failures.allSatisfy { $0.contains("client_id=\(victim.id)") && $0.contains("address=127.0.0.1") })
            #expect(!logs.all.contains { $0.contains("wrong") || $0.contains(secret) })
        }
    }

    @Test func anAddressIsThrottledAcrossClientIds() async throws {
        try await withThrottledHub(.init(clientBurst: 1000, addressBurst: 8, refill: .seconds(60))) {
            client,
            registry in
            let (known, secret) = try await registry.create(name: "known", scopes: [.manage], actor: "test")
            var statuses: [Int] = []
            for attempt in 0..<20 {
                statuses.append(try await Self.token(client, id: "made-up-\(attempt)", secret: "x").status)
            }
            #expect(statuses == Array(repeating: 401, count: 8) + Array(repeating: 429, count: 12))
            #expect(try await Self.token(client, id: known.id, secret: secret).status == 429)
        }
    }

    @Test func retryAfterSaysWhenTheNextTryIsAllowed() async throws {
        try await withThrottledHub(.init(clientBurst: 2, addressBurst: 100, refill: .seconds(30))) {
            client,
            registry in
            let (known, secret) = try await registry.create(name: "known", scopes: [.manage], actor: "test")
            #expect(try await Self.token(client, id: known.id, secret: "no").status == 401)
            #expect(try await Self.token(client, id: known.id, secret: "no").status == 401)
            let throttled = try await Self.token(client, id: known.id, secret: secret)
            #expect(throttled.status == 429)
            // The next try is allowed one refill (30 s) after the first failure, less the time the
            // requests took (seconds on a loaded machine).
            #expect((20...30).contains(Int(throttled.retryAfter ?? "") ?? 0), "\(throttled.retryAfter ?? "none")")
        }
    }

    @Test func theAllowanceComesBackOneFailurePerRefill() {
        let throttle = TokenThrottle(policy: .init(clientBurst: 2, addressBurst: 3, refill: .seconds(10)))
        let start = ContinuousClock.now
        #expect(throttle.wait(client: "c", address: "a", now: start) == nil)
        #expect(!throttle.recordFailure(client: "c", address: "a", now: start))
        #expect(throttle.recordFailure(client: "c", address: "a", now: start))  // the client's last allowance
        #expect(throttle.wait(client: "c", address: "a", now: start) == .seconds(10))
        #expect(throttle.wait(client: "c", address: "a", now: start + .seconds(4)) == .seconds(6))
        #expect(throttle.wait(client: "c", address: "a", now: start + .seconds(10)) == nil)
        // Another client from the same address has the address's last allowance, then the address is out.
        #expect(throttle.wait(client: "d", address: "a", now: start) == nil)
        #expect(throttle.recordFailure(client: "d", address: "a", now: start))
        #expect(throttle.wait(client: "e", address: "a", now: start) == .seconds(10))
        #expect(throttle.wait(client: "e", address: "b", now: start) == nil)
        // Never more than the burst, however long it has been.
        let later = start + .seconds(3600)
        #expect(!throttle.recordFailure(client: "c", address: "z", now: later))
        #expect(throttle.recordFailure(client: "c", address: "z", now: later))
    }
}
