/// Why the hub refuses what it was asked, as the rules see it: a reason, a message for developers and
/// the attributes concerned. No HTTP status and no API error code here: HubHTTP maps each reason to the
/// API's own error (status and code) in one place.
public struct Rejection: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: String, Sendable, Equatable, CaseIterable {
        /// An attribute's value is not acceptable.
        case invalidValue
        /// A required attribute is missing.
        case missingAttribute
        /// Another resource of the kind already has the unique name (or account route).
        case duplicate
        /// A reference to something that does not exist (or is inactive).
        case unknownReference
        /// The resource is referred to and cannot be deleted.
        case inUse
        /// The asset is used in a message and cannot be deleted.
        case assetInUse
        /// The conversation has ended.
        case conversationEnded
        /// The resource changed since the `modified` the request was based on.
        case staleModification
        /// The sender may not send this type of message.
        case notPermitted
        /// No such resource.
        case notFound
    }

    /// One `{key, value}` naming what the rejection is about.
    public struct Detail: Sendable, Equatable {
        public var key: String
        public var value: String

        public init(key: String, value: String) {
            self.key = key
            self.value = value
        }
    }

    public var reason: Reason
    public var message: String
    public var details: [Detail]

    public init(_ reason: Reason, _ message: String, details: [Detail] = []) {
        self.reason = reason
        self.message = message
        self.details = details
    }

    public var description: String { "\(reason.rawValue): \(message)" }

    /// A required attribute is missing.
    public static func missingAttribute(_ path: String) -> Rejection {
        Rejection(
            .missingAttribute,
            "Required attribute is missing in the request body: \(path)",
            details: [Detail(key: "attribute", value: path)]
        )
    }

    /// An attribute's value is not acceptable.
    public static func invalidValue(_ path: String, _ reason: String) -> Rejection {
        Rejection(
            .invalidValue,
            "Invalid value for attribute \(path): \(reason)",
            details: [Detail(key: "attribute", value: path)]
        )
    }
}
