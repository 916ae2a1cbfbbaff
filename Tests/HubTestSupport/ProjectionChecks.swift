import Foundation
import HubCommands
@_spi(Storage) public import HubEventLog
import HubReadModels
import HubTools
import HubVault

/// Rebuilds every projection of `store` from its log into a scratch database and returns the tables
/// that differ from the live ones (empty when the read models are exactly what the log gives).
/// Harnesses run it after each test's body, so every scenario of the suite checks "rebuild equals inline".
public func projectionMismatches(_ store: EventStore) async throws -> [String] {
    guard !store.projections.projections.isEmpty else { return [] }
    let scratch = FileManager.default.temporaryDirectory
        .appendingPathComponent("hubstore-check-\(UInt64.random(in: 0 ... .max)).sqlite").path
    let verification = try await ProjectionCheck.run(
        store.projections,
        databasePath: store.directory.databasePath,
        scratch: scratch
    ) { _ in }
    return verification.entries.filter { !$0.matches }.map { entry in
        "\(entry.projection).\(entry.live.table): live \(entry.live.rows) rows, rebuilt \(entry.rebuilt.rows); "
            + (entry.difference ?? "")
    }
}
