public import AsyncHTTPClient
import Foundation
import HubCommands
public import HubDomain
@_spi(Storage) import HubEventLog
public import HubHTTP
import HubReadModels
import HubVault
public import Logging
import NIOCore
public import NIOHTTP1

/// A hub run in this process on a data directory (for `bench ingest` and `demo`), and a small client
/// for its API: operator tokens signed with the directory's master key, JSON over keep-alive HTTP.
public struct InProcessHub: Sendable {
    public let port: Int
    public let client: HTTPClient
    let token: String
    let tokens: TokenService

    /// An operator's token with only `scopes` (the hub's own `token` has every scope).
    public func token(scopes: Set<Scope>) -> String {
        tokens.issue(subject: TokenService.operatorSubject, scopes: scopes, lifetime: .seconds(24 * 3600))
    }

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Runs `hubstore serve` logic on `configuration` for the length of `body`, then stops it
    /// gracefully (the writer drains, the WAL is checkpointed).
    public static func run<T: Sendable>(
        _ configuration: ServerConfiguration,
        logger: Logger,
        _ body: @Sendable (InProcessHub) async throws -> T
    ) async throws -> T {
        let directory = DataDirectory(path: configuration.store.dataDirectory)
        try directory.prepare()
        let tokens = TokenService(masterKey: try MasterKey.load(directory: directory))
        let token = tokens.issue(
            subject: TokenService.operatorSubject,
            scopes: Set(Scope.allCases),
            lifetime: .seconds(24 * 3600)
        )
        var pool = HTTPClient.Configuration.ConnectionPool()
        pool.concurrentHTTP1ConnectionsPerHostSoftLimit = 256
        let client = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: .init(timeout: .init(connect: .seconds(5), read: .seconds(30)), connectionPool: pool)
        )
        let result: Result<T, any Error> = await Result {
            try await runServer(configuration, logger: logger, client: client, token: token, tokens: tokens, body)
        }
        try? await client.shutdown()
        return try result.get()
    }

    private static func runServer<T: Sendable>(
        _ configuration: ServerConfiguration,
        logger: Logger,
        client: HTTPClient,
        token: String,
        tokens: TokenService,
        _ body: @Sendable (InProcessHub) async throws -> T
    ) async throws -> T {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await HubServer.run(configuration, logger: logger) { port in
                    continuation.yield(port)
                    continuation.finish()
                }
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw InProcessHubError("the hub did not start") }
            defer { group.cancelAll() }
            let result = try await body(InProcessHub(port: port, client: client, token: token, tokens: tokens))
            return result
        }
    }

    /// Sends a request with the operator token; returns status and body text.
    public func call(
        _ method: HTTPMethod,
        _ path: String,
        body: String? = nil,
        accept: String? = nil
    ) async throws -> (
        status: Int, body: String
    ) {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        if let accept { request.headers.add(name: "Accept", value: accept) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await client.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        return (Int(response.status.code), String(buffer: bytes))
    }

    /// POSTs a configuration resource under `/conversation/conversationmgr/v3/<segment>`; returns its id.
    public func create(_ segment: String, _ body: String) async throws -> String {
        let (status, text) = try await call(.POST, "/conversation/conversationmgr/v3/" + segment, body: body)
        guard status == 201, let id = (try? JSONValue.parse(text))?["id"]?.stringValue else {
            throw InProcessHubError("creating \(segment) failed: \(status) \(text)")
        }
        return id
    }
}

public struct InProcessHubError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension Result where Failure == any Error {
    init(_ body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
