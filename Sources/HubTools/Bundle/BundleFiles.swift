import Crypto
import Foundation
import HubSQLite

#if canImport(Glibc)
import Glibc
#endif

/// The files of a bundle (or a backup): writing them synced and hashed, copying assets checked
/// against their names, the manifest.
enum BundleFiles {
    /// A new file written through a buffer, hashed as it goes, synced on close.
    final class Writer {
        private let path: String
        private let descriptor: Int32
        private var buffer: [UInt8] = []
        private var hasher = SHA256()
        private var count: Int64 = 0

        init(path: String, mode: mode_t = 0o600) throws {
            self.path = path
            descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
            guard descriptor >= 0 else {
                throw BundleError("cannot create \(path): \(String(cString: strerror(errno)))")
            }
            buffer.reserveCapacity(1 << 20)
        }

        deinit { Glibc.close(descriptor) }

        func write(_ bytes: [UInt8]) throws {
            hasher.update(data: bytes)
            count += Int64(bytes.count)
            buffer.append(contentsOf: bytes)
            if buffer.count >= 1 << 20 { try flush() }
        }

        private func flush() throws {
            var written = 0
            while written < buffer.count {
                let result = buffer[written...].withUnsafeBytes {
                    Foundation.write(descriptor, $0.baseAddress, $0.count)
                }
                guard result > 0 else { throw BundleError("cannot write \(path): \(String(cString: strerror(errno)))") }
                written += result
            }
            buffer.removeAll(keepingCapacity: true)
        }

        /// Flushes and syncs; returns the file's digest and size.
        func close() throws -> ExportManifest.File {
            try flush()
            guard fsync(descriptor) == 0 else {
                throw BundleError("cannot sync \(path): \(String(cString: strerror(errno)))")
            }
            return ExportManifest.File(sha256: hasher.finalize().hexString, bytes: count)
        }
    }

    /// A new file with `bytes`, synced.
    static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o600) throws {
        let writer = try Writer(path: path, mode: mode)
        try writer.write(bytes)
        _ = try writer.close()
    }

    /// `path` as a new, or empty, directory private to its user.
    /// Takes back what a failed export wrote to `directory`: its entries when it `existed` (an empty
    /// directory given as `--out` stays, empty), else the directory itself.
    static func removeOutput(_ directory: String, existed: Bool) {
        if existed {
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
                try? FileManager.default.removeItem(atPath: directory + "/" + entry)
            }
        } else {
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    static func prepareEmptyDirectory(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw BundleError("\(path) exists and is not a directory") }
            guard try FileManager.default.contentsOfDirectory(atPath: path).isEmpty else {
                throw BundleError("\(path) is not empty")
            }
        } else {
            try FileManager.default.createDirectory(
                atPath: path,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
        }
    }

    /// A connection that reads a database a server may be writing (read-write without create, since a
    /// read-only open of a WAL database fails without its -shm, but query-only).
    static func openQueryOnly(_ path: String) throws -> Connection {
        let connection = try Connection(path: path, configuration: .init(mode: .readWrite(create: false)))
        do {
            try connection.execute(sql: "PRAGMA query_only = ON")
        } catch {
            connection.close()
            throw error
        }
        return connection
    }

    /// Copies the asset file named `hash` from `source` to `destination`, checking its bytes against
    /// its name and `size`.
    static func copyAsset(_ hash: String, size: Int64, from source: String, to destination: String) throws {
        let path = source + "/" + hash
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BundleError("asset \(hash) is missing from \(source)")
        }
        guard SHA256.hash(data: data).hexString == hash, Int64(data.count) == size else {
            throw BundleError("asset file \(path) does not match its SHA-256 and size: damaged")
        }
        try FileManager.default.createDirectory(
            atPath: destination,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700]
        )
        try write(Array(data), to: destination + "/" + hash, mode: 0o640)
    }

    static func writeManifest(_ manifest: ExportManifest, into directory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try write(Array(try encoder.encode(manifest)) + [0x0A], to: directory + "/manifest.json")
    }

    static func readManifest(in directory: String) throws -> ExportManifest {
        guard let data = FileManager.default.contents(atPath: directory + "/manifest.json") else {
            throw BundleError("no manifest.json: not an export bundle")
        }
        let manifest: ExportManifest
        do {
            manifest = try JSONDecoder().decode(ExportManifest.self, from: data)
        } catch {
            throw BundleError("manifest.json is damaged or not a HubStore manifest (\(error))")
        }
        guard manifest.format == ExportManifest.formatName else {
            throw BundleError("manifest.json is not a HubStore export")
        }
        guard manifest.formatVersion <= ExportManifest.currentVersion else {
            throw BundleError("the bundle's format version \(manifest.formatVersion) is newer than this hubstore reads")
        }
        return manifest
    }

    /// A file's SHA-256 and size, read in pieces.
    static func digest(of path: String) throws -> ExportManifest.File {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw BundleError("\(path) is missing") }
        defer { try? handle.close() }
        var hasher = SHA256()
        var count: Int64 = 0
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
            count += Int64(chunk.count)
        }
        return ExportManifest.File(sha256: hasher.finalize().hexString, bytes: count)
    }
}

extension Digest {
    /// Lowercase hex.
    var hexString: String { map { String(format: "%02x", $0) }.joined() }
}
