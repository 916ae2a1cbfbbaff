import Foundation
import HTTPTypes
import HubDomain
import HubEventLog
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
        // Busy or unable to write: LivePerson's clients wait at least a second (spec §3).
        let headers: HTTPFields = errorCode / 100 == 429 || errorCode / 100 == 503 ? [.retryAfter: "1"] : [:]
        return JSONDocument(status: status, body: json, headers: headers).response(from: request, context: context)
    }
}

extension ConnectorError {
    /// The store's refusal in the connector's body: a full write queue is 429 `42901` (spec §3,
    /// proposed), a stopping hub or failing storage 503 `50301`; nothing of the request was kept.
    init(_ error: EventStoreError, reqId: String?) {
        switch error {
        case .overloaded:
            self.init(
                title: "Too many requests",
                details: "the hub is busy; retry after 1 s",
                errorCode: 42901,
                reqId: reqId
            )
        case .shuttingDown, .storage:
            self.init(
                title: "Service unavailable",
                details: "the hub cannot take this request now; nothing of it was kept; retry later",
                errorCode: 50301,
                reqId: reqId
            )
        case .wrongExpectedVersion, .eventTooLarge, .invalidEvent:
            self.init(title: "Bad request", details: "\(error)", errorCode: 40000, reqId: reqId)
        }
    }
}
