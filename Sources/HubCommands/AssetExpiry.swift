import Foundation
import HubDomain
import HubEventLog
import HubReadModels
import HubVault
public import Logging
public import ServiceLifecycle

/// Expires unused assets (spec §6.1 [P]: "unused assets expire after 24 h"): every `interval`,
/// assets requested or uploaded more than `lifetime` ago and never attached to a message are deleted
/// (``AssetStore/expireUnused(createdBefore:limit:)``). Runs as a `Service`.
public struct AssetExpiry: Service {
    package let assets: AssetStore
    package let lifetime: Duration
    package let interval: Duration
    package let logger: Logger

    public init(
        assets: AssetStore,
        lifetime: Duration = .seconds(24 * 3600),
        interval: Duration = .seconds(60),
        logger: Logger
    ) {
        self.assets = assets
        self.lifetime = lifetime
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                // Graceful shutdown ends the wait rather than the server waiting for it.
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
            let cutoff = Int64(Date().timeIntervalSince1970 * 1000) - lifetime.milliseconds
            do {
                // A full batch means more may be due: go on at once.
                while try await assets.expireUnused(createdBefore: cutoff, limit: Self.batch) == Self.batch {}
            } catch EventStoreError.shuttingDown {
                return
            } catch {
                // Retried at the next tick: expiry must never stop the server.
                logger.warning("asset expiry failed", metadata: ["error": "\(error)"])
            }
        }
    }

    package static let batch = 500
}
