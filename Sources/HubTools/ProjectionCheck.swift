import Dispatch
import HubCommands
@_spi(Storage) public import HubEventLog
import HubReadModels
import HubVault

/// `verify --projections` off the cooperative pool: the scratch rebuild blocks on SQLite for as long
/// as the log is long.
public enum ProjectionCheck {
    public static func run(
        _ registry: ProjectionRegistry,
        databasePath: String,
        scratch: String,
        progress: @escaping @Sendable (ProjectionRebuilder.Progress) -> Void
    ) async throws -> ProjectionVerification {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    with: Result {
                        try ProjectionRebuilder(registry: registry).verify(
                            databaseAt: databasePath,
                            scratch: scratch,
                            progress: progress
                        )
                    }
                )
            }
        }
    }
}
