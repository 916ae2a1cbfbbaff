import HubDomain
public import Hummingbird
import Logging
import NIOCore

/// The request context of every HubStore route: Hummingbird's core context plus the caller, once
/// the authentication middleware has verified its token.
public struct HubRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The verified token's claims; `nil` on the open routes.
    public var caller: TokenClaims?
    private let channel: any Channel

    public init(source: Source) {
        coreContext = .init(source: source)
        caller = nil
        channel = source.channel
    }

    /// The peer's IP address (`nil` where there is no socket, as in router tests).
    public var remoteAddress: String? { channel.remoteAddress?.ipAddress }
}
