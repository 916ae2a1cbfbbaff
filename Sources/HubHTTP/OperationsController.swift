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
        router.get("/healthz") { _, _ in Health(status: .ok, fields: ["status": "ok"]) }
        router.get("/readyz") { _, _ in
            // Migrations are applied before the store exists; the writer must be taking commands, and
            // its storage must take writes (while it does not, each probe tries one small write).
            guard store.writer.isRunning else {
                return Health(status: .serviceUnavailable, fields: ["status": "starting"])
            }
            guard await store.probeStorage() else {
                return Health(
                    status: .serviceUnavailable,
                    fields: [
                        "status": "storage-failing", "position": "\(store.headPosition)",
                        "error": store.writer.storageFailure?.code.summary ?? "",
                    ]
                )
            }
            return Health(status: .ok, fields: ["status": "ready", "position": "\(store.headPosition)"])
        }
        router.group("/metrics").add(middleware: RequireScope(anyOf: .admin)).get { _, _ in
            MetricsScrape(text: metrics.scrape(store))
        }
        return router
    }

    /// A probe's answer: `{"status", …}`, all strings.
    struct Health: JSONResponse {
        var status: HTTPResponse.Status
        var fields: [String: String]
        var json: JSONValue { .object(fields.mapValues(JSONValue.string)) }
    }

    /// The Prometheus text exposition format.
    struct MetricsScrape: ResponseGenerator {
        var text: [UInt8]

        func response(from request: Request, context: some RequestContext) -> Response {
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: text))
            )
        }
    }
}
