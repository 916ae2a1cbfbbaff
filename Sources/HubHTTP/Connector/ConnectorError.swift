import Foundation
import HTTPTypes
import HubDomain
import Hummingbird
import NIOCore

/// An error of the LivePerson connector routes in LivePerson's own body (connector spec §2.5):
///
/// ```json
/// {"kind":"resp","code":401,
///  "body":{"title":"AppJWT is missing","details":"AUTHORIZATION header is not present","errorCode":40105},
///  "type":".ReqBody$ErrorResp"}
/// ```
///
/// The first three digits of `errorCode` are the HTTP status.
struct ConnectorError: Error, HTTPResponseError, Equatable {
    var title: String
    var details: String
    var errorCode: Int
    /// The refused request's id, echoed as `reqId` (CONVERSATION and SEND).
    var reqId: String? = nil

    var status: HTTPResponse.Status { HTTPResponse.Status(code: errorCode / 100) }

    static let appJWTMissing = ConnectorError(
        title: "AppJWT is missing",
        details: "AUTHORIZATION header is not present",
        errorCode: 40105
    )
    static let appJWTInvalid = ConnectorError(
        title: "Invalid AppJWT",
        details: "AppJWT has expired or is invalid",
        errorCode: 40102
    )
    static let consumerJWSMissing = ConnectorError(
        title: "ConsumerJWS is missing",
        details: "X_ON_BEHALF_HEADER is not present",
        errorCode: 40104
    )
    static let consumerJWSInvalid = ConnectorError(
        title: "Invalid ConsumerJWS",
        details: "ConsumerJWS is invalid",
        errorCode: 40103
    )
    /// The documented "consumer A touching consumer B's conversation", and any conversation or dialog
    /// the consumer does not have (existence is not told apart).
    static let notConsumersConversation = ConnectorError(
        title: "Invalid ConsumerJWS",
        details: "Consumer is not authorized for this conversation",
        errorCode: 40103
    )

    static func missingParameter(_ details: String) -> ConnectorError {
        ConnectorError(title: "Missing parameter", details: details, errorCode: 40001)
    }

    static func badRequest(_ details: String, errorCode: Int = 40000) -> ConnectorError {
        ConnectorError(title: "Bad request", details: details, errorCode: errorCode)
    }

    /// The body's JSON.
    var json: JSONValue { json(reqId: reqId) }

    /// The body's JSON with a `reqId` (an error inside a CONVERSATION's response array).
    func json(reqId: String?) -> JSONValue {
        var fields: [String: JSONValue] = [
            "kind": "resp", "code": .integer(Int64(errorCode / 100)),
            "body": .object([
                "title": .string(title), "details": .string(details), "errorCode": .integer(Int64(errorCode)),
            ]),
            "type": ".ReqBody$ErrorResp",
        ]
        if let reqId { fields["reqId"] = .string(reqId) }
        return .object(fields)
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        JSONDocument(status: status, body: json).response(from: request, context: context)
    }
}
