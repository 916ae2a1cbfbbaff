public import HubStore

/// Everything `hubstore serve` needs: where to listen and how to open the store.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var store: EventStoreConfiguration

    public init(host: String = "127.0.0.1", port: Int = 8080, store: EventStoreConfiguration) {
        self.host = host
        self.port = port
        self.store = store
    }
}
