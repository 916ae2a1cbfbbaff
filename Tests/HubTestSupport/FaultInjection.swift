import CHubFaultVFS
import HubSQLite

/// The test-only fault-injecting SQLite VFS (`Tests/CHubFaultVFS`): writes, syncs or truncations of
/// the files under one directory fail the way a full disk or a failing device makes them fail.
///
/// Each test arms its own temporary directory, so tests running at the same time never see each
/// other's faults.
public enum FaultInjection {
    /// The file operations that can be made to fail.
    public struct Operations: OptionSet, Sendable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        public static let write = Operations(rawValue: Int32(HUB_FAULT_WRITE))
        public static let sync = Operations(rawValue: Int32(HUB_FAULT_SYNC))
        public static let truncate = Operations(rawValue: Int32(HUB_FAULT_TRUNCATE))
        public static let all: Operations = [.write, .sync, .truncate]
    }

    /// The VFS's name, registered on first use: pass it as the store's `vfs`.
    public static var vfsName: String {
        _ = registered
        return HUB_FAULT_VFS_NAME
    }

    private static let registered: Bool = {
        // Registering a VFS initialises SQLite: HubStore's process-wide settings must come first.
        configureSQLiteProcess()
        return hub_fault_vfs_register() == 0
    }()

    /// Makes the operations on files under `directory` fail: `skip` of them pass, then `count` fail
    /// (`nil`: all until ``disarm()``), with `code` (0: SQLITE_FULL for writes, an I/O error otherwise).
    public static func arm(
        directory: String,
        operations: Operations,
        skip: Int = 0,
        count: Int? = nil,
        code: Int32 = 0
    ) {
        precondition(hub_fault_arm(directory, operations.rawValue, Int32(skip), Int32(count ?? -1), code) == 0)
    }

    /// Stops injecting faults under `directory`.
    public static func disarm(directory: String) {
        hub_fault_disarm(directory)
    }

    /// Faults injected under `directory` since it was armed.
    public static func injected(directory: String) -> Int { hub_fault_injected(directory) }

    /// Armed operations seen under `directory` since it was armed.
    public static func seen(directory: String) -> Int { hub_fault_seen(directory) }
}
