import CHubSQLite
import CHubWALBuffer

#if canImport(Glibc)
import Glibc
#endif

/// The WAL syncs a writer's commits deferred (``Connection/deferWALSyncs(_:)``): syncing it makes every
/// one of them durable. Taken on the connection's thread after a commit, it may be synced on any
/// thread while the connection goes on writing.
///
/// `@unchecked Sendable`: the handle is a reference-counted C object whose sync state is atomic.
public final class DeferredWALSync: @unchecked Sendable {
    private let handle: UnsafeMutableRawPointer
    private let generation: Int64

    init(handle: UnsafeMutableRawPointer, generation: Int64) {
        self.handle = handle
        self.generation = generation
    }

    deinit { hub_wal_buffer_release(handle) }

    /// Syncs the WAL file (`fdatasync`) unless a later sync already covered these commits.
    ///
    /// - Throws: ``SQLiteError`` `SQLITE_IOERR_FSYNC` with the system's error when the sync fails.
    public func sync() throws(SQLiteError) {
        let failure = hub_wal_buffer_sync_deferred(handle, generation)
        guard failure == 0 else {
            throw SQLiteError(
                code: ResultCode(rawValue: SQLITE_IOERR | (4 << 8)),  // SQLITE_IOERR_FSYNC
                message: "syncing the WAL failed: \(String(cString: strerror(failure)))"
            )
        }
    }

    /// Whether `other` belongs to the same WAL file and covers these commits (a later one does).
    public func isCovered(by other: DeferredWALSync) -> Bool {
        other.handle == handle && other.generation >= generation
    }
}

extension Connection {
    /// Leaves (`on`) the WAL sync of each commit to the caller (``takeDeferredWALSync()``), for a writer that
    /// syncs off its own thread: a commit's WAL bytes are still written before it returns (a failed
    /// write fails the commit), and a checkpoint still syncs the WAL before it copies frames. Only for
    /// a connection opened with buffered WAL writes in `synchronous` `.full`; returns whether it applies.
    /// Call on the connection's own thread.
    public func deferWALSyncs(_ on: Bool) -> Bool {
        hub_wal_buffer_defer_syncs(handle, on ? 1 : 0) == SQLITE_OK
    }

    /// After a commit on a connection that defers its WAL syncs: what makes the commits so far
    /// durable, or `nil` when they are already.
    public func takeDeferredWALSync() -> DeferredWALSync? {
        var generation: Int64 = 0
        guard let handle = withUnsafeMutablePointer(to: &generation, { hub_wal_buffer_take_deferred(self.handle, $0) })
        else { return nil }
        return DeferredWALSync(handle: handle, generation: generation)
    }
}
