public import Crypto
import Foundation

/// The data directory's master key (DESIGN.md §2, §6): 32 random bytes in `master.key` (created 0600 on
/// first use), or given as `HUBSTORE_MASTER_KEY` (64 hex digits or base64). Every other key — token
/// signing, data-key wrapping — is derived from it with HKDF, one purpose each.
public struct MasterKey: Sendable {
    private let bytes: [UInt8]

    init(bytes: [UInt8]) {
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
        if let data = FileManager.default.contents(atPath: path) {
            guard data.count == 32 else { throw .invalidFile(path) }
            return MasterKey(bytes: Array(data))
        }
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        // Created 0600 from the start: never readable by others, not even for a moment.
        guard
            FileManager.default.createFile(atPath: path, contents: Data(bytes), attributes: [.posixPermissions: 0o600])
        else { throw .cannotCreate(path) }
        return MasterKey(bytes: bytes)
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
        if trimmed.count == 64, trimmed.allSatisfy(\.isHexDigit) {
            var bytes: [UInt8] = []
            var index = trimmed.startIndex
            while index < trimmed.endIndex {
                let next = trimmed.index(index, offsetBy: 2)
                bytes.append(UInt8(trimmed[index..<next], radix: 16)!)
                index = next
            }
            return bytes
        }
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
