public import HubStore
public import Hummingbird
public import Logging
public import NIOCore

/// The request context of every HubStore route.
public typealias HubRequestContext = BasicRequestContext

/// Builds the router with every HubStore surface (shared by `hubstore serve` and the tests).
public func buildRouter(store: EventStore, metrics: HubMetrics) -> Router<HubRequestContext> {
    let router = Router(context: HubRequestContext.self)
    router.addMiddleware { LogRequestsMiddleware(.debug) }
    OperationsController(store: store, metrics: metrics).register(on: router)
    return router
}

/// Builds the HTTP application for a store whose writer is run by the caller's service group.
public func buildApplication(
    store: EventStore,
    metrics: HubMetrics,
    host: String,
    port: Int,
    logger: Logger,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) -> some ApplicationProtocol {
    Application(
        router: buildRouter(store: store, metrics: metrics),
        configuration: .init(address: .hostname(host, port: port), serverName: "hubstore"),
        onServerRunning: onServerRunning,
        logger: logger
    )
}
