import Foundation
public import HTTPTypes
import HubDomain
public import Hummingbird
import NIOCore

/// Renders an ``APIError`` as the Conversation Manager API's error body; `userMessage` only when the
/// caller sent `X-egain-error-message: yes`.
extension APIError: HTTPResponseError {
    public var status: HTTPResponse.Status { HTTPResponse.Status(code: statusCode) }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var body: [String: Any] = ["code": code, "developerMessage": developerMessage]
        if !details.isEmpty {
            body["details"] = details.map { ["key": $0.key, "value": $0.value] }
        }
        if request.headers[HTTPField.Name("X-egain-error-message")!]?.lowercased() == "yes" {
            body["userMessage"] = userMessage
        }
        let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes])
        var headers: HTTPFields = [.contentType: "application/json"]
        if statusCode == 401 { headers[.wwwAuthenticate] = "Bearer" }
        if statusCode == 503 { headers[.retryAfter] = "1" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
