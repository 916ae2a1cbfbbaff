import Crypto
import Foundation
import HubCommands
@_spi(Storage) import HubEventLog
import HubReadModels
import HubTestSupport
import HubVault
import Testing

/// The data directory holds the log, the vault and the master key: only its user may read any of it.
struct DataDirectoryPermissionsTests {
    @Test func theDirectoryTheDatabaseAndItsWALArePrivateWhateverTheUmask() async throws {
        try await withTemporaryDirectory { parent in
            let directory = parent + "/data"
            let previous = umask(0o022)
            defer { umask(previous) }
            try await withStore(directory) { store in
                _ = try await store.append([draft()], to: "s/1")
                #expect(try Self.mode(directory + "/hub.sqlite-wal") == 0o600)
            }
            #expect(try Self.mode(directory) == 0o700)
            #expect(try Self.mode(directory + "/hub.sqlite") == 0o600)
        }
    }

    @Test func theMasterKeyFileIsCreated0600() async throws {
        try await withTemporaryDirectory { directory in
            let previous = umask(0o022)
            defer { umask(previous) }
            let key = try MasterKey.load(directory: DataDirectory(path: directory), environment: [:])
            #expect(try Self.mode(directory + "/master.key") == 0o600)
            let again = try MasterKey.load(directory: DataDirectory(path: directory), environment: [:])
            #expect(Self.fingerprint(key) == Self.fingerprint(again))
            // Nothing but the key is left behind.
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["master.key"])
        }
    }

    /// A server and `hubstore clients create` starting together must end with one key: two keys would
    /// make one of them sign tokens and seal secrets that the other can never open.
    @Test func processesCreatingTheKeyAtOnceAllGetTheSameKey() async throws {
        for _ in 0..<20 {
            try await withTemporaryDirectory { directory in
                let fingerprints = await withTaskGroup(of: String?.self) { group in
                    for _ in 0..<8 {
                        group.addTask {
                            (try? MasterKey.load(directory: DataDirectory(path: directory), environment: [:]))
                                .map(Self.fingerprint)
                        }
                    }
                    return await group.reduce(into: [String?]()) { $0.append($1) }
                }
                #expect(fingerprints.allSatisfy { $0 != nil })
                #expect(Set(fingerprints).count == 1)
                let stored = try #require(FileManager.default.contents(atPath: directory + "/master.key"))
                #expect(stored.count == 32)
            }
        }
    }

    static func fingerprint(_ key: MasterKey) -> String {
        key.derivedKey(purpose: "test").withUnsafeBytes { Data($0).base64EncodedString() }
    }

    static func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }
}
