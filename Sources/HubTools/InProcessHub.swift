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
import NIOHTTP1

/// A hub run in this process on a data directory (for `bench ingest` and `demo`), and a small client
/// for its API: operator tokens signed with the directory's master key, JSON over keep-alive HTTP.
public struct InProcessHub: HubEndpoint {
    public let port: Int
    public let client: HTTPClient
    let token: String
    let tokens: TokenService

    public var host: String { "127.0.0.1" }
    public var bearerToken: String { token }

    /// An operator's token with only `scopes` (the hub's own `token` has every scope).
    public func token(scopes: Set<Scope>) -> String {
        tokens.issue(subject: TokenService.operatorSubject, scopes: scopes, lifetime: .seconds(24 * 3600))
    }

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
        let client = HTTPClient.forTools()
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
