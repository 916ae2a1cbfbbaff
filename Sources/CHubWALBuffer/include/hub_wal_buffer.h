#ifndef HUB_WAL_BUFFER_H
#define HUB_WAL_BUFFER_H

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

#define HUB_WAL_BUFFER_VFS_NAME "hubstore-wal-buffer"

#endif
