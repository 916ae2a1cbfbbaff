import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers `Expect: 100-continue` with `100 Continue` (RFC 9110 §10.1.1), which neither Hummingbird
/// nor SwiftNIO does: without it curl, and other clients that send the header, wait about a second
/// before sending each body.
///
/// The interim response goes out as the request head arrives, unless an earlier request on the
/// connection (pipelined) is still being answered: then it waits for that response's end, so it
/// never lands inside another response. The `Expect` field is removed from the head passed on.
final class ExpectContinueHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// One entry per request whose final response has not ended: does it still owe a `100 Continue`?
    private var owed: [Bool] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var head) = unwrapInboundIn(data) else {
            context.fireChannelRead(data)
            return
        }
        let expects = head.headerFields[.expect]?.lowercased() == "100-continue"
        if expects { head.headerFields[.expect] = nil }
        owed.append(expects)
        if owed.count == 1 { sendContinueIfOwed(context: context) }
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let response) where response.status.kind != .informational && !owed.isEmpty:
            // A final answer sent before the body was asked for: no `100 Continue` for it any more.
            owed[0] = false
            context.write(data, promise: promise)
        case .end:
            context.write(data, promise: promise)
            if !owed.isEmpty { owed.removeFirst() }
            if !owed.isEmpty { sendContinueIfOwed(context: context) }
        default:
            context.write(data, promise: promise)
        }
    }

    private func sendContinueIfOwed(context: ChannelHandlerContext) {
        guard owed.first == true else { return }
        owed[0] = false
        context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
    }
}
