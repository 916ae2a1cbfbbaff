import HubCommands
import HubDomain
import HubReadModels
import Hummingbird

/// LivePerson connector app installations, at LivePerson's App Install path (connector spec §2.1,
/// §8.1), for the hub's administrators (scope `hubstore.admin`, errors in the hub's own format):
/// POST (201, with `client_id` and the `client_secret`, shown this once), GET list, GET, PUT (200, the
/// installation as it now is), DELETE (204).
///
/// `{accountId}` is the LivePerson account id: the `address` of the HubStore Account whose
/// orchestration answers the connector's conversations.
struct AppInstallController: Sendable {
    static let path = "/api/account/:accountId/configuration/app-install/installations"
    let installations: AppInstallations
    let apps: ConnectorApps

    var endpoints: RouteCollection<HubRequestContext> {
        let router = RouteCollection(context: HubRequestContext.self)
        let group = router.group(RouterPath(Self.path)).add(middleware: RequireScope(anyOf: .admin))
        group.post { request, context in try await create(request, context) }
        group.get { request, context in try await list(request, context) }
        group.get(":id") { request, context in try await get(request, context) }
        group.put(":id") { request, context in try await update(request, context) }
        group.delete(":id") { request, context in try await delete(request, context) }
        return router
    }

    private func create(_ request: Request, _ context: HubRequestContext) async throws -> JSONDocument {
        let account = try Self.account(context)
        let body = try AppInstallation.validate(try await ConfigurationController.jsonBody(request))
        let (id, secret) = try await installations.create(
            account: account,
            installation: body,
            caller: ConfigurationController.caller(request, context)
        )
        var fields = ConnectorApp.json(id: id, installation: body)
        fields["client_secret"] = .string(secret)
        return JSONDocument(status: .created, body: .object(fields))
    }

    private func list(_ request: Request, _ context: HubRequestContext) async throws -> JSONDocument {
        try ConfigurationController.refuseQueryParameters(request, allowed: [])
        return JSONDocument(body: .array(try await apps.list(account: try Self.account(context)).map(\.json)))
    }

    private func get(_ request: Request, _ context: HubRequestContext) async throws -> JSONDocument {
        try ConfigurationController.refuseQueryParameters(request, allowed: [])
        return JSONDocument(body: try await installation(try Self.account(context), try Self.id(context)).json)
    }

    private func update(_ request: Request, _ context: HubRequestContext) async throws -> JSONDocument {
        let (account, id) = (try Self.account(context), try Self.id(context))
        let body = try AppInstallation.validate(try await ConfigurationController.jsonBody(request))
        try await installations.update(
            account: account,
            id: id,
            installation: body,
            caller: ConfigurationController.caller(request, context)
        )
        return JSONDocument(body: .object(ConnectorApp.json(id: id, installation: body)))
    }

    private func delete(_ request: Request, _ context: HubRequestContext) async throws -> NoContent {
        try await installations.delete(
            account: try Self.account(context),
            id: try Self.id(context),
            caller: ConfigurationController.caller(request, context)
        )
        return NoContent()
    }

    private func installation(_ account: String, _ id: String) async throws -> ConnectorApp {
        guard let app = try await apps.app(account: account, id: id) else { throw Rejection.noAppInstallation(id) }
        return app
    }

    /// The path's account id: 1 to 64 characters (``ConnectorAccountPath``).
    static func account(_ context: HubRequestContext) throws -> String {
        guard let account = ConnectorAccountPath.account(context) else {
            throw Rejection.invalidValue("accountId", "must be 1 to 64 characters")
        }
        return account
    }

    private static func id(_ context: HubRequestContext) throws -> String {
        let id = context.parameters.get("id") ?? ""
        guard Schema.isUUID(id) else { throw Rejection.noAppInstallation(id) }
        return id.lowercased()
    }
}
