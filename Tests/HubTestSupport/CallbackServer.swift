import Foundation
import HubTools
import NIOCore
import Synchronization

/// A request a ``CallbackServer`` received.
public struct ReceivedCallback: Sendable {
    public var method: String
    public var path: String
    public var headers: [String: String]
    public var body: String

    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// A real HTTP server on loopback that records every request and answers what the test says:
/// stands in for client applications' callbacks and an OAuth2 token endpoint.
public final class CallbackServer: Sendable {
    /// Decides the status and body of a response from the request and how many requests the same
    /// path had before it.
    public typealias Responder = @Sendable (ReceivedCallback, Int) -> (status: Int, body: String)

    private let received = Mutex<[ReceivedCallback]>([])
    private let responder: Responder
    public let port: Int

    init(port: Int, responder: @escaping Responder) {
        self.port = port
        self.responder = responder
    }

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Every request so far, oldest first.
    public var requests: [ReceivedCallback] { received.withLock { $0 } }

    /// Requests to one path.
    public func requests(to path: String) -> [ReceivedCallback] { requests.filter { $0.path == path } }

    /// Waits (polling) until `condition` holds over the requests, or fails after `timeout` (generous:
    /// the whole suite runs in parallel on two cores, and a loaded machine stretches every retry).
    public func waitFor(
        timeout: Duration = .seconds(30),
        _ what: String = "callbacks",
        _ condition: @Sendable ([ReceivedCallback]) -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition(requests) {
            guard ContinuousClock.now < deadline else { throw CallbackWaitTimeout(what: what, seen: requests.count) }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    func handle(method: String, path: String, headers: [String: String], body: ByteBuffer) -> (Int, String) {
        let callback = ReceivedCallback(method: method, path: path, headers: headers, body: String(buffer: body))
        let count = received.withLock { list in
            defer { list.append(callback) }
            return list.filter { $0.path == callback.path }.count
        }
        return responder(callback, count)
    }
}

public struct CallbackWaitTimeout: Error, CustomStringConvertible {
    public var what: String
    public var seen: Int
    public var description: String { "timed out waiting for \(what) (\(seen) requests seen)" }

    public init(what: String, seen: Int) {
        self.what = what
        self.seen = seen
    }
}

/// The loopback ports the callbacks of `Tests/Fixtures/store-v1` name. A test that opens a hub on a
/// copy of that store (`serve`, `replay`), running beside, delivers the store's messages there: a
/// callback server on one of them would receive requests no hub of its test sent.
let fixtureCallbackPorts: Set<Int> = [38571, 38175, 43107]

/// Runs a ``CallbackServer`` on a free loopback port (never one of ``fixtureCallbackPorts``) for the
/// length of `body`.
public func withCallbackServer<T: Sendable>(
    responder: @escaping CallbackServer.Responder = { _, _ in (200, "{}") },
    _ body: @Sendable (CallbackServer) async throws -> T
) async throws -> T {
    let holder = Mutex<CallbackServer?>(nil)
    let handler: CallbackReceiver.Handler = { method, path, headers, bytes in
        holder.withLock { $0 }?.handle(method: method, path: path, headers: headers, body: bytes) ?? (503, "{}")
    }
    return try await CallbackReceiver.run(handler) { receiver in
        // Holds that port while another is taken.
        if fixtureCallbackPorts.contains(receiver.port) {
            return try await withCallbackServer(responder: responder, body)
        }
        let server = CallbackServer(port: receiver.port, responder: responder)
        holder.withLock { $0 = server }
        return try await body(server)
    }
}
