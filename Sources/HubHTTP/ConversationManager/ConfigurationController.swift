import Foundation
import HTTPTypes
import HubCommands
import HubDomain
import HubEventLog
import HubReadModels
import HubVault
import Hummingbird
import NIOCore

/// The six configuration resources under `/conversation/conversationmgr/v3` (spec §2–§3):
/// POST (201 `{id}`), GET list (paginated), GET by id, PUT (204), DELETE (204).
struct ConfigurationController: Sendable {
    static let basePath = "/conversation/conversationmgr/v3"
    let configuration: ConfigurationStore

    /// The controller's routes, mounted with `router.addRoutes(_:)`.
    var endpoints: RouteCollection<HubRequestContext> {
        let router = RouteCollection(context: HubRequestContext.self)
        for kind in ResourceKind.allCases {
            let group = router.group(RouterPath(Self.basePath + "/" + kind.pathSegment))
            let manage = RequireScope(anyOf: .manage)
            let read = RequireScope(anyOf: .manage, .read)
            group.group().add(middleware: manage)
                .post { request, context in try await create(kind, request, context) }
                .put(":id") { request, context in try await update(kind, request, context) }
                .delete(":id") { request, context in try await delete(kind, request, context) }
            group.group().add(middleware: read)
                .get { request, context in try await list(kind, request, context) }
                .get(":id") { request, context in try await get(kind, request, context) }
        }
        return router
    }

    private func create(
        _ kind: ResourceKind,
        _ request: Request,
        _ context: HubRequestContext
    ) async throws -> CreatedResource {
        try Self.refuseQueryParameters(request, allowed: [])
        let body = try kind.validate(try await Self.jsonBody(request))
        let id = try await configuration.create(kind, body: body, caller: Self.caller(request, context))
        return CreatedResource(id: id)
    }

    private func update(
        _ kind: ResourceKind,
        _ request: Request,
        _ context: HubRequestContext
    ) async throws -> NoContent {
        try Self.refuseQueryParameters(request, allowed: [])
        let id = try Self.id(kind, context)
        let raw = try await Self.jsonBody(request)
        let body = try kind.validate(raw)
        var modified: String?
        switch raw["modified"] {
        case nil, .null?: modified = nil
        case .string(let text)?:
            guard Timestamp.milliseconds(text) != nil else {
                throw Rejection.invalidValue("modified", "must be a date-time like 2021-03-06T21:16:36.838Z")
            }
            modified = text
        default: throw Rejection.invalidValue("modified", "must be a date-time string")
        }
        try await configuration.update(
            kind,
            id: id,
            body: body,
            modified: modified,
            caller: Self.caller(request, context)
        )
        return NoContent()
    }

    private func delete(
        _ kind: ResourceKind,
        _ request: Request,
        _ context: HubRequestContext
    ) async throws -> NoContent {
        try Self.refuseQueryParameters(request, allowed: [])
        try await configuration.delete(kind, id: try Self.id(kind, context), caller: Self.caller(request, context))
        return NoContent()
    }

    private func get(
        _ kind: ResourceKind,
        _ request: Request,
        _ context: HubRequestContext
    ) async throws -> JSONDocument {
        try Self.refuseQueryParameters(request, allowed: [])
        try Self.requireAcceptsJSON(request)
        let id = try Self.id(kind, context)
        guard let state = try await configuration.get(kind, id: id) else { throw Rejection.notFound(kind, id) }
        return JSONDocument(body: state)
    }

    private func list(
        _ kind: ResourceKind,
        _ request: Request,
        _ context: HubRequestContext
    ) async throws -> ResourcePage {
        try Self.refuseQueryParameters(request, allowed: ["$pagenum", "$pagesize"])
        try Self.requireAcceptsJSON(request)
        let query = request.decodedQuery
        let page = try Self.integer(
            query["$pagenum"],
            name: "$pagenum",
            default: 1,
            range: 1...Int(Int32.max)
        )
        let size = try Self.integer(query["$pagesize"], name: "$pagesize", default: 10, range: 1...75)
        let (total, items) = try await configuration.list(kind, page: page, pageSize: size)
        return ResourcePage(kind: kind, total: total, page: page, size: size, items: items)
    }

    /// The actor is the token's client; the correlation id is the caller's `X-Request-Id`, or a new one
    /// (one configuration request can append to several streams, and its id ties their events together).
    static func caller(_ request: Request, _ context: HubRequestContext) -> ConfigurationStore.Caller {
        caller(context, correlationId: requestId(request) ?? EventID.makeV7())
    }

    /// The token's client as the actor, with the correlation id given.
    static func caller(_ context: HubRequestContext, correlationId: String?) -> ConfigurationStore.Caller {
        .init(actor: context.caller?.subject ?? "anonymous", correlationId: correlationId)
    }

    /// The caller's `X-Request-Id`, when it sent a usable one (1 to 255 characters).
    static func requestId(_ request: Request) -> String? {
        request.headers[HTTPField.Name("X-Request-Id")!].flatMap { $0.isEmpty || $0.count > 255 ? nil : $0 }
    }

    // MARK: - Request parsing

    static func id(_ kind: ResourceKind, _ context: HubRequestContext) throws -> String {
        let id = context.parameters.get("id") ?? ""
        // Ids are 36-character UUIDs; anything else cannot name a resource.
        guard Schema.isUUID(id) else { throw Rejection.notFound(kind, id) }
        return id.lowercased()
    }

    static func refuseQueryParameters(_ request: Request, allowed: Set<String>) throws {
        let unknown = request.decodedQuery.names.subtracting(allowed).sorted()
        if !unknown.isEmpty { throw APIError.unsupportedQueryParameters(unknown) }
    }

    /// 406 on a GET whose `Accept` excludes `application/json` (spec §1.3), weighed per RFC 9110.
    static func requireAcceptsJSON(_ request: Request) throws {
        _ = try request.negotiate(["application/json"])
    }

    static func integer(_ text: String?, name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw APIError(
                statusCode: 400,
                code: "400-102",
                developerMessage:
                    "Invalid value for query parameter \(name): must be an integer from \(range.lowerBound) to \(range.upperBound)",
                details: [.init(key: "parameter", value: name)]
            )
        }
        return number
    }

    /// The body as JSON; a wrong content type or malformed JSON is a 400, never a 500.
    static func jsonBody(_ request: Request) async throws -> JSONValue {
        guard let type = request.headers[.contentType]?.lowercased(), type.hasPrefix("application/json") else {
            throw Rejection.invalidValue("Content-Type", "the request body must be application/json")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: Self.maxJSONBody)
        } catch is NIOTooManyBytesError {
            throw APIError.bodyTooLarge(limit: Self.maxJSONBody)
        }
        do {
            return try JSONValue.parse(bytes: buffer.readableBytesView)
        } catch {
            throw Rejection.invalidValue("body", "the request body is not valid JSON")
        }
    }

    /// The largest JSON body a configuration or message route reads.
    static let maxJSONBody = 1024 * 1024
}

extension APIError {
    /// 400 `400-101`: unsupported query parameters.
    static func unsupportedQueryParameters(_ names: [String]) -> APIError {
        APIError(
            statusCode: 400,
            code: "400-101",
            developerMessage: "Unsupported query parameter(s) supplied: "
                + names.map { "'\($0)'" }.joined(separator: ", "),
            details: names.map { .init(key: "parameter", value: $0) }
        )
    }
}
