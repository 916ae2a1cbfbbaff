import ArgumentParser
import HubCommands
import HubDelivery
import HubDomain
import HubEventLog
import HubHTTP
import HubReadModels
import HubSQLite
import HubVault

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
            name: .customLong("webhook-retry-interval"),
            help: """
                Wait between attempts of a LivePerson connector webhook, which is retried its app's \
                max_retries times (ms, s, m; env HUBSTORE_WEBHOOK_RETRY_INTERVAL; default 30s).
                """
        )
        var webhookRetryInterval: String?

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
            name: .customLong("idle-timeout"),
            help: """
                Close a connection with no request in progress after this long (ms, s, m; \
                env HUBSTORE_IDLE_TIMEOUT; default 60s).
                """
        )
        var idleTimeout: String?

        @Option(
            name: .customLong("request-timeout"),
            help: """
                A request's headers and body must arrive within this long of its first byte, else 408 or \
                the connection closes (env HUBSTORE_REQUEST_TIMEOUT; default 60s).
                """
        )
        var requestTimeout: String?

        @Option(
            name: .customLong("max-connections"),
            help: """
                Most connections open at once; past it the one idle longest is closed, or new ones wait \
                (env HUBSTORE_MAX_CONNECTIONS; default 0: (open-file limit - 256) / 2, at most 10000; a larger \
                value is lowered to that).
                """
        )
        var maxConnections: Int?

        @Option(
            name: .customLong("checkpoint-events"),
            help: """
                Sign a checkpoint of the log's head (GET /v1/log/head, checked by verify) after this many \
                events (env HUBSTORE_CHECKPOINT_EVENTS; default 1000) ...
                """
        )
        var checkpointEvents: Int?

        @Option(
            name: .customLong("checkpoint-interval"),
            help: """
                ... or after this long when the log moved, and at shutdown (ms, s, m, h; \
                env HUBSTORE_CHECKPOINT_INTERVAL; default 10s).
                """
        )
        var checkpointInterval: String?

        @Option(
            name: .customLong("cors-origin"),
            help: """
                Browser origins allowed to call the API (CORS), comma-separated, like \
                https://app.example.com,http://localhost:3000, or * for any; unset: CORS off \
                (env HUBSTORE_CORS_ORIGIN).
                """
        )
        var corsOrigin: String?

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
            let webhookWait = try resolve(
                webhookRetryInterval,
                environment: "HUBSTORE_WEBHOOK_RETRY_INTERVAL",
                default: "30s"
            )
            guard let webhookInterval = DurationText.parse(webhookWait), webhookInterval > .zero else {
                throw ValidationError("webhook retry interval must look like 30s or 500ms; got '\(webhookWait)'")
            }
            configuration.delivery.webhookRetryInterval = webhookInterval
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
            for (name, flag, environment, assign) in [
                ("idle timeout", idleTimeout, "HUBSTORE_IDLE_TIMEOUT", \ConnectionLimits.idleTimeout),
                ("request timeout", requestTimeout, "HUBSTORE_REQUEST_TIMEOUT", \ConnectionLimits.requestTimeout),
            ] as [(String, String?, String, WritableKeyPath<ConnectionLimits, Duration>)] {
                let text = try resolve(flag, environment: environment, default: "60s")
                guard let duration = DurationText.parse(text), duration > .zero else {
                    throw ValidationError("\(name) must look like 60s, 500ms or 5m; got '\(text)'")
                }
                configuration.connections[keyPath: assign] = duration
            }
            // 0: from the open-file limit the server raises at start.
            let maximum = try resolve(maxConnections, environment: "HUBSTORE_MAX_CONNECTIONS", default: 0)
            guard (0...1_000_000).contains(maximum) else {
                throw ValidationError("max connections must be between 1 and 1000000 (0: from the open-file limit)")
            }
            configuration.connections.maxConnections = maximum == 0 ? nil : maximum
            let events = try resolve(checkpointEvents, environment: "HUBSTORE_CHECKPOINT_EVENTS", default: 1000)
            guard (1...1_000_000_000).contains(events) else {
                throw ValidationError("checkpoint events must be between 1 and 1000000000")
            }
            configuration.checkpointEvents = Int64(events)
            let interval = try resolve(checkpointInterval, environment: "HUBSTORE_CHECKPOINT_INTERVAL", default: "10s")
            guard let checkpointInterval = DurationText.parse(interval), checkpointInterval > .zero else {
                throw ValidationError("checkpoint interval must look like 10s, 500ms or 5m; got '\(interval)'")
            }
            configuration.checkpointInterval = checkpointInterval
            let origins = try resolve(corsOrigin, environment: "HUBSTORE_CORS_ORIGIN", default: "")
            guard let cors = CORSPolicy(list: origins) else {
                throw ValidationError("CORS origins must look like https://app.example.com,http://localhost:3000 or *")
            }
            configuration.api.cors = cors
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
