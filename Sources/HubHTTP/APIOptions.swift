/// Options of the HTTP API itself (CORS, token throttling), as `hubstore serve` sets them.
public struct APIOptions: Sendable, Equatable {
    /// Cross-origin access; off by default.
    public var cors: CORSPolicy
    /// Throttling of failed `/oauth2/token` authentications.
    public var tokenThrottle: TokenThrottlePolicy

    public init(cors: CORSPolicy = .init(), tokenThrottle: TokenThrottlePolicy = .init()) {
        self.cors = cors
        self.tokenThrottle = tokenThrottle
    }
}
