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

    /// What the checking thread hands the inserting one: events checked against the chain, or data
    /// keys re-wrapped under the target's master key.
    private enum Batch: Sendable {
        case events([RecordedEvent])
        case keys([(record: String, wrapped: [UInt8], createdAt: Int64)])
    }

    /// Checks and inserts the events (in transactions of 16,384), then the re-wrapped keys. The reading,
    /// checking and re-wrapping run on a thread of their own, beside the inserts.
    private static func insert(
        _ directory: String,
        _ connection: Connection,
        keys vaults: (source: SecretVault, target: SecretVault)?,
        progress: @escaping @Sendable (Int64) -> Void
    ) throws {
        let producer = ProducerThread<Batch>(name: "hubstore-import") { send in
            try produce(directory, keys: vaults, progress: progress, send)
        }
        defer { producer.cancel() }
        while let batch = try producer.next() {
            try connection.transaction(.immediate) {
                switch batch {
                case .events(let events):
                    let names = EventNames()
                    for event in events { try EventLog.insert(event, names: names, connection) }
                case .keys(let keys):
                    for key in keys {
                        try connection.run(
                            sql: "INSERT INTO vault_keys (id, wrapped, created_at) VALUES (?, ?, ?)",
                            [key.record, key.wrapped, key.createdAt]
                        )
                    }
                }
            }
        }
    }

    private static func produce(
        _ directory: String,
        keys vaults: (source: SecretVault, target: SecretVault)?,
        progress: @escaping @Sendable (Int64) -> Void,
        _ send: (Batch) -> Bool
    ) throws {
        let size = 16_384
        var events: [RecordedEvent] = []
        events.reserveCapacity(size)
        _ = try BundleVerifier.verify(
            directory: directory,
            progress: { done, _ in progress(done) },
            each: { event in
                events.append(event)
                guard events.count == size else { return }
                guard send(.events(events)) else { throw ProducerCancelled() }
                events.removeAll(keepingCapacity: true)
            }
        )
        guard send(.events(events)) else { throw ProducerCancelled() }
        guard let vaults else { return }
        var keys: [(record: String, wrapped: [UInt8], createdAt: Int64)] = []
        try NDJSONLines.read(directory + "/keys.ndjson") { line, number in
            let value = try JSONValue.parse(line)
            guard let record = value["record"]?.stringValue, let text = value["wrapped"]?.stringValue,
                let wrapped = Data(base64Encoded: text), case .integer(let createdAt)? = value["createdAt"]
            else { throw BundleError("keys.ndjson line \(number) is damaged") }
            do {
                keys.append((record, try vaults.target.rewrap(Array(wrapped), from: vaults.source), createdAt))
            } catch {
                throw BundleError("the data key of \(record) does not open with the given master key: wrong key file?")
            }
            guard keys.count == size else { return }
            guard send(.keys(keys)) else { throw ProducerCancelled() }
            keys.removeAll(keepingCapacity: true)
        }
        guard send(.keys(keys)) else { throw ProducerCancelled() }
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
