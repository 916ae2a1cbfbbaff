import HubCommands
import HubDomain
public import HubEventLog
import HubReadModels
public import HubVault
public import Hummingbird
import HummingbirdCore
public import Logging
public import NIOCore

/// Builds the router with every HubStore surface (shared by `hubstore serve` and the tests).
///
/// Every route needs a bearer token except `/healthz`, `/readyz` and `/oauth2/token`; a path or
/// method with no route (404, 405, OPTIONS) is answered without one. HEAD is served on every GET route.
public func buildRouter(
    store: EventStore,
    metrics: HubMetrics,
    tokens: TokenService,
    masterKey: MasterKey,
    options: APIOptions = .init(),
    maxUploadBytes: Int64 = 25 << 20
) -> Router<HubRequestContext> {
    let vault = SecretVault(masterKey: masterKey)
    let contactKeys = ContactKeys(masterKey: masterKey)
    let router = Router(context: HubRequestContext.self, options: .autoGenerateHeadEndpoints)
    let clients = ClientRegistry(store: store)
    let routes = RouteTable()
    router.addMiddleware {
        LogRequestsMiddleware(.debug)
        HTTPBasicsMiddleware(routes: routes, cors: options.cors)
        ErrorMappingMiddleware()
        AuthenticationMiddleware(
            tokens: tokens,
            clients: clients,
            openPaths: [
                "/healthz", "/readyz", "/oauth2/token", AssetController.uploadPath, AssetController.downloadPath,
            ]
        )
    }
    router.addRoutes(OperationsController(store: store, metrics: metrics).endpoints)
    router.addRoutes(
        TokenController(
            tokens: tokens,
            clients: clients,
            lifetime: .seconds(3600),
            throttle: TokenThrottle(policy: options.tokenThrottle)
        ).endpoints
    )
    router.addRoutes(ConfigurationController(configuration: ConfigurationStore(store: store, vault: vault)).endpoints)
    router.addRoutes(ConfigurationQueryController(history: ConfigurationHistory(store: store)).endpoints)
    let queries = ConversationQueries(store: store, contactKeys: contactKeys)
    router.addRoutes(
        ConversationController(
            conversations: ConversationStore(store: store, vault: vault, contactKeys: contactKeys),
            queries: queries
        ).endpoints
    )
    let assets = AssetStore(store: store)
    router.addRoutes(
        AssetController(assets: assets, signer: AssetURLSigner(masterKey: masterKey), maxUploadBytes: maxUploadBytes)
            .endpoints
    )
    router.addRoutes(ConversationQueryController(queries: queries, assets: assets).endpoints)
    router.addRoutes(LogHeadController(store: store, key: LogHeadKey(masterKey: masterKey)).endpoints)
    router.addRoutes(EventFeedController(feed: EventFeed(store: store, vault: vault)).endpoints)
    router.addRoutes(SearchController(search: SearchQueries(store: store)).endpoints)
    router.addRoutes(AnalyticsController(metrics: ConversationMetrics(store: store)).endpoints)
    router.addRoutes(
        ErasureController(
            erasure: CustomerErasure(
                store: store,
                vault: vault,
                contactKeys: contactKeys,
                files: AssetFiles(dataDirectory: store.directory)
            )
        ).endpoints
    )
    router.addRoutes(ConversationHistoryController(trail: ConversationAuditTrail(store: store, vault: vault)).endpoints)
    let connectorApps = ConnectorApps(store: store, vault: vault)
    let connectorTokens = ConnectorTokens(masterKey: masterKey)
    router.addRoutes(
        AppInstallController(installations: AppInstallations(store: store, vault: vault), apps: connectorApps)
            .endpoints
    )
    router.addRoutes(DomainController().endpoints)
    router.addRoutes(
        ConnectorMessagingController(
            messaging: ConnectorMessaging(store: store, vault: vault, contactKeys: contactKeys),
            auth: ConnectorAuth(tokens: connectorTokens, apps: connectorApps)
        ).endpoints
    )
    router.addRoutes(
        ConnectorTokenController(
            tokens: connectorTokens,
            auth: ConnectorAuth(tokens: connectorTokens, apps: connectorApps),
            apps: connectorApps,
            throttle: TokenThrottle(policy: options.tokenThrottle)
        ).endpoints
    )
    let openAPI = ByteBuffer(string: OpenAPIDocument.json.text)
    router.get("/openapi.json") { _, _ in
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: openAPI))
    }
    routes.record(router.routes)
    return router
}

/// Builds the HTTP application for a store whose writer is run by the caller's service group.
public func buildApplication(
    store: EventStore,
    metrics: HubMetrics,
    tokens: TokenService,
    masterKey: MasterKey,
    host: String,
    port: Int,
    logger: Logger,
    options: APIOptions = .init(),
    maxUploadBytes: Int64 = 25 << 20,
    connections: ConnectionLimits = .init(),
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let registry = ConnectionRegistry(
        maximum: connections.effectiveMaxConnections(fileLimit: FileDescriptorLimit.current)
    )
    return Application(
        router: buildRouter(
            store: store,
            metrics: metrics,
            tokens: tokens,
            masterKey: masterKey,
            options: options,
            maxUploadBytes: maxUploadBytes
        ),
        server: HTTPServerBuilder { GuardedHTTP1Channel(responder: $0, limits: connections, registry: registry) },
        configuration: .init(
            address: .hostname(host, port: port),
            serverName: "hubstore",
            availableConnectionsDelegate: RegistryAvailability(registry: registry)
        ),
        onServerRunning: onServerRunning,
        logger: logger
    )
}
