/// Options of the HTTP API itself, as `hubstore serve` sets them.
public struct APIOptions: Sendable, Equatable {
    /// Cross-origin access; off by default.
    public var cors: CORSPolicy

    public init(cors: CORSPolicy = .init()) {
        self.cors = cors
    }
}
