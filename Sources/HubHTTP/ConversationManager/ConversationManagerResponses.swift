import Foundation
import HTTPTypes
import HubCommands
import HubDomain
import HubReadModels
import Hummingbird
import NIOCore

/// 201 `{"id"}`: a configuration resource was created (spec §3).
struct CreatedResource: JSONResponse {
    var id: String
    var status: HTTPResponse.Status { .created }
    var json: JSONValue { .object(["id": .string(id)]) }
}

/// One page of a configuration resource list, with its `paginationInfo` (spec §3).
struct ResourcePage: JSONResponse {
    var kind: ResourceKind
    var total: Int
    var page: Int
    var size: Int
    var items: [JSONValue]

    var json: JSONValue {
        .object([
            "paginationInfo": .object([
                "count": .integer(Int64(total)), "pagenum": .integer(Int64(page)), "pagesize": .integer(Int64(size)),
            ]),
            kind.itemName: .array(items),
        ])
    }
}

/// 202: the messages of a send, each with the hub's id (spec §4).
struct AcceptedMessages: JSONResponse {
    var accepted: [AcceptedMessage]
    var status: HTTPResponse.Status { .accepted }
    var json: JSONValue { .object(["messages": .object(["message": .array(accepted.map(\.json))])]) }
}

/// Where to send an asset's bytes, or fetch them: a signed URL and when it expires (spec §6).
struct AssetURL: JSONResponse {
    var id: String
    /// The asset's description, for a GET; `nil` answering an upload request.
    var asset: AssetRecord?
    var url: String
    var expiry: String

    var json: JSONValue {
        var fields: [String: JSONValue] = [
            "id": .string(id), "contentUrl": .string(url), "contentUrlExpiry": .string(expiry),
        ]
        if let asset {
            fields["name"] = .string(asset.name)
            fields["size"] = .integer(asset.size)
            fields["contentType"] = .string(asset.contentType)
        }
        return .object(fields)
    }
}

/// An asset's bytes, as an attachment named after it.
struct AssetDownload: ResponseGenerator {
    var asset: AssetRecord
    var bytes: [UInt8]

    func response(from request: Request, context: some RequestContext) -> Response {
        let fileName = asset.name.replacingOccurrences(of: "\"", with: "")
        return Response(
            status: .ok,
            headers: [.contentType: asset.contentType, .contentDisposition: "attachment; filename=\"\(fileName)\""],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }
}
