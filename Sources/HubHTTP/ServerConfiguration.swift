import HubCommands
public import HubDelivery
public import HubEventLog
import HubReadModels
import HubVault

/// Everything `hubstore serve` needs: where to listen, how to open the store, how to deliver.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var store: EventStoreConfiguration
    public var delivery: DeliveryConfiguration
    /// How long an asset may stay unused (requested or uploaded, not attached) before it expires.
    public var assetLifetime: Duration
    /// Idle and request timeouts, and the most connections open at once.
    public var connections = ConnectionLimits()
    /// A signed checkpoint of the log's head every this many events ...
    public var checkpointEvents: Int64 = 1000
    /// ... or after this long, whichever comes first (and at shutdown).
    public var checkpointInterval: Duration = .seconds(10)
    /// How often the search index is merged when a `delete.permanent` asked for it (`SearchIndexMerge`):
    /// the longest the deleted text's words stay in the index's segments.
    public var searchMergeInterval: Duration = .seconds(10)
    /// CORS and `/oauth2/token` throttling.
    public var api = APIOptions()
    /// The largest asset upload, in bytes (`--max-upload`, default 25 MiB).
    public var maxUploadBytes: Int64 = 25 << 20

    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        store: EventStoreConfiguration,
        delivery: DeliveryConfiguration = .init(),
        assetLifetime: Duration = .seconds(24 * 3600)
    ) {
        self.host = host
        self.port = port
        self.store = store
        self.delivery = delivery
        self.assetLifetime = assetLifetime
    }
}
