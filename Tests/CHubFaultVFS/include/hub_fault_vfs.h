#ifndef HUB_FAULT_VFS_H
#define HUB_FAULT_VFS_H

// A test-only SQLite VFS that wraps the default one and makes chosen file operations fail, the way a
// full disk (ENOSPC) or a failing device (EIO) makes them fail: writes, syncs or truncations of the
// files under one path prefix fail with an SQLite error code after a number of them have passed.
// Files elsewhere are untouched, so tests that do not arm it can run beside it.

#define HUB_FAULT_VFS_NAME "hubstore-fault"

enum {
    HUB_FAULT_WRITE = 1,
    HUB_FAULT_SYNC = 2,
    HUB_FAULT_TRUNCATE = 4,
};

// Registers the VFS (not as the default) under HUB_FAULT_VFS_NAME; safe to call more than once.
// Returns an SQLite result code.
int hub_fault_vfs_register(void);

// Arms faults for files whose path starts with `prefix`: of the operations in `operations` (a mask of
// HUB_FAULT_*), the first `skip` pass, then `count` fail (-1: every one until disarmed). A failing
// operation does nothing and returns `code`, or, when `code` is 0, what the unix VFS returns for
// ENOSPC: SQLITE_FULL for a write, SQLITE_IOERR_FSYNC for a sync, SQLITE_IOERR_TRUNCATE for a
// truncation. Replaces an earlier arming of the same prefix; up to 32 prefixes are armed at once
// (returns -1 beyond that).
int hub_fault_arm(const char *prefix, int operations, int skip, int count, int code);

// Stops injecting faults under `prefix`.
void hub_fault_disarm(const char *prefix);

// Faults injected under `prefix` since it was armed.
long hub_fault_injected(const char *prefix);

// Operations of the armed kinds seen under `prefix` since it was armed (failed or not).
long hub_fault_seen(const char *prefix);

#endif
