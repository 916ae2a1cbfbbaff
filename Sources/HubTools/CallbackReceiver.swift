import Foundation
import Hummingbird
import Logging
public import NIOCore
import Synchronization

/// Small HTTP servers on loopback standing in for client applications (`bench ingest`, `demo`, the
/// tests' callback servers): each request is handed to `handle`, which answers a status and a JSON
/// body; receivers count what they got.
public final class CallbackReceiver: Sendable {
    /// Gets the method, path, headers (lower-cased names) and body; answers a status and a body.
    public typealias Handler =
        @Sendable (
            _ method: String, _ path: String, _ headers: [String: String], _ body: ByteBuffer
        ) async -> (status: Int, body: String)

    private let received = Atomic<Int>(0)
    public let port: Int

    init(port: Int) { self.port = port }

    public var baseURL: String { "http://127.0.0.1:\(port)" }
    /// Requests received so far.
    public var count: Int { received.load(ordering: .relaxed) }

    /// Runs a receiver for the length of `body`.
    public static func run<T: Sendable>(
        _ handle: @escaping Handler,
        _ body: @Sendable (CallbackReceiver) async throws -> T
    ) async throws -> T {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let holder = Mutex<CallbackReceiver?>(nil)
        let router = Router()
        let respond: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            let bytes = try await request.body.collect(upTo: 16 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            holder.withLock { $0 }?.received.add(1, ordering: .relaxed)
            let (status, body) = await handle(request.method.rawValue, request.uri.path, headers, bytes)
            return Response(
                status: HTTPResponse.Status(code: status),
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: body))
            )
        }
        for method in [HTTPRequest.Method.post, .put, .get] { router.on("**", method: method, use: respond) }
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "receiver"),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: Logger(label: "receiver", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw InProcessHubError("the receiver did not start") }
            let receiver = CallbackReceiver(port: port)
            holder.withLock { $0 = receiver }
            defer { group.cancelAll() }
            return try await body(receiver)
        }
    }
}
