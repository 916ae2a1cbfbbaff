import HubDomain
import Hummingbird

/// A lookalike of LivePerson's Domain API (connector spec §1): every service a connector looks up
/// (`sentinel`, `idp`, `asyncMessagingEnt`, `swift`, any other) is on this hub, at the host the
/// connector reached it by. Open: the real API needs no credentials either.
///
/// - `GET /api/account/{a}/service/{name}/baseURI.json?version=1.0` → `{"service","account","baseURI"}`
/// - `GET /api/account/{a}/service/baseURI.json?version=1.0` (or `…/baseURI`) → `{"baseURIs":[…]}`
struct DomainController: Sendable {
    static let basePath = "/api/account/:accountId/service"
    /// The services the all-services form lists (LivePerson's connector-related ones).
    static let services = ["sentinel", "idp", "asyncMessagingEnt", "swift", "leDataReporting", "agentVep"]

    var endpoints: RouteCollection<HubRequestContext> {
        let router = RouteCollection(context: HubRequestContext.self)
        router.get(RouterPath(Self.basePath + "/baseURI.json")) { request, context in try all(request, context) }
        router.get(RouterPath(Self.basePath + "/baseURI")) { request, context in try all(request, context) }
        router.get(RouterPath(Self.basePath + "/:service/baseURI.json")) { request, context in
            let service = context.parameters.get("service") ?? ""
            guard (1...64).contains(service.utf8.count) else {
                throw ConnectorError.missingParameter("the service name must be 1 to 64 characters")
            }
            return JSONDocument(body: entry(service, try account(context), host(request)))
        }
        return router
    }

    private func all(_ request: Request, _ context: HubRequestContext) throws -> JSONDocument {
        let (account, host) = (try account(context), host(request))
        return JSONDocument(body: .object(["baseURIs": .array(Self.services.map { entry($0, account, host) })]))
    }

    private func entry(_ service: String, _ account: String, _ host: String) -> JSONValue {
        .object(["service": .string(service), "account": .string(account), "baseURI": .string(host)])
    }

    private func account(_ context: HubRequestContext) throws -> String {
        try ConnectorTokenController.account(context)
    }

    /// The host (and port) the caller used, as LivePerson answers it: without a scheme.
    private func host(_ request: Request) -> String {
        request.head.authority ?? "localhost"
    }
}
