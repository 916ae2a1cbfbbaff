import Foundation
import HubCommands
import HubDomain
import HubEventLog
import HubReadModels
import HubVault
import Hummingbird

/// The query API's configuration routes (scope `hubstore.query`):
/// `GET /v1/accounts/{id}/configuration?asOf=` and `GET /v1/configuration/history?kind=&id=`.
struct ConfigurationQueryController: Sendable {
    let history: ConfigurationHistory

    /// The controller's routes, mounted with `router.addRoutes(_:)`.
    var endpoints: RouteCollection<HubRequestContext> {
        let router = RouteCollection(context: HubRequestContext.self)
        let group = router.group("/v1").add(middleware: RequireScope(anyOf: .query))
        group.get("/accounts/:id/configuration") { request, context in try await configuration(request, context) }
        group.get("/configuration/history") { request, _ in try await versions(request) }
        return router
    }

    /// `asOf`: a log position (digits) or an RFC 3339 time; absent means now.
    private func configuration(
        _ request: Request,
        _ context: HubRequestContext
    ) async throws -> AccountConfiguration {
        try ConfigurationController.refuseQueryParameters(request, allowed: ["asOf"])
        let id = try ConfigurationController.id(.account, context)
        let moment: ConfigurationHistory.Moment
        switch request.decodedQuery["asOf"] {
        case nil: moment = .now
        case let text? where !text.isEmpty && text.allSatisfy(\.isNumber):
            guard let position = Int64(text) else { throw Rejection.invalidValue("asOf", "position out of range") }
            moment = .position(position)
        case let text?:
            guard let milliseconds = Timestamp.milliseconds(text) else {
                throw Rejection.invalidValue("asOf", "must be a log position or an RFC 3339 time")
            }
            moment = .time(milliseconds)
        }
        guard let document = try await history.account(id, at: moment) else { throw Rejection.notFound(.account, id) }
        return AccountConfiguration(document: document, moment: moment, head: history.store.headPosition)
    }

    private func versions(_ request: Request) async throws -> ConfigurationVersions {
        try ConfigurationController.refuseQueryParameters(request, allowed: ["kind", "id"])
        let query = request.decodedQuery
        guard let kindText = query["kind"] else { throw Rejection.missingAttribute("kind") }
        guard
            let kind = ResourceKind.allCases.first(where: {
                $0.rawValue.lowercased() == kindText.lowercased() || $0.pathSegment == kindText.lowercased()
            })
        else {
            throw Rejection.invalidValue(
                "kind",
                "must be one of " + ResourceKind.allCases.map(\.rawValue).joined(separator: ", ")
            )
        }
        guard let id = query["id"] else { throw Rejection.missingAttribute("id") }
        let versions = try await history.versions(kind, id: id.lowercased())
        if versions.isEmpty { throw Rejection.notFound(kind, id) }
        return ConfigurationVersions(kind: kind, id: id.lowercased(), versions: versions)
    }
}
