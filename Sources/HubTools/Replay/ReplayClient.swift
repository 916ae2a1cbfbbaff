import AsyncHTTPClient
import Foundation
public import HubDomain
import NIOCore
public import NIOHTTP1

/// How replay authenticates to the target.
public enum ReplayCredentials: Sendable {
    /// A bearer token, used as given.
    case token(String)
    /// OAuth2 client credentials: replay fetches a token from `tokenURL`, and a new one before it
    /// expires or when the target turns the old one down.
    case client(id: String, secret: String, tokenURL: String)
}

/// The target hub's API as replay uses it: JSON requests with a bearer token, at most `rate`
/// requests per second when given.
public final class ReplayClient: Sendable {
    /// The hub's root (`http://host:port`); the Conversation Manager API is under ``apiRoot``.
    public let root: String
    let http: HTTPClient
    private let tokens: TokenSource
    private let pacer: Pacer?

    public static let apiPath = "/conversation/conversationmgr/v3"
    public var apiRoot: String { root + Self.apiPath }

    init(target: String, credentials: ReplayCredentials, rate: Double?, http: HTTPClient) {
        var root = target
        while root.hasSuffix("/") { root.removeLast() }
        if root.hasSuffix(Self.apiPath) { root.removeLast(Self.apiPath.count) }
        self.root = root
        self.http = http
        self.tokens = TokenSource(credentials: credentials, http: http)
        self.pacer = rate.map { Pacer(perSecond: $0) }
    }

    /// Runs `body` with a client of its own HTTP connections (`connections` at most), then closes them.
    public static func with<T: Sendable>(
        target: String,
        credentials: ReplayCredentials,
        rate: Double?,
        connections: Int,
        _ body: (ReplayClient) async throws -> T
    ) async throws -> T {
        var pool = HTTPClient.Configuration.ConnectionPool()
        pool.concurrentHTTP1ConnectionsPerHostSoftLimit = max(connections, 8)
        let http = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: .init(timeout: .init(connect: .seconds(10), read: .seconds(60)), connectionPool: pool)
        )
        do {
            let result = try await body(ReplayClient(target: target, credentials: credentials, rate: rate, http: http))
            try? await http.shutdown()
            return result
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    /// An answer: its status and its body as JSON (`null` when it has none or is not JSON).
    public struct Answer: Sendable {
        public var status: Int
        public var body: JSONValue
        public var text: String

        /// The error body's `code` (`400-144`), if any.
        public var code: String? { body["code"]?.stringValue }
    }

    /// Sends a request to a path under the hub's root; retries once with a new token on a 401.
    public func call(_ method: HTTPMethod, _ path: String, json: JSONValue? = nil) async throws -> Answer {
        try await call(
            method,
            url: root + path,
            body: json.map { ByteBuffer(string: $0.text) },
            type: "application/json"
        )
    }

    /// Sends raw bytes (an asset upload to its signed URL, which needs no token).
    public func upload(_ url: String, bytes: [UInt8], contentType: String) async throws -> Answer {
        try await call(.POST, url: url, body: ByteBuffer(bytes: bytes), type: contentType, authorized: false)
    }

    private func call(
        _ method: HTTPMethod,
        url: String,
        body: ByteBuffer?,
        type: String,
        authorized: Bool = true
    ) async throws -> Answer {
        for attempt in 0..<2 {
            await pacer?.wait()
            var request = HTTPClientRequest(url: url)
            request.method = method
            request.headers.add(name: "Accept", value: "application/json")
            let token = authorized ? try await tokens.current() : nil
            if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
            if let body {
                request.headers.add(name: "Content-Type", value: type)
                request.body = .bytes(body)
            }
            let response = try await http.execute(request, timeout: .seconds(60))
            let bytes = try await response.body.collect(upTo: 64 << 20)
            let text = String(buffer: bytes)
            if response.status == .unauthorized, let token, attempt == 0 {
                await tokens.expire(token)
                continue
            }
            return Answer(
                status: Int(response.status.code),
                body: (try? JSONValue.parse(bytes: bytes.readableBytesView)) ?? .null,
                text: text
            )
        }
        throw ReplayError("the target refused the token twice")
    }
}

/// The bearer token: the given one, or one fetched with client credentials and fetched again
/// shortly before it expires.
actor TokenSource {
    let credentials: ReplayCredentials
    let http: HTTPClient
    private var token: String?
    private var expiry = ContinuousClock.now

    init(credentials: ReplayCredentials, http: HTTPClient) {
        self.credentials = credentials
        self.http = http
    }

    func current() async throws -> String {
        switch credentials {
        case .token(let token):
            return token
        case .client(let id, let secret, let tokenURL):
            if let token, ContinuousClock.now < expiry { return token }
            return try await fetch(id: id, secret: secret, url: tokenURL)
        }
    }

    /// The target turned `old` down: the next call fetches a new one.
    func expire(_ old: String) {
        if token == old { token = nil }
    }

    private func fetch(id: String, secret: String, url: String) async throws -> String {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        func encoded(_ text: String) -> String {
            text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-._~"))) ?? text
        }
        request.body = .bytes(
            ByteBuffer(
                string: "grant_type=client_credentials&client_id=\(encoded(id))&client_secret=\(encoded(secret))"
            )
        )
        let response = try await http.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        let body = (try? JSONValue.parse(bytes: bytes.readableBytesView)) ?? .null
        guard response.status == .ok, let token = body["access_token"]?.stringValue else {
            let reason =
                body["error_description"]?.stringValue ?? body["error"]?.stringValue ?? "HTTP \(response.status.code)"
            throw ReplayError("the token request to \(url) failed: \(reason)")
        }
        let lifetime: Int64 = if case .integer(let seconds)? = body["expires_in"] { seconds } else { 300 }
        // Fetched again when four fifths of its life have passed.
        expiry = ContinuousClock.now + .seconds(max(1, lifetime * 4 / 5))
        self.token = token
        return token
    }
}

/// At most `perSecond` requests per second, spread evenly.
actor Pacer {
    private let interval: Duration
    private var next = ContinuousClock.now

    init(perSecond: Double) {
        interval = .nanoseconds(Int64(1e9 / max(perSecond, 0.001)))
    }

    func wait() async {
        let now = ContinuousClock.now
        let slot = max(now, next)
        next = slot + interval
        if slot > now { try? await Task.sleep(until: slot, clock: .continuous) }
    }
}
