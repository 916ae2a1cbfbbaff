public import AsyncHTTPClient
import Foundation
import HubDomain
import NIOCore
public import NIOHTTP1

/// A hub the tools drive over its API: one run in this process (``InProcessHub``) or a server at a
/// URL (``RemoteHub``).
public protocol HubEndpoint: Sendable {
    var host: String { get }
    var port: Int { get }
    /// The operator token requests carry.
    var bearerToken: String { get }
    var client: HTTPClient { get }
}

extension HubEndpoint {
    public var baseURL: String { "http://\(host):\(port)" }

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
        request.headers.add(name: "Authorization", value: "Bearer \(bearerToken)")
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

/// A hub served by another process, at `http://host:port`, with an operator token.
public struct RemoteHub: HubEndpoint {
    public let host: String
    public let port: Int
    public let bearerToken: String
    public let client: HTTPClient

    /// Runs `body` with a client for the hub at `url` (`http://host:port`); the client is shut down after.
    public static func run<T: Sendable>(
        url: String,
        token: String,
        _ body: @Sendable (RemoteHub) async throws -> T
    ) async throws -> T {
        guard let parsed = URL(string: url), parsed.scheme == "http", let host = parsed.host,
            parsed.path.isEmpty || parsed.path == "/"
        else { throw InProcessHubError("--url must look like http://host:port") }
        let client = HTTPClient.forTools()
        let hub = RemoteHub(host: host, port: parsed.port ?? 80, bearerToken: token, client: client)
        let result: Result<T, any Error> = await Result { try await body(hub) }
        try? await client.shutdown()
        return try result.get()
    }
}

extension HTTPClient {
    /// The tools' client of a hub: keep-alive, up to 256 connections, 30 s to answer.
    static func forTools() -> HTTPClient {
        var pool = HTTPClient.Configuration.ConnectionPool()
        pool.concurrentHTTP1ConnectionsPerHostSoftLimit = 256
        return HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: .init(timeout: .init(connect: .seconds(5), read: .seconds(30)), connectionPool: pool)
        )
    }
}
