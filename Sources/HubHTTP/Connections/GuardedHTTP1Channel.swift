import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes

/// Hummingbird's HTTP/1 child channel with HubStore's connection guards: each connection is
/// registered (``ConnectionRegistry``: the maximum, closing the idle longest), and each request must
/// arrive whole, headers and body, within the request timeout of its first byte (``RequestTimer``).
struct GuardedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let http1: HTTP1Channel
    let registry: ConnectionRegistry
    let requestTimeout: TimeAmount

    init(responder: @escaping HTTPChannelHandler.Responder, limits: ConnectionLimits, registry: ConnectionRegistry) {
        self.registry = registry
        requestTimeout = .nanoseconds(Int64(clamping: limits.requestTimeout.totalNanoseconds))
        http1 = HTTP1Channel(
            responder: responder,
            configuration: .init(
                additionalChannelHandlers: [RequestPartsObserver(), ExpectContinueHandler()],
                idleTimeout: .nanoseconds(Int64(clamping: limits.idleTimeout.totalNanoseconds))
            )
        )
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let id = ObjectIdentifier(channel)
        let registry = registry
        do {
            let timer = RequestTimer(timeout: requestTimeout, registry: registry, id: id, logger: logger)
            try channel.pipeline.syncOperations.addHandler(RequestBytesObserver(timer: timer), position: .first)
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        if let victim = registry.opened(channel) {
            logger.debug(
                "closing the connection idle longest to make room",
                metadata: ["connections": "\(registry.count)"]
            )
            victim.close(promise: nil)
        }
        channel.closeFuture.whenComplete { _ in registry.closed(id) }
        return http1.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await http1.handle(value: value, logger: logger)
    }
}

extension Duration {
    fileprivate var totalNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds.multipliedReportingOverflow(by: 1_000_000_000).overflow
            ? .max : seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// One connection's request deadline. Armed by a request's first byte (or by its head, when it came
/// in the same read as the previous request), disarmed when its end has been read. When it fires with
/// the head still incomplete the client gets `408 Request Timeout`; with the body incomplete the
/// connection is closed. Also tells the registry when the connection is idle.
///
/// Lives on the connection's event loop only.
final class RequestTimer {
    enum State { case idle, readingHead, readingBody, responding }

    private(set) var state = State.idle
    private var answeredEarly = false
    private var deadline: Scheduled<Void>?
    private let timeout: TimeAmount
    private let registry: ConnectionRegistry
    private let id: ObjectIdentifier
    private let logger: Logger
    /// The context of the observer nearest the socket, to answer 408 there.
    var socketContext: ChannelHandlerContext?

    init(timeout: TimeAmount, registry: ConnectionRegistry, id: ObjectIdentifier, logger: Logger) {
        self.timeout = timeout
        self.registry = registry
        self.id = id
        self.logger = logger
    }

    func bytesRead() {
        if state == .idle {
            state = .readingHead
            arm()
        }
    }

    func headRead() {
        if state == .idle || state == .responding { arm() }
        state = .readingBody
    }

    func endRead() {
        deadline?.cancel()
        deadline = nil
        state = .responding
        if answeredEarly {
            answeredEarly = false
            responseEnded()
        }
    }

    func responseEnded() {
        switch state {
        case .responding:
            state = .idle
            registry.setIdle(id, true)
        case .readingBody:
            // Answered before its body was read (a refusal): idle once the rest has been read.
            answeredEarly = true
        case .idle, .readingHead:
            break
        }
    }

    func channelClosed() {
        deadline?.cancel()
        deadline = nil
        socketContext = nil
    }

    private func arm() {
        registry.setIdle(id, false)
        deadline?.cancel()
        guard let context = socketContext else { return }
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { self.expired() }
    }

    private func expired() {
        deadline = nil
        guard let context = socketContext, state == .readingHead || state == .readingBody else { return }
        logger.debug("request not received within the request timeout; closing", metadata: ["state": "\(state)"])
        if state == .readingHead {
            let response = "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
            context.writeAndFlush(NIOAny(context.channel.allocator.buffer(string: response)), promise: nil)
        }
        context.close(promise: nil)
    }
}

/// First in the pipeline: sees a request's bytes before they are decoded.
final class RequestBytesObserver: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let timer: RequestTimer

    init(timer: RequestTimer) { self.timer = timer }

    func handlerAdded(context: ChannelHandlerContext) { timer.socketContext = context }

    func handlerRemoved(context: ChannelHandlerContext) { timer.channelClosed() }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        timer.bytesRead()
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer.channelClosed()
        context.fireChannelInactive()
    }
}

/// After HTTP decoding: sees each request's head and end, and each response's end.
final class RequestPartsObserver: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private var timer: RequestTimer?

    func handlerAdded(context: ChannelHandlerContext) {
        timer = try? context.pipeline.syncOperations.handler(type: RequestBytesObserver.self).timer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: timer?.headRead()
        case .body: break
        case .end: timer?.endRead()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { timer?.responseEnded() }
        context.write(data, promise: promise)
    }
}
