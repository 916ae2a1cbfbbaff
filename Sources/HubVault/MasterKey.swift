public import Crypto
import Foundation
@_spi(Storage) public import HubEventLog

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The data directory's master key (DESIGN.md §2, §6): 32 random bytes in `master.key` (created 0600 on
/// first use), or given as `HUBSTORE_MASTER_KEY` (64 hex digits or base64). Every other key — token
/// signing, data-key wrapping — is derived from it with HKDF, one purpose each.
public struct MasterKey: Sendable {
    private let bytes: [UInt8]

    package init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The key of `directory`: from the environment value when given, else `master.key`, created when missing.
    ///
    /// - Parameter environment: the process environment unless given (tests pass their own).
    public static func load(
        directory: DataDirectory,
        environment: [String: String]? = nil
    ) throws(MasterKeyError)
        -> MasterKey
    {
        let environment = environment ?? ProcessInfo.processInfo.environment
        if let text = environment["HUBSTORE_MASTER_KEY"], !text.isEmpty {
            guard let bytes = decode(text), bytes.count == 32 else { throw .invalidEnvironmentValue }
            return MasterKey(bytes: bytes)
        }
        let path = directory.path + "/master.key"
        if let existing = try read(path) { return MasterKey(bytes: existing) }
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        if try create(path, bytes: bytes) { return MasterKey(bytes: bytes) }
        // Another process (a server racing `clients create`) created it first: use its key.
        guard let existing = try read(path) else { throw .cannotCreate(path) }
        return MasterKey(bytes: existing)
    }

    /// The key file's bytes, `nil` when there is no file.
    private static func read(_ path: String) throws(MasterKeyError) -> [UInt8]? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        guard data.count == 32 else { throw .invalidFile(path) }
        return Array(data)
    }

    /// Creates the key file whole or not at all: the bytes go to a new file of our own, opened
    /// `O_CREAT|O_EXCL` with mode 0600 (never readable by others, not even for a moment), are fsynced,
    /// and the file is then linked in as `master.key`, which fails if the name exists. So two processes
    /// creating the key at once end with one key, and neither can read a half-written file.
    ///
    /// - Returns: `false` when another process's key is already in place.
    private static func create(_ path: String, bytes: [UInt8]) throws(MasterKeyError) -> Bool {
        let temporary = path + ".\(getpid()).\(UInt32.random(in: .min ... .max)).tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .cannotCreate(path) }
        defer { unlink(temporary) }
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor) == 0
        close(descriptor)
        guard written == bytes.count, synced else { throw .cannotCreate(path) }
        guard link(temporary, path) == 0 else {
            if errno == EEXIST { return false }
            throw .cannotCreate(path)
        }
        // The new name must survive a crash too.
        let directory = open((path as NSString).deletingLastPathComponent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 {
            _ = fsync(directory)
            close(directory)
        }
        return true
    }

    /// The key for one purpose (e.g. `"hubstore.token-signing.v1"`).
    public func derivedKey(purpose: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: bytes),
            salt: Array("hubstore".utf8),
            info: Array(purpose.utf8),
            outputByteCount: 32
        )
    }

    private static func decode(_ text: String) -> [UInt8]? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.utf8.count == 64, let bytes = trimmed.hexDecoded { return bytes }
        return Data(base64Encoded: trimmed).map(Array.init)
    }
}

/// Why the master key could not be had.
public enum MasterKeyError: Error, Sendable, CustomStringConvertible {
    case invalidEnvironmentValue
    case invalidFile(String)
    case cannotCreate(String)

    public var description: String {
        switch self {
        case .invalidEnvironmentValue: "HUBSTORE_MASTER_KEY must be 32 bytes, as 64 hex digits or base64"
        case .invalidFile(let path): "\(path) is not a 32-byte master key"
        case .cannotCreate(let path): "cannot create the master key file \(path)"
        }
    }
}
