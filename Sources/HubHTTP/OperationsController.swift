import Foundation
import HTTPTypes
import HubCommands
import HubDomain
import HubEventLog
import HubReadModels
import HubSQLite
import HubVault
import Hummingbird
import NIOCore

/// `/healthz` and `/readyz` (open, for probes) and `/metrics` (scope `hubstore.admin`, for scrapers).
struct OperationsController: Sendable {
    let store: EventStore
    let metrics: HubMetrics

    /// The controller's routes, mounted with `router.addRoutes(_:)`.
    var endpoints: RouteCollection<HubRequestContext> {
        let router = RouteCollection(context: HubRequestContext.self)
        router.get("/healthz") { _, _ in
            Self.json(.ok, ["status": "ok"])
        }
        router.get("/readyz") { _, _ in
            // Migrations are applied before the store exists; the writer must be taking commands, and
            // its storage must take writes (while it does not, each probe tries one small write).
            guard store.writer.isRunning else { return Self.json(.serviceUnavailable, ["status": "starting"]) }
            guard await store.probeStorage() else {
                return Self.json(
                    .serviceUnavailable,
                    [
                        "status": "storage-failing", "position": "\(store.headPosition)",
                        "error": store.writer.storageFailure?.code.summary ?? "",
                    ]
                )
            }
            return Self.json(.ok, ["status": "ready", "position": "\(store.headPosition)"])
        }
        router.group("/metrics").add(middleware: RequireScope(anyOf: .admin)).get { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.scrape(store)))
            )
        }
        return router
    }

    static func json(_ status: HTTPResponse.Status, _ fields: [String: String]) -> Response {
        let body = (try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: body))
        )
    }
}
