import Crypto
import Foundation

/// Attachment bytes under `assets/` in the data directory, named by their SHA-256 (DESIGN.md §2, §8):
/// written to a temporary file, fsynced, renamed into place and the directory fsynced, so bytes an
/// `asset.uploaded` event names are on disk before that event commits.
public struct AssetFiles: Sendable {
    public let directory: String

    public init(dataDirectory: DataDirectory) {
        directory = dataDirectory.path + "/assets"
    }

    public func path(sha256: String) -> String { directory + "/" + sha256 }

    /// Stores `bytes` durably; returns their SHA-256 (hex). Storing the same bytes twice keeps one file.
    public func store(_ bytes: [UInt8]) throws -> String {
        let hash = SHA256.hash(data: bytes).hexEncoded
        let target = path(sha256: hash)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if FileManager.default.fileExists(atPath: target) { return hash }
        let temporary = directory + "/.upload-" + UUID().uuidString
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o640)
        guard descriptor >= 0 else { throw AssetFileError("cannot create \(temporary): errno \(errno)") }
        var written = 0
        let ok = bytes.withUnsafeBytes { raw -> Bool in
            while written < raw.count {
                let count = write(descriptor, raw.baseAddress! + written, raw.count - written)
                if count <= 0 { return false }
                written += count
            }
            return fsync(descriptor) == 0
        }
        close(descriptor)
        guard ok, rename(temporary, target) == 0 else {
            unlink(temporary)
            throw AssetFileError("cannot write asset bytes: errno \(errno)")
        }
        let directoryDescriptor = open(directory, O_RDONLY)
        if directoryDescriptor >= 0 {
            fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
        return hash
    }

    /// The bytes of a stored asset.
    public func read(sha256: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path(sha256: sha256)) else {
            throw AssetFileError("asset bytes \(sha256) are missing from \(directory)")
        }
        return Array(data)
    }
}

public struct AssetFileError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
