import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The data directory's layout (DESIGN.md §2) and the lock that keeps a second process out.
public struct DataDirectory: Sendable {
    /// The directory as given.
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// `hub.sqlite`: the log, projections and vault.
    public var databasePath: String { path + "/hub.sqlite" }
    /// `hubstore.lock`: held (flock) by the process that writes.
    public var lockPath: String { path + "/hubstore.lock" }
    /// `hub.sqlite-wal`.
    public var walPath: String { databasePath + "-wal" }

    /// Bytes free for this process on the directory's file system (`statvfs`); `nil` if unknown.
    public var availableBytes: Int64? {
        var stats = statvfs()
        guard statvfs(path, &stats) == 0 else { return nil }
        return Int64(stats.f_bavail) * Int64(stats.f_frsize)
    }

    /// Creates the directory if needed and checks that it is a writable directory.
    public func prepare() throws(DataDirectoryError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw .notADirectory(path) }
        } else {
            do {
                // Only its user may list or enter it: it holds the log, the vault and the master key.
                try FileManager.default.createDirectory(
                    atPath: path,
                    withIntermediateDirectories: true,
                    attributes: [.posixPermissions: 0o700]
                )
            } catch {
                throw .cannotCreate(path, reason: String(cString: strerror(errno)))
            }
        }
        guard access(path, W_OK | X_OK) == 0 else { throw .notWritable(path) }
        // SQLite creates the WAL and shared-memory files with the database file's mode: creating the
        // database file 0600 first keeps all three private whatever the process's umask.
        let database = open(databasePath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard database >= 0 else { throw .notWritable(path) }
        close(database)
    }

    /// Takes the directory's exclusive lock, or fails at once if another process holds it.
    ///
    /// The lock is an `flock` on `hubstore.lock`, released when the returned lock is released or the
    /// process dies (so a killed server never leaves a stale lock behind).
    public func lock() throws(DataDirectoryError) -> DataDirectoryLock {
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .notWritable(path) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: lockPath, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
            close(descriptor)
            throw .inUse(path, holder: holder.flatMap(Int32.init))
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(descriptor, 0)
        _ = pid.withCString { pwrite(descriptor, $0, strlen($0), 0) }
        return DataDirectoryLock(descriptor: descriptor)
    }
}

/// The held lock of a data directory; released by ``release()`` or when it is deallocated.
public final class DataDirectoryLock: Sendable {
    private let descriptor: Mutex<Int32?>

    package init(descriptor: Int32) {
        self.descriptor = Mutex(descriptor)
    }

    /// Releases the lock (once; later calls do nothing).
    public func release() {
        guard let descriptor = descriptor.withLock({ $0.take() }) else { return }
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    deinit { release() }
}

/// Why a data directory cannot be used.
public enum DataDirectoryError: Error, Sendable, CustomStringConvertible {
    case notADirectory(String)
    case cannotCreate(String, reason: String)
    case notWritable(String)
    case inUse(String, holder: Int32?)

    public var description: String {
        switch self {
        case .notADirectory(let path): "data directory \(path) exists but is not a directory"
        case .cannotCreate(let path, let reason): "cannot create data directory \(path): \(reason)"
        case .notWritable(let path): "data directory \(path) is not writable"
        case .inUse(let path, let holder):
            "data directory \(path) is in use by another hubstore process"
                + (holder.map { " (pid \($0))" } ?? "") + "; stop it first or choose another --data"
        }
    }
}
