import Foundation
import Hummingbird

/// The `{accountId}` of a LivePerson-style path: the address of a HubStore account.
enum ConnectorAccountPath {
    /// The path's account, percent-decoded (the router hands path parameters over as sent), when it is
    /// 1 to 64 characters (Unicode scalars, as the OpenAPI document's `maxLength` counts); `nil`
    /// otherwise, or when its percent-encoding is broken.
    static func account(_ context: HubRequestContext) -> String? {
        guard let account = (context.parameters.get("accountId") ?? "").removingPercentEncoding,
            (1...64).contains(account.unicodeScalars.count)
        else { return nil }
        return account
    }
}
