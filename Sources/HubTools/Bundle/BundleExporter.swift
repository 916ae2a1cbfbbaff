import Crypto
import Foundation
import HubDomain
@_spi(Storage) import HubEventLog
import HubSQLite
import HubVault

/// `hubstore export`: the log as an export bundle (``ExportManifest``), read from one snapshot of a
/// data directory a server may be writing to. Sealed content stays sealed; the bundle carries the
/// wrapped data keys, so a holder of the source's master key can open it (or import it).
public struct BundleExporter: Sendable {
    public var dataDirectory: String
    /// A directory (new or empty), or a file path ending in `.tar`.
    public var out: String
    public var filters: ExportManifest.Filters

    public init(dataDirectory: String, out: String, filters: ExportManifest.Filters = .init()) {
        self.dataDirectory = dataDirectory
        self.out = out
        self.filters = filters
    }

    public struct Result: Sendable {
        public var manifest: ExportManifest
        public var seconds: Double
    }

    /// Writes the bundle; `progress` gets the events read and the snapshot's last position.
    public func run(progress: (Int64, Int64) -> Void = { _, _ in }) throws -> Result {
        let clock = ContinuousClock()
        let started = clock.now
        let source = DataDirectory(path: dataDirectory)
        guard FileManager.default.fileExists(atPath: source.databasePath) else {
            throw BundleError("no hub.sqlite in \(dataDirectory): not a HubStore data directory")
        }
        let asTar = out.hasSuffix(".tar")
        let directory = asTar ? out + ".partial-\(getpid())" : out
        if asTar, FileManager.default.fileExists(atPath: out) { throw BundleError("\(out) exists already") }
        _ = try query()  // Bad filters are refused before anything is written.
        let existed = FileManager.default.fileExists(atPath: directory)
        try BundleFiles.prepareEmptyDirectory(directory)
        do {
            let manifest = try write(into: directory, from: source, progress: progress)
            if asTar {
                try TarArchive.pack(directory: directory, into: out)
                try FileManager.default.removeItem(atPath: directory)
            }
            return Result(manifest: manifest, seconds: AppendBenchmark.seconds(started.duration(to: clock.now)))
        } catch {
            // No half-written bundle stays behind (an empty directory given as --out stays, empty).
            if asTar {
                try? FileManager.default.removeItem(atPath: out)
            }
            BundleFiles.removeOutput(directory, existed: existed)
            throw error
        }
    }

    private func write(
        into directory: String,
        from source: DataDirectory,
        progress: (Int64, Int64) -> Void
    ) throws -> ExportManifest {
        let connection = try BundleFiles.openQueryOnly(source.databasePath)
        defer { connection.close() }
        // One snapshot for the events, the keys and the head.
        try connection.execute(sql: "BEGIN DEFERRED")
        defer { connection.rollbackQuietly() }
        let head = try connection.singleInt64(sql: "SELECT coalesce(max(position), 0) FROM events") ?? 0
        let events = try BundleFiles.Writer(path: directory + "/events.ndjson")
        var manifest = ExportManifest(
            format: ExportManifest.formatName,
            formatVersion: ExportManifest.currentVersion,
            exportedAt: Timestamp.format(Int64(Date().timeIntervalSince1970 * 1000)),
            sourceHeadPosition: head,
            filtered: !filters.isEmpty,
            filters: filters,
            firstPosition: 0,
            lastPosition: 0,
            events: 0,
            headHash: "",
            previousHash: EventHash.genesis.hexEncoded,
            types: [:],
            files: [:],
            keys: 0,
            assets: [:]
        )
        var records: Set<String> = []
        var uploads: [String: (sha256: String, size: Int64)] = [:]
        var lastHash: [UInt8]?
        var lastPosition: Int64 = 0
        let (sql, arguments) = try query()
        let statement = try connection.prepare(sql: sql)
        try statement.bind(arguments)
        var line: [UInt8] = []
        while try statement.step() {
            let event = EventLog.decode(statement)
            // The hash before this event: the one just read, unless events were left out between.
            var previous: [UInt8]
            if let lastHash, lastPosition == event.position - 1 {
                previous = lastHash
            } else if event.position == 1 {
                previous = EventHash.genesis
            } else {
                previous = try hash(at: event.position - 1, connection)
            }
            if manifest.events == 0 {
                manifest.firstPosition = event.position
                manifest.previousHash = previous.hexEncoded
            }
            line.removeAll(keepingCapacity: true)
            EventLine.write(event, previousHash: manifest.filtered ? previous : nil, to: &line)
            try events.write(line)
            manifest.events += 1
            manifest.types[event.type, default: 0] += 1
            lastHash = event.hash
            lastPosition = event.position
            try note(event, filtered: manifest.filtered, records: &records, uploads: &uploads)
            if manifest.events % 4096 == 0 { progress(manifest.events, head) }
        }
        manifest.lastPosition = lastPosition
        manifest.headHash = lastHash?.hexEncoded ?? ""
        manifest.files["events.ndjson"] = try events.close()
        let keys = try BundleFiles.Writer(path: directory + "/keys.ndjson")
        manifest.keys = try writeKeys(connection, records: manifest.filtered ? records : nil, to: keys)
        manifest.files["keys.ndjson"] = try keys.close()
        let files = Dictionary(uploads.values.map { ($0.sha256, $0.size) }, uniquingKeysWith: { first, _ in first })
        for (hash, size) in files.sorted(by: { $0.key < $1.key }) {
            // Bytes deleted after the last exported event are not the bundle's to carry.
            guard try isKept(hash, connection) else { continue }
            try BundleFiles.copyAsset(hash, size: size, from: source.path + "/assets", to: directory + "/assets")
            manifest.assets[hash] = size
        }
        progress(manifest.events, head)
        try BundleFiles.writeManifest(manifest, into: directory)
        return manifest
    }

    /// The events the filters select, in position order.
    private func query() throws -> (String, [any SQLiteBindable]) {
        func time(_ text: String?) throws -> Int64? {
            guard let text else { return nil }
            guard let milliseconds = Timestamp.milliseconds(text) else {
                throw BundleError("'\(text)' is not an RFC 3339 time")
            }
            return milliseconds
        }
        let filter = EventFilter(
            types: filters.types ?? [],
            account: filters.account,
            recordedFrom: try time(filters.fromTime),
            recordedTo: try time(filters.toTime)
        )
        return EventLog.selection(after: (filters.fromPosition ?? 1) - 1, through: filters.toPosition, filter: filter)
    }

    /// The vault records and asset files an exported event needs (an asset's bytes until it is deleted).
    private func note(
        _ event: RecordedEvent,
        filtered: Bool,
        records: inout Set<String>,
        uploads: inout [String: (sha256: String, size: Int64)]
    ) throws {
        // A whole-log export carries every key: the records matter only to a filtered one.
        if filtered { records.insert(event.stream) }
        switch event.type {
        case "message.received" where filtered, "message.originated" where filtered:
            let data = try JSONValue.parse(event.data)
            if let id = data["id"]?.stringValue { records.insert("message/\(id)") }
            // A key derived from the conversation's content key needs that key.
            if let number = data["content"]?.stringValue.flatMap(SecretVault.contentKey(of:)) {
                records.insert(SecretVault.contentKeyRecord(number))
            }
        case "conversation.started" where filtered:
            if let id = try JSONValue.parse(event.data).value(at: "customer.id")?.stringValue {
                records.insert("customer/\(id)")
            }
        case "asset.uploaded":
            let data = try JSONValue.parse(event.data)
            if let id = data["id"]?.stringValue, let hash = data["sha256"]?.stringValue,
                case .integer(let size)? = data["size"]
            {
                uploads[id] = (hash, size)
            }
        case "asset.deleted":
            if let id = try JSONValue.parse(event.data)["id"]?.stringValue { uploads[id] = nil }
        default: break
        }
    }

    /// The hash of the event at `position`.
    private func hash(at position: Int64, _ connection: Connection) throws -> [UInt8] {
        let statement = try connection.cachedStatement(sql: "SELECT hash FROM events WHERE position = ?")
        defer { statement.reset() }
        try statement.bind([position])
        guard try statement.step() else { throw BundleError("the log has no event at position \(position)") }
        return statement.blob(at: 0)
    }

    /// Whether an asset not deleted in the snapshot has these bytes.
    private func isKept(_ hash: String, _ connection: Connection) throws -> Bool {
        let count = try connection.singleInt64(
            sql: "SELECT count(*) FROM assets WHERE sha256 = ? AND state != 'deleted'",
            [hash]
        )
        return (count ?? 0) > 0
    }

    /// `{"record","wrapped","createdAt"}` per data key (all of them, or those of `records`).
    private func writeKeys(
        _ connection: Connection,
        records: Set<String>?,
        to writer: BundleFiles.Writer
    ) throws
        -> Int64
    {
        let statement = try connection.prepare(sql: "SELECT id, wrapped, created_at FROM vault_keys ORDER BY id")
        var count: Int64 = 0
        while try statement.step() {
            let record = statement.text(at: 0)
            if let records, !records.contains(record) { continue }
            let line =
                JSONValue.object([
                    "record": .string(record),
                    "wrapped": .string(Data(statement.blob(at: 1)).base64EncodedString()),
                    "createdAt": .integer(statement.int64(at: 2)),
                ]).text + "\n"
            try writer.write(Array(line.utf8))
            count += 1
        }
        return count
    }
}

/// Why a bundle could not be written, read or imported.
public struct BundleError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
