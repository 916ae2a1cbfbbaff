import Crypto
import Foundation
import HubEventLog
import HubSQLite

/// `hubstore backup`: an online, consistent copy of a data directory while a server keeps writing.
///
/// The database is copied with SQLite's backup API under one read transaction (a snapshot: what the
/// log and read models were when it began), then every asset file the copy references is copied and
/// its SHA-256 checked against its name. The master key is copied only when asked: a backup without it
/// cannot open the sealed content, which is how an operator keeps the key apart from the data.
///
/// The copy is written as `hub.sqlite.partial` and renamed when whole, so an interrupted backup never
/// looks like a finished one.
public struct OnlineBackup: Sendable {
    public var source: String
    public var destination: String
    public var includeKey: Bool

    public init(source: String, destination: String, includeKey: Bool) {
        self.source = source
        self.destination = destination
        self.includeKey = includeKey
    }

    public struct Result: Sendable {
        /// The log position the copy stands at, and its events.
        public var position: Int64
        public var events: Int64
        public var databaseBytes: Int64
        public var assets: Int
        public var assetBytes: Int64
        public var keyIncluded: Bool
        public var seconds: Double
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// What a backup is copying, for progress.
    public enum Stage: String, Sendable {
        case pages = "backup: database pages"
        case assets = "backup: asset files"
    }

    /// Runs the backup; `progress` gets what it copies, how much of it is done, and the total.
    public func run(progress: (Stage, Int64, Int64) -> Void = { _, _, _ in }) throws -> Result {
        let clock = ContinuousClock()
        let started = clock.now
        let from = DataDirectory(path: source)
        guard FileManager.default.fileExists(atPath: from.databasePath) else {
            throw Failure("no hub.sqlite in \(source): not a HubStore data directory")
        }
        let key = includeKey ? try masterKeyFile(from) : nil
        try prepareDestination()
        let to = DataDirectory(path: destination)
        let partial = to.databasePath + ".partial"
        do {
            let result = try copy(from: from, to: to, partial: partial, key: key, progress: progress)
            return Result(
                position: result.position,
                events: result.events,
                databaseBytes: Self.size(of: to.databasePath),
                assets: result.assets,
                assetBytes: result.assetBytes,
                keyIncluded: key != nil,
                seconds: AppendBenchmark.seconds(started.duration(to: clock.now))
            )
        } catch {
            // Nothing half-made stays behind to be taken for a backup.
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
    }

    private func copy(
        from: DataDirectory,
        to: DataDirectory,
        partial: String,
        key: [UInt8]?,
        progress: (Stage, Int64, Int64) -> Void
    ) throws -> (position: Int64, events: Int64, assets: Int, assetBytes: Int64) {
        try createPrivateFile(partial)
        let connection = try BundleFiles.openQueryOnly(from.databasePath)
        do {
            try connection.backup(into: partial) { progress(.pages, Int64($0), Int64($1)) }
            connection.close()
        } catch {
            connection.close()
            throw error
        }
        let copy = try BundleFiles.openQueryOnly(partial)
        let (position, events, hashes): (Int64, Int64, [String])
        do {
            position = try copy.singleInt64(sql: "SELECT coalesce(max(position), 0) FROM events") ?? 0
            events = try copy.singleInt64(sql: "SELECT count(*) FROM events") ?? 0
            hashes = try Self.referencedAssets(copy)
            copy.close()
        } catch {
            copy.close()
            throw error
        }
        var assetBytes: Int64 = 0
        for (index, hash) in hashes.enumerated() {
            assetBytes += try copyAsset(hash, from: from, to: to)
            progress(.assets, Int64(index + 1), Int64(hashes.count))
        }
        if let key { try writePrivateFile(to.path + "/master.key", key) }
        try FileManager.default.moveItem(atPath: partial, toPath: to.databasePath)
        let directory = open(to.path, O_RDONLY | O_CLOEXEC)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
        return (position, events, hashes.count, assetBytes)
    }

    private static func size(of path: String) -> Int64 {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? 0
    }

    /// The asset files the copy's read models reference (an asset's bytes, once uploaded).
    static func referencedAssets(_ connection: Connection) throws -> [String] {
        let statement = try connection.prepare(
            sql: "SELECT DISTINCT sha256 FROM assets WHERE sha256 IS NOT NULL AND state != 'deleted' ORDER BY 1"
        )
        var hashes: [String] = []
        while try statement.step() { hashes.append(statement.text(at: 0)) }
        return hashes
    }

    /// The data directory's key file, refused when the key comes from the environment or is missing.
    private func masterKeyFile(_ directory: DataDirectory) throws -> [UInt8] {
        if let value = ProcessInfo.processInfo.environment["HUBSTORE_MASTER_KEY"], !value.isEmpty {
            throw Failure(
                "the master key comes from HUBSTORE_MASTER_KEY: keep that value with the backup instead of --include-key"
            )
        }
        guard let data = FileManager.default.contents(atPath: directory.path + "/master.key"), data.count == 32 else {
            throw Failure("\(directory.path) has no 32-byte master.key to include")
        }
        return Array(data)
    }

    /// The destination must be new or an empty directory; it is made private to its user.
    private func prepareDestination() throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: destination, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw Failure("\(destination) exists and is not a directory") }
            let entries = try FileManager.default.contentsOfDirectory(atPath: destination)
            guard entries.isEmpty else {
                throw Failure("\(destination) is not empty: a backup goes to a new directory")
            }
        } else {
            try FileManager.default.createDirectory(
                atPath: destination,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
        }
    }

    /// Copies one asset file, checking that its bytes hash to its name; returns its size.
    private func copyAsset(_ hash: String, from: DataDirectory, to: DataDirectory) throws -> Int64 {
        let source = from.path + "/assets/" + hash
        guard let data = FileManager.default.contents(atPath: source) else {
            throw Failure("asset \(hash) is referenced by the log but missing from \(from.path)/assets")
        }
        let digest = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
        guard digest == hash else { throw Failure("asset file \(source) does not hash to its name: damaged") }
        try FileManager.default.createDirectory(
            atPath: to.path + "/assets",
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700]
        )
        try writePrivateFile(to.path + "/assets/" + hash, Array(data), mode: 0o640)
        return Int64(data.count)
    }

    private func createPrivateFile(_ path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw Failure("cannot create \(path): \(String(cString: strerror(errno)))") }
        close(descriptor)
    }

    /// Writes a new file with `mode`, synced before it is closed.
    private func writePrivateFile(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o600) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw Failure("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { throw Failure("cannot write \(path): \(String(cString: strerror(errno)))") }
            written += count
        }
        guard fsync(descriptor) == 0 else { throw Failure("cannot sync \(path): \(String(cString: strerror(errno)))") }
    }
}
