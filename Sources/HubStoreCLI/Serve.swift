import ArgumentParser
import HubDelivery
import HubDomain
import HubHTTP
import HubSQLite
import HubStore

extension HubStoreCommand {
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the hub: the HTTP API over the event log in the data directory.",
            discussion: """
                Stops gracefully on SIGTERM or SIGINT: stops accepting requests, commits what is queued, \
                checkpoints the WAL and exits 0. A second `serve` on the same data directory refuses to start.
                """
        )

        @OptionGroup var dataOptions: DataOptions

        @Option(help: "Address to listen on (env HUBSTORE_HOST; default 127.0.0.1).")
        var host: String?

        @Option(help: "Port to listen on; 0 picks a free one (env HUBSTORE_PORT; default 8080).")
        var port: Int?

        @Option(
            help: """
                full: every acknowledged write survives power loss; normal: faster, may lose the last \
                commits on power loss, never on a crash (env HUBSTORE_SYNCHRONOUS; default full).
                """
        )
        var synchronous: ConnectionConfiguration.Synchronous?

        @Option(
            name: .customLong("delivery-retries"),
            help: """
                Waits before each retry of a failed callback, comma-separated (ms, s, m); after the last \
                the message is failed (env HUBSTORE_DELIVERY_RETRIES; default 1s,5s,30s,2m).
                """
        )
        var deliveryRetries: String?

        @Option(
            name: .customLong("delivery-batch"),
            help: """
                Most messages one callback POST carries: messages due together for one application role \
                share a call (spec: one or more messages per call); 1 sends each alone \
                (env HUBSTORE_DELIVERY_BATCH; default 25).
                """
        )
        var deliveryBatch: Int?

        @Option(
            name: .customLong("asset-lifetime"),
            help: """
                How long an asset may stay unused (requested or uploaded, never attached to a message) \
                before it expires (ms, s, m, h; env HUBSTORE_ASSET_LIFETIME; default 24h).
                """
        )
        var assetLifetime: String?

        @Option(
            name: .customLong("max-upload"),
            help: """
                The largest asset upload: a larger declared size is refused (400) and a larger body \
                answered 413 (bytes, or KiB, MiB, GiB; env HUBSTORE_MAX_UPLOAD; default 25MiB).
                """
        )
        var maxUpload: String?

        @OptionGroup var logging: LoggingOptions

        func run() async throws {
            var configuration = ServerConfiguration(
                host: try resolve(host, environment: "HUBSTORE_HOST", default: "127.0.0.1"),
                port: try resolve(port, environment: "HUBSTORE_PORT", default: 8080),
                store: EventStoreConfiguration(
                    dataDirectory: try dataOptions.resolvedData(),
                    synchronous: try resolve(synchronous, environment: "HUBSTORE_SYNCHRONOUS", default: .full)
                )
            )
            let retries = try resolve(
                deliveryRetries,
                environment: "HUBSTORE_DELIVERY_RETRIES",
                default: "1s,5s,30s,2m"
            )
            guard let schedule = DeliveryConfiguration.parseSchedule(retries) else {
                throw ValidationError("delivery retries must look like 1s,5s,30s,2m; got '\(retries)'")
            }
            configuration.delivery.retrySchedule = schedule
            configuration.delivery.maxMessagesPerCall = try resolve(
                deliveryBatch,
                environment: "HUBSTORE_DELIVERY_BATCH",
                default: 25
            )
            guard (1...25).contains(configuration.delivery.maxMessagesPerCall) else {
                throw ValidationError("delivery batch must be between 1 and 25")
            }
            let lifetime = try resolve(assetLifetime, environment: "HUBSTORE_ASSET_LIFETIME", default: "24h")
            guard let assetLifetime = DurationText.parse(lifetime), assetLifetime > .zero else {
                throw ValidationError("asset lifetime must look like 24h, 90m or 30s; got '\(lifetime)'")
            }
            configuration.assetLifetime = assetLifetime
            let maxUploadText = try resolve(maxUpload, environment: "HUBSTORE_MAX_UPLOAD", default: "25MiB")
            guard let maxUploadBytes = ByteSizeText.parse(maxUploadText), maxUploadBytes > 0 else {
                throw ValidationError("max upload must look like 25MiB, 512KiB or 1048576; got '\(maxUploadText)'")
            }
            configuration.maxUploadBytes = maxUploadBytes
            guard (0...65535).contains(configuration.port) else {
                throw ValidationError("port must be between 0 and 65535")
            }
            let logger = try logging.makeLogger()
            try await failingClearly { try await HubServer.run(configuration, logger: logger) }
        }
    }
}
