public import HubDomain

/// An error in the Conversation Manager API's own format (spec §1.4):
/// `{"code": "<status>-<n>", "developerMessage": "...", "details": [{"key", "value"}], "userMessage"}`.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// One `{key, value}` of `details`.
    public struct Detail: Sendable, Equatable {
        public var key: String
        public var value: String

        public init(key: String, value: String) {
            self.key = key
            self.value = value
        }
    }

    /// The HTTP status code.
    public var statusCode: Int
    /// `<status>-<n>`, e.g. `400-143`.
    public var code: String
    public var developerMessage: String
    /// Shown only when the caller sends `X-egain-error-message: yes`.
    public var userMessage: String
    public var details: [Detail]

    public init(
        statusCode: Int,
        code: String,
        developerMessage: String,
        userMessage: String? = nil,
        details: [Detail] = []
    ) {
        self.statusCode = statusCode
        self.code = code
        self.developerMessage = developerMessage
        self.userMessage = userMessage ?? developerMessage
        self.details = details
    }

    public var description: String { "\(code): \(developerMessage)" }

    /// A domain rejection in the API's format: its status and code (spec §1.4), message and details.
    public init(_ rejection: Rejection) {
        let (status, code): (Int, String) =
            switch rejection.reason {
            case .invalidValue: (400, "400-102")
            case .missingAttribute: (400, "400-143")
            case .duplicate: (400, "400-144")
            case .unknownReference: (400, "400-145")
            case .inUse: (400, "400-146")
            case .assetInUse: (400, "400-147")
            case .conversationEnded: (400, "400-148")
            case .staleModification: (400, "400-150")
            case .notPermitted: (403, "403-102")
            case .notFound: (404, "404-101")
            }
        self.init(
            statusCode: status,
            code: code,
            developerMessage: rejection.message,
            details: rejection.details.map { Detail(key: $0.key, value: $0.value) }
        )
    }

    // MARK: - The codes of spec §1.4

    /// 401 `401-104`: no bearer token, or one that is invalid, expired or revoked.
    public static let invalidAuthorization = APIError(
        statusCode: 401,
        code: "401-104",
        developerMessage: "Invalid or missing 'Authorization' header value.",
        userMessage: "Your session is not valid. Generate a new Authorization header and retry."
    )

    /// 403 `403-101`: the token is valid but lacks every scope the route accepts.
    /// 404 `404-101` for a conversation id that names none (or is not an id at all).
    static func conversationNotFound(_ id: String) -> APIError {
        APIError(
            statusCode: 404,
            code: "404-101",
            developerMessage: "Conversation with id \(id) was not found.",
            details: [.init(key: "id", value: id)]
        )
    }

    public static func insufficientScope(acceptedScopes: [Scope]) -> APIError {
        APIError(
            statusCode: 403,
            code: "403-101",
            developerMessage: "The token lacks the required scope: one of "
                + acceptedScopes.map(\.rawValue).joined(separator: ", ") + ".",
            userMessage: "You are not allowed to do this.",
            details: acceptedScopes.map { Detail(key: "scope", value: $0.rawValue) }
        )
    }
}
