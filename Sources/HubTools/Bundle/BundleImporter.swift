import Foundation
import HubDomain
@_spi(Storage) public import HubEventLog
import HubReadModels
import HubSQLite
import HubVault

/// `hubstore import`: an exact copy of an exported log in an empty data directory. Positions, ids and
/// hashes are kept (every event is checked against the chain first), the assets restored, the data
/// keys re-wrapped under the new directory's own master key; the read models are then built by the
/// projections from the imported log, not copied.
public struct BundleImporter: Sendable {
    public var bundle: String
    public var dataDirectory: String
    /// The source's master key, which the bundle's data keys are wrapped under.
    public var sourceMasterKey: [UInt8]?

    public init(bundle: String, dataDirectory: String, sourceMasterKey: [UInt8]?) {
        self.bundle = bundle
        self.dataDirectory = dataDirectory
        self.sourceMasterKey = sourceMasterKey
    }

    public struct Result: Sendable {
        public var manifest: ExportManifest
        public var reports: [ProjectionReport]
        public var seconds: Double
    }

    /// What the import is doing, for progress.
    public enum Stage: String, Sendable {
        /// Checking each event against the chain and inserting it.
        case importing = "import"
        case rebuilding = "rebuild"
    }

    public func run(progress: @escaping @Sendable (Stage, Int64, Int64) -> Void = { _, _, _ in }) async throws -> Result
    {
        let clock = ContinuousClock()
        let started = clock.now
        try refuseNonEmptyTarget()
        let (manifest, reports): (ExportManifest, [ProjectionReport])
        do {
            (manifest, reports) = try await BundleLocation.withDirectoryAsync(of: bundle) { directory in
                try await importing(from: directory, progress: progress)
            }
        } catch {
            // Nothing half-imported stays behind (the target was empty or new).
            if let entries = try? FileManager.default.contentsOfDirectory(atPath: dataDirectory) {
                for entry in entries { try? FileManager.default.removeItem(atPath: dataDirectory + "/" + entry) }
            }
            throw error
        }
        return Result(
            manifest: manifest,
            reports: reports,
            seconds: AppendBenchmark.seconds(started.duration(to: clock.now))
        )
    }

    private func refuseNonEmptyTarget() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dataDirectory, isDirectory: &isDirectory) else { return }
        guard isDirectory.boolValue, try FileManager.default.contentsOfDirectory(atPath: dataDirectory).isEmpty else {
            throw BundleError("\(dataDirectory) is not empty: an import makes a new data directory")
        }
    }

    private func importing(
        from directory: String,
        progress: @escaping @Sendable (Stage, Int64, Int64) -> Void
    ) async throws -> (ExportManifest, [ProjectionReport]) {
        let manifest = try BundleFiles.readManifest(in: directory)
        guard !manifest.filtered else {
            throw BundleError("a filtered export cannot be imported as a copy of the log: export without filters")
        }
        guard manifest.firstPosition <= 1 else { throw BundleError("the bundle does not start at position 1") }
        let source: SecretVault? = try sourceMasterKey.map { bytes in
            guard bytes.count == 32 else { throw BundleError("the source master key must be 32 bytes") }
            return SecretVault(masterKey: MasterKey(bytes: bytes))
        }
        if manifest.keys > 0, source == nil {
            throw BundleError(
                "the bundle's \(manifest.keys) data keys are wrapped under the source's master key: pass --master-key-file"
            )
        }
        let store = try await EventStore.open(EventStoreConfiguration(dataDirectory: dataDirectory), readModels: .hub)
        do {
            let target = SecretVault(masterKey: try MasterKey.load(directory: store.directory))
            // One pass checks each event against the chain and inserts it; the bundle's other checks
            // follow, and any failure empties the target again.
            try await store.pool.writer.perform { connection in
                try Self.insert(directory, connection, keys: source.map { ($0, target) }) {
                    progress(.importing, $0, manifest.events)
                }
            }
            try await onOwnThread { [dataDirectory] in
                for (hash, size) in manifest.assets {
                    try BundleFiles.copyAsset(
                        hash,
                        size: size,
                        from: directory + "/assets",
                        to: dataDirectory + "/assets"
                    )
                }
            }
            let reports = try await store.rebuild([]) { progress(.rebuilding, $0.applied, $0.tip) }
            await store.close()
            return (manifest, reports)
        } catch {
            await store.close()
            throw error
        }
    }

    /// Checks and inserts the events (in transactions of 16,384), then the re-wrapped keys.
    private static func insert(
        _ directory: String,
        _ connection: Connection,
        keys vaults: (source: SecretVault, target: SecretVault)?,
        progress: @escaping (Int64) -> Void
    ) throws {
        var pending: [RecordedEvent] = []
        func flush() throws {
            try connection.transaction(.immediate) {
                for event in pending { try EventLog.insert(event, connection) }
            }
            pending.removeAll(keepingCapacity: true)
        }
        _ = try BundleVerifier.verify(
            directory: directory,
            progress: { done, _ in progress(done) },
            each: { event in
                pending.append(event)
                if pending.count == 16_384 { try flush() }
            }
        )
        try flush()
        guard let vaults else { return }
        try connection.transaction(.immediate) {
            try NDJSONLines.read(directory + "/keys.ndjson") { line, number in
                let value = try JSONValue.parse(line)
                guard let record = value["record"]?.stringValue, let text = value["wrapped"]?.stringValue,
                    let wrapped = Data(base64Encoded: text), case .integer(let createdAt)? = value["createdAt"]
                else { throw BundleError("keys.ndjson line \(number) is damaged") }
                let rewrapped: [UInt8]
                do {
                    rewrapped = try vaults.target.rewrap(Array(wrapped), from: vaults.source)
                } catch {
                    throw BundleError(
                        "the data key of \(record) does not open with the given master key: wrong key file?"
                    )
                }
                try connection.run(
                    sql: "INSERT INTO vault_keys (id, wrapped, created_at) VALUES (?, ?, ?)",
                    [record, rewrapped, createdAt]
                )
            }
        }
    }
}

extension BundleLocation {
    static func withDirectoryAsync<T>(of path: String, _ body: (String) async throws -> T) async throws -> T {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw BundleError("\(path) does not exist")
        }
        if isDirectory.boolValue { return try await body(path) }
        let temporary = FileManager.default.temporaryDirectory
            .appendingPathComponent("hubstore-bundle-\(UUID().uuidString)").path
        try BundleFiles.prepareEmptyDirectory(temporary)
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        // A large archive: unpacked on a thread of its own, off the cooperative pool.
        try await onOwnThread { try TarArchive.unpack(path, into: temporary) }
        return try await body(temporary)
    }
}
