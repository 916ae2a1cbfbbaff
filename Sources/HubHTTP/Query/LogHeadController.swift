import Foundation
import HubCommands
import HubDomain
import HubEventLog
import HubReadModels
import HubSQLite
import HubVault
import Hummingbird

/// `GET /v1/log/head`: the latest signed checkpoint of the log's head, to be kept outside the data
/// directory and checked later with `hubstore verify --expect-head`.
///
/// Scope `hubstore.query` or `hubstore.admin`: it tells a position and a hash, nothing of any content,
/// and both the auditors who query the log and the operators who run it need it.
struct LogHeadController: Sendable {
    let store: EventStore
    let key: LogHeadKey

    /// The controller's routes, mounted with `router.addRoutes(_:)`.
    var endpoints: RouteCollection<HubRequestContext> {
        let router = RouteCollection(context: HubRequestContext.self)
        router.group("/v1/log").add(middleware: RequireScope(anyOf: .query, .admin)).get("/head") { request, _ in
            try ConfigurationController.refuseQueryParameters(request, allowed: [])
            guard let checkpoint = try await store.latestCheckpoint() else {
                throw APIError(
                    statusCode: 404,
                    code: "404-101",
                    developerMessage: "No signed checkpoint of the log's head yet: the log is empty, or the first "
                        + "checkpoint is not written yet."
                )
            }
            return SignedHead(checkpoint: checkpoint, key: key)
        }
        return router
    }
}
