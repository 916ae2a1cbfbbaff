#ifndef HUB_WAL_BUFFER_H
#define HUB_WAL_BUFFER_H

struct sqlite3;

// A SQLite VFS that wraps the default one and gathers the writes of a commit to its WAL file into
// one buffer, written with one pwrite instead of two per frame (a 24-byte frame header, then the
// page). Nothing else changes: the buffer is written out before the WAL file is synced, read, sized,
// truncated or closed, and before the database's shared-memory barrier and lock changes, which is
// how a commit becomes visible to other connections. So a commit is in the file (and, in
// synchronous=FULL, on disk) exactly when it would be without this VFS.

// Registers the VFS (not as the default) under HUB_WAL_BUFFER_VFS_NAME; safe to call more than
// once. Returns an SQLite result code.
int hub_wal_buffer_register(void);

// Registers (once) a buffering VFS over the registered VFS named `underlying` rather than the default
// one, and writes its name into `name` (`size` bytes). Returns an SQLite result code.
int hub_wal_buffer_register_over(const char *underlying, char *name, int size);

// Commit syncs left to the caller, for a writer that syncs off its own thread: once `db` (opened
// through the buffer VFS) asks for it, a commit writes its WAL bytes out as before (a failed write
// still fails the commit) but does not wait for the disk; the WAL is synced only when the caller
// calls hub_wal_buffer_sync_deferred, or when the database file is about to be written, synced or
// truncated (a checkpoint), since the frames copied there must be on disk first. The first sync of
// each WAL file still goes through the VFS, which syncs the directory of a new file.
//
// Returns SQLITE_OK, or SQLITE_NOTFOUND when `db` is not opened through the buffer VFS. Call on the
// connection's own thread.
int hub_wal_buffer_defer_syncs(struct sqlite3 *db, int on);

// After a commit: the deferred syncs outstanding, as a retained handle and the generation that
// covers them (NULL when every commit is on disk already). Call on the connection's own thread.
void *hub_wal_buffer_take_deferred(struct sqlite3 *db, long long *generation);

// Syncs the WAL file (fdatasync) unless `generation` was reached already. Safe on any thread while
// the connection keeps writing. Returns 0 or the errno of the failed sync.
int hub_wal_buffer_sync_deferred(void *handle, long long generation);

// Releases a handle of hub_wal_buffer_take_deferred.
void hub_wal_buffer_release(void *handle);

#define HUB_WAL_BUFFER_VFS_NAME "hubstore-wal-buffer"

#endif
