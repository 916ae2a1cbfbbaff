@_spi(Storage) public import HubEventLog
import HubVault

extension ReadModels {
    /// A hub's read models (``HubProjections/registry(vault:)``), opening sealed content with the data
    /// directory's master key (`master.key`, or `HUBSTORE_MASTER_KEY`; created when missing).
    public static let hub = ReadModels { directory in
        HubProjections.registry(vault: SecretVault(masterKey: try MasterKey.load(directory: directory)))
    }
}
