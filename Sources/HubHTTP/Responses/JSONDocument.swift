import HTTPTypes
import HubDomain
import Hummingbird
import NIOCore

/// A JSON document and its status: the body every typed response of the API renders to (compact,
/// keys sorted, as ``JSONValue/text`` writes it).
struct JSONDocument: ResponseGenerator {
    var status: HTTPResponse.Status = .ok
    var body: JSONValue
    var headers: HTTPFields = [:]

    func response(from request: Request, context: some RequestContext) -> Response {
        var headers = self.headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body.text)))
    }
}

/// 204 with no body: a change was applied (PUT, DELETE, an upload).
struct NoContent: ResponseGenerator {
    func response(from request: Request, context: some RequestContext) -> Response {
        Response(status: .noContent)
    }
}

/// A typed response whose body is one JSON document.
protocol JSONResponse: ResponseGenerator {
    var status: HTTPResponse.Status { get }
    var json: JSONValue { get }
}

extension JSONResponse {
    var status: HTTPResponse.Status { .ok }

    func response(from request: Request, context: some RequestContext) -> Response {
        JSONDocument(status: status, body: json).response(from: request, context: context)
    }
}
