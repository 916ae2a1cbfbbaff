import Foundation
import HTTPTypes
import HubCommands
import HubDomain
import HubEventLog
import HubReadModels
import HubVault
import Hummingbird
import NIOCore

/// Assets (spec §6): `POST /assets` (a signed upload URL), the upload itself (`POST`/`PUT` on that
/// URL), `GET /assets/{id}` (metadata and a signed download URL), the download, `DELETE /assets/{id}`.
/// The upload and download paths take no bearer token: their signature is the authorisation.
struct AssetController: Sendable {
    static let uploadPath = ConfigurationController.basePath + "/assets/upload"
    static let downloadPath = ConfigurationController.basePath + "/assets/download"
    let assets: AssetStore
    let signer: AssetURLSigner
    /// The largest upload (`--max-upload`): a larger declared `size` is refused, a larger body is a 413.
    var maxUploadBytes: Int64 = AssetController.defaultMaxUploadBytes
    /// 25 MiB.
    static let defaultMaxUploadBytes: Int64 = 25 << 20

    static let requestSchema = Schema([
        Field("channel", .object([Field("type", .string(max: 255), required: true)]), required: true),
        Field(
            "sender",
            .object([Field("type", .enumeration(SenderType.allCases.map(\.rawValue)), required: true)]),
            required: true
        ),
        Field("name", .string(max: 255), required: true),
        Field("size", .integer(min: 1), required: true),
    ])

    /// The controller's routes, mounted with `router.addRoutes(_:)`.
    var endpoints: RouteCollection<HubRequestContext> {
        let router = RouteCollection(context: HubRequestContext.self)
        let group = router.group(RouterPath(ConfigurationController.basePath + "/assets"))
        group.post("/upload") { request, context in try await upload(request, context, method: "POST") }
        group.put("/upload") { request, context in try await upload(request, context, method: "PUT") }
        group.get("/download") { request, _ in try await download(request) }
        group.group().add(middleware: RequireScope(anyOf: .interactionManage))
            .post { request, context in try await requestURL(request, context) }
            .delete(":id") { request, context in try await delete(request, context) }
        group.group().add(middleware: RequireScope(anyOf: .interactionManage, .interactionRead))
            .get(":id") { request, context in try await get(request, context) }
        return router
    }

    private func requestURL(_ request: Request, _ context: HubRequestContext) async throws -> AssetURL {
        try ConfigurationController.refuseQueryParameters(request, allowed: [])
        let body = try Self.requestSchema.validate(try await ConfigurationController.jsonBody(request))
        // The schema made `size` a whole number within Int64's range.
        guard let name = body["name"]?.stringValue, case .integer(let size)? = body["size"],
            let senderText = body.value(at: "sender.type")?.stringValue,
            let sender = SenderType(rawValue: senderText), let channel = body.value(at: "channel.type")?.stringValue
        else { throw Rejection.invalidValue("size", "must be a whole number of bytes") }
        guard size <= maxUploadBytes else {
            throw Rejection.invalidValue("size", "\(size) bytes is over this hub's upload limit of \(maxUploadBytes)")
        }
        let asset = try await assets.request(
            channelType: channel,
            senderType: sender,
            name: name,
            size: size,
            caller: ConfigurationController.caller(request, context)
        )
        let (signature, expiresAt) = signer.sign(method: "POST", asset: asset)
        return AssetURL(
            id: asset.id,
            asset: nil,
            url: Self.url(request, Self.uploadPath, signature),
            expiry: Timestamp.format(expiresAt)
        )
    }

    private func upload(_ request: Request, _ context: HubRequestContext, method: String) async throws -> NoContent {
        let claims = try verifiedSignature(request, method: "POST")
        let limit = maxUploadBytes
        if let length = request.headers[.contentLength].flatMap({ Int64($0) }), length > limit {
            throw APIError.uploadTooLarge(limit: limit)
        }
        try await assets.upload(
            id: claims.assetId,
            contentType: request.headers[.contentType] ?? "",
            caller: .init(actor: "signed-url", correlationId: EventID.makeV7())
        ) { spool in
            // Streamed to a file in pieces of at most 256 KiB: memory does not grow with the upload.
            var pending: [UInt8] = []
            var received: Int64 = 0
            for try await chunk in request.body {
                received += Int64(chunk.readableBytes)
                if received > limit { throw APIError.uploadTooLarge(limit: limit) }
                if received > claims.size {
                    throw Rejection.invalidValue("body", "more bytes sent than the \(claims.size) declared")
                }
                pending.append(contentsOf: chunk.readableBytesView)
                if pending.count >= 256 * 1024 {
                    try await spool.append(pending)
                    pending.removeAll(keepingCapacity: true)
                }
            }
            try await spool.append(pending)
        }
        return NoContent()
    }

    private func download(_ request: Request) async throws -> AssetDownload {
        let claims = try verifiedSignature(request, method: "GET")
        guard let asset = try await assets.get(claims.assetId), asset.state != "deleted", let hash = asset.sha256
        else { throw Rejection.assetNotFound(claims.assetId) }
        let files = assets.files
        let bytes = try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try files.read(sha256: hash) }) }
        }
        return AssetDownload(asset: asset, bytes: bytes)
    }

    private func get(_ request: Request, _ context: HubRequestContext) async throws -> AssetURL {
        try ConfigurationController.refuseQueryParameters(request, allowed: [])
        try ConfigurationController.requireAcceptsJSON(request)
        let id = try Self.id(context)
        guard let asset = try await assets.get(id), asset.state != "deleted" else { throw Rejection.assetNotFound(id) }
        let (signature, expiresAt) = signer.sign(method: "GET", asset: asset)
        return AssetURL(
            id: asset.id,
            asset: asset,
            url: Self.url(request, Self.downloadPath, signature),
            expiry: Timestamp.format(expiresAt)
        )
    }

    private func delete(_ request: Request, _ context: HubRequestContext) async throws -> NoContent {
        try ConfigurationController.refuseQueryParameters(request, allowed: [])
        try await assets.delete(id: try Self.id(context), caller: ConfigurationController.caller(request, context))
        return NoContent()
    }

    private func verifiedSignature(_ request: Request, method: String) throws -> AssetURLSigner.Claims {
        guard let signature = request.decodedQuery["signature"],
            let claims = signer.verify(signature), claims.method == method
        else {
            throw APIError(
                statusCode: 401,
                code: "401-104",
                developerMessage: "The URL's signature is missing, invalid or expired; request a new URL."
            )
        }
        return claims
    }

    static func id(_ context: HubRequestContext) throws -> String {
        let id = context.parameters.get("id") ?? ""
        guard Schema.isUUID(id) else { throw Rejection.assetNotFound(id) }
        return id.lowercased()
    }

    /// An absolute URL on this hub, as the caller reached it (`Host`, `X-Forwarded-Proto`).
    static func url(_ request: Request, _ path: String, _ signature: String) -> String {
        let host = request.head.authority ?? "localhost"
        let scheme = request.headers[HTTPField.Name("X-Forwarded-Proto")!] ?? "http"
        return "\(scheme)://\(host)\(path)?signature=\(signature)"
    }
}

extension APIError {
    /// 413 `413-101`: an upload larger than the hub takes (`--max-upload`).
    static func uploadTooLarge(limit: Int64) -> APIError {
        APIError(
            statusCode: 413,
            code: "413-101",
            developerMessage: "The upload is larger than this hub's limit of \(limit) bytes.",
            details: [.init(key: "limit", value: String(limit))]
        )
    }
}
