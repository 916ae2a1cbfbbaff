import Crypto
import Foundation
public import HubEventLog
import HubReadModels
import HubVault

/// Attachment bytes under `assets/` in the data directory, named by their SHA-256 (DESIGN.md §2, §8):
/// written to a temporary file, fsynced, renamed into place and the directory fsynced, so bytes an
/// `asset.uploaded` event names are on disk before that event commits.
public struct AssetFiles: Sendable {
    public let directory: String

    public init(dataDirectory: DataDirectory) {
        directory = dataDirectory.path + "/assets"
    }

    public func path(sha256: String) -> String { directory + "/" + sha256 }

    /// A temporary file for an upload's bytes, written as they arrive (``AssetSpool``).
    public func spool() throws -> AssetSpool {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return try AssetSpool(files: self)
    }

    /// Removes the temporary files of uploads that a killed process left unfinished; returns how
    /// many. Only for the process that holds the data directory's lock (no upload of its own runs yet).
    @discardableResult
    public func removeAbandonedUploads() -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasPrefix(AssetSpool.temporaryPrefix) }.count {
            (try? FileManager.default.removeItem(atPath: directory + "/" + $0)) != nil
        }
    }

    /// Runs blocking file work off the cooperative pool.
    package static func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
        }
    }

    /// The bytes of a stored asset.
    public func read(sha256: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path(sha256: sha256)) else {
            throw AssetFileError("asset bytes \(sha256) are missing from \(directory)")
        }
        return Array(data)
    }
}

/// An upload on its way to disk: its bytes are written to a temporary file under `assets/` as they
/// arrive and hashed on the way, so memory holds one piece at a time however large the upload is.
/// ``finish()`` fsyncs it and renames it to its SHA-256; a spool dropped unfinished removes its file.
/// Used by one task at a time.
public final class AssetSpool {
    /// How an unfinished upload's file is named in `assets/`.
    package static let temporaryPrefix = ".upload-"

    package let files: AssetFiles
    package let temporaryPath: String
    private let descriptor: Int32
    private var hasher = SHA256()
    private var isOpen = true
    /// Bytes appended so far.
    public private(set) var count: Int64 = 0

    package init(files: AssetFiles) throws {
        self.files = files
        temporaryPath = files.directory + "/" + Self.temporaryPrefix + UUID().uuidString
        descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else { throw AssetFileError("cannot create \(temporaryPath): errno \(errno)") }
    }

    deinit { discard() }

    /// Hashes `bytes` and writes them (off the cooperative pool).
    public func append(_ bytes: [UInt8]) async throws {
        guard isOpen else { throw AssetFileError("the upload's file is closed") }
        hasher.update(data: bytes)
        count += Int64(bytes.count)
        let descriptor = descriptor
        try await AssetFiles.offPool {
            try bytes.withUnsafeBytes { raw in
                var written = 0
                while written < raw.count {
                    let result = write(descriptor, raw.baseAddress! + written, raw.count - written)
                    if result < 0, errno == EINTR { continue }
                    guard result > 0 else { throw AssetFileError("cannot write asset bytes: errno \(errno)") }
                    written += result
                }
            }
        }
    }

    /// Makes the bytes durable under their SHA-256 (hex), which it returns: fsynced, renamed into place
    /// and the directory fsynced. The same bytes stored before keep their file.
    public func finish() async throws -> String {
        guard isOpen else { throw AssetFileError("the upload's file is closed") }
        isOpen = false
        let hash = hasher.finalize().hexEncoded
        let (descriptor, temporary, directory, target) =
            (descriptor, temporaryPath, files.directory, files.path(sha256: hash))
        try await AssetFiles.offPool {
            defer { close(descriptor) }
            if FileManager.default.fileExists(atPath: target) {
                unlink(temporary)
                return
            }
            guard fsync(descriptor) == 0, rename(temporary, target) == 0 else {
                let code = errno
                unlink(temporary)
                throw AssetFileError("cannot write asset bytes: errno \(code)")
            }
            let directoryDescriptor = open(directory, O_RDONLY)
            if directoryDescriptor >= 0 {
                fsync(directoryDescriptor)
                close(directoryDescriptor)
            }
        }
        return hash
    }

    /// Closes and removes the temporary file (nothing happens after ``finish()``).
    public func discard() {
        guard isOpen else { return }
        isOpen = false
        close(descriptor)
        unlink(temporaryPath)
    }
}

public struct AssetFileError: Error, CustomStringConvertible {
    public var description: String
    package init(_ description: String) { self.description = description }
}
