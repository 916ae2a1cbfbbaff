import HubCommands
import HubDelivery
import HubEventLog
import HubReadModels
import HubSQLite
import HubVault
public import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

/// Runs a hub: opens the store, serves HTTP, and on SIGTERM/SIGINT stops accepting requests, drains
/// the writer's queue, checkpoints the WAL and closes.
public enum HubServer {
    /// Runs until a shutdown signal (or until the group's task is cancelled).
    ///
    /// - Parameter onServerRunning: called with the bound port once the server accepts connections.
    public static func run(
        _ configuration: ServerConfiguration,
        logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        // Connections beyond the soft open-file limit would fail to be accepted; the hard limit is ours to take.
        let fileLimit = FileDescriptorLimit.raiseToHardLimit()
        await FileDescriptorLimit.primeDispatchTimers()
        let metrics = HubMetrics()
        let store = try await EventStore.open(
            configuration.store,
            logger: logger,
            metricsFactory: metrics.factory,
            readModels: .hub
        )
        // Uploads a killed server left half-written are of no use to anyone.
        let abandoned = AssetFiles(dataDirectory: store.directory).removeAbandonedUploads()
        if abandoned > 0 { logger.notice("removed unfinished uploads", metadata: ["uploads": "\(abandoned)"]) }
        let masterKey: MasterKey
        do {
            masterKey = try MasterKey.load(directory: store.directory)
        } catch {
            await store.close()
            throw error
        }
        logger.info(
            "hubstore starting",
            metadata: [
                "data": "\(configuration.store.dataDirectory)",
                "host": "\(configuration.host)",
                "port": "\(configuration.port)",
                "synchronous": "\(configuration.store.synchronous.rawValue)",
                "readers": "\(configuration.store.readerCount)",
                "batch.max": "\(configuration.store.maxBatchSize)",
                "queue.capacity": "\(configuration.store.queueCapacity)",
                // Whether the writer's thread got its higher scheduling weight (root or CAP_SYS_NICE).
                "writer.priority": "\(store.writerPriorityRaised ? "raised" : "default")",
                "sqlite.version": "\(EventStore.sqliteVersion)",
                "log.position": "\(store.headPosition)",
                "files.limit": "\(fileLimit)",
                "connections.max": "\(configuration.connections.effectiveMaxConnections(fileLimit: fileLimit))",
                "connections.idle_timeout": "\(configuration.connections.idleTimeout)",
            ]
        )
        if let maximum = configuration.connections.maxConnections,
            maximum > ConnectionLimits.connectionBudget(fileLimit: fileLimit)
        {
            logger.warning(
                "--max-connections lowered to what the open-file limit allows (the process must never run out)",
                metadata: ["connections.asked": "\(maximum)", "files.limit": "\(fileLimit)"]
            )
        }
        let application = buildApplication(
            store: store,
            metrics: metrics,
            tokens: TokenService(masterKey: masterKey),
            masterKey: masterKey,
            host: configuration.host,
            port: configuration.port,
            logger: logger,
            options: configuration.api,
            maxUploadBytes: configuration.maxUploadBytes,
            connections: configuration.connections,
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                logger.info("hubstore listening", metadata: ["address": "\(configuration.host):\(port)"])
                await onServerRunning(port)
            }
        )
        // Services shut down in reverse order: the server stops accepting first, then the writer
        // drains what was already queued. The log-head signer stops just before the writer, after
        // everything that appends: its last checkpoint covers every acknowledged event.
        let checkpoints = LogCheckpointService(
            store: store,
            signer: LogHeadSigner(masterKey: masterKey),
            everyEvents: configuration.checkpointEvents,
            interval: configuration.checkpointInterval,
            logger: logger
        )
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: store.writer), .init(service: checkpoints),
                    .init(service: ExternalCommitWatcher(store: store)),
                    .init(
                        service: DeliveryService(
                            store: store,
                            vault: SecretVault(masterKey: masterKey),
                            configuration: configuration.delivery,
                            logger: logger,
                            metricsFactory: metrics.factory
                        )
                    ),
                    .init(
                        service: AssetExpiry(
                            assets: AssetStore(store: store),
                            lifetime: configuration.assetLifetime,
                            interval: min(configuration.assetLifetime, .seconds(60)),
                            logger: logger
                        )
                    ),
                    .init(
                        service: SearchIndexMerge(
                            store: store,
                            interval: configuration.searchMergeInterval,
                            logger: logger
                        )
                    ),
                    .init(service: application),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        do {
            try await group.run()
        } catch {
            await store.close()
            throw error
        }
        // The final checkpoint's outcome is the exit status: a server that stops with its WAL not
        // folded into hub.sqlite says so and exits non-zero.
        if let failure = await store.close() {
            logger.error("hubstore stopped without its final checkpoint", metadata: ["error": "\(failure)"])
            throw failure
        }
        logger.info(
            "hubstore stopped",
            metadata: ["log.position": "\(store.headPosition)", "wal.checkpointed": "true"]
        )
    }
}
