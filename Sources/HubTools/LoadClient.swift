import NIOCore
import NIOHTTP1
import NIOPosix

/// What one load connection does: the requests it sends, one at a time, and what it makes of each
/// answer. Runs on the connection's event loop.
protocol LoadScript: Sendable {
    /// The next request (method, path, JSON body), or `nil` when this connection is done.
    mutating func next() -> (method: HTTPMethod, path: String, body: String?)?
    /// The answer to the request `next()` gave last, and how long it took.
    mutating func received(status: Int, body: ByteBuffer, milliseconds: Double)
}

/// The benchmarks' load generator: one keep-alive HTTP/1.1 connection per sender, one request in
/// flight on each, driven from the connection's event loop.
///
/// `bench ingest` measures the hub, and the load runs on the same two cores. A general-purpose client
/// (connection pool, per-request tasks, URL parsing, request validation) spends a large share of those
/// cores on the load itself; this one writes each request as soon as the previous answer is parsed,
/// with no task or thread hop in between, as load tools such as `wrk` do.
enum LoadClient {
    /// Runs one connection per script against `host:port` until every script is done; returns the
    /// scripts in their final state.
    static func run<Script: LoadScript>(
        _ scripts: [Script],
        host: String = "127.0.0.1",
        port: Int,
        token: String
    ) async throws -> [Script] {
        let group = MultiThreadedEventLoopGroup.singleton
        var futures: [EventLoopFuture<Script>] = []
        for script in scripts {
            let loop = group.next()
            let done = loop.makePromise(of: Script.self)
            let bootstrap = ClientBootstrap(group: loop)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(
                            LoadHandler(script: script, host: "\(host):\(port)", token: token, done: done)
                        )
                    }
                }
            let connected = bootstrap.connect(host: host, port: port)
            connected.whenFailure { done.fail($0) }
            futures.append(
                done.futureResult.flatMap { script in
                    connected.flatMap { $0.close() }.map { script }.recover { _ in script }
                }
            )
        }
        var finished: [Script] = []
        for future in futures { finished.append(try await future.get()) }
        return finished
    }
}

/// Sends the script's requests in turn on one connection and hands each answer back to it.
private final class LoadHandler<Script: LoadScript>: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private var script: Script
    private let host: String
    private let authorization: String
    private let done: EventLoopPromise<Script>
    private var status = 0
    private var body = ByteBuffer()
    private var sent = NIODeadline.now()
    private var finished = false

    init(script: Script, host: String, token: String, done: EventLoopPromise<Script>) {
        self.script = script
        self.host = host
        self.authorization = "Bearer \(token)"
        self.done = done
    }

    func channelActive(context: ChannelHandlerContext) {
        sendNext(context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
            body.clear()
        case .body(var part):
            body.writeBuffer(&part)
        case .end:
            let milliseconds = Double((NIODeadline.now() - sent).nanoseconds) / 1_000_000
            script.received(status: status, body: body, milliseconds: milliseconds)
            sendNext(context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(ChannelError.ioOnClosedChannel))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(.failure(error))
        context.close(promise: nil)
    }

    private func finish(_ result: Result<Script, any Error>) {
        guard !finished else { return }
        finished = true
        done.completeWith(result)
    }

    private func sendNext(context: ChannelHandlerContext) {
        guard let request = script.next() else {
            finish(.success(script))
            return
        }
        var headers: HTTPHeaders = ["Host": host, "Authorization": authorization]
        var payload: ByteBuffer?
        if let body = request.body {
            let buffer = context.channel.allocator.buffer(string: body)
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Content-Length", value: String(buffer.readableBytes))
            payload = buffer
        } else if request.method == .POST {
            headers.add(name: "Content-Length", value: "0")
        }
        sent = .now()
        let head = HTTPRequestHead(version: .http1_1, method: request.method, uri: request.path, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let payload { context.write(wrapOutboundOut(.body(.byteBuffer(payload))), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
