#include "hub_wal_buffer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// The durability of one open WAL file, shared with the thread that syncs it on the writer's behalf
// (see hub_wal_buffer_defer_syncs): reference-counted, so that a sync handed out outlives a close.
typedef struct HubWALSync HubWALSync;
struct HubWALSync {
    atomic_int references;
    // A descriptor of its own for the WAL file, opened right after SQLite's (the same file).
    int fd;
    // Commit syncs this file deferred, and the most of them known to be on disk.
    atomic_llong deferred;
    atomic_llong synced;
};

// One open file: the wrapper, with the real VFS's file right after it in the same allocation.
typedef struct HubFile HubFile;
struct HubFile {
    sqlite3_file base;
    sqlite3_file *real;
    // A database file: its WAL file while that is open (same connection).
    HubFile *wal;
    // A WAL file: its database file.
    HubFile *db;
    // WAL files: bytes written but not yet handed to the real file, for [offset, offset + length).
    unsigned char *buffer;
    sqlite3_int64 offset;
    int length;
    int capacity;
    // The first error a deferred write met, reported by the next operation.
    int deferredError;
    // A database file: its WAL's commit syncs are left to the caller (hub_wal_buffer_defer_syncs).
    int deferSyncs;
    // A WAL file: synced once through SQLite's own VFS (which also syncs the directory of a new file).
    int syncedOnce;
    HubWALSync *sync;
};

enum {
    initialCapacity = 256 * 1024,
    // A write that would grow the buffer beyond this goes out first.
    maximumCapacity = 8 * 1024 * 1024,
    // The bytes go out in writes of at most this: the unix VFS takes fewer than 128 KiB per call.
    writeChunk = 64 * 1024,
};

#define REAL_VFS(vfs) ((sqlite3_vfs *)(vfs)->pAppData)
static const sqlite3_io_methods walMethods;
static const sqlite3_io_methods databaseMethods;

#define REAL(file) (((HubFile *)(file))->real)

// Hands the buffered bytes to the real file.
static int flush(HubFile *file) {
    if (file->length == 0) {
        int error = file->deferredError;
        file->deferredError = SQLITE_OK;
        return error;
    }
    int rc = SQLITE_OK;
    for (int done = 0; done < file->length && rc == SQLITE_OK; done += writeChunk) {
        int amount = file->length - done < writeChunk ? file->length - done : writeChunk;
        rc = file->real->pMethods->xWrite(file->real, file->buffer + done, amount, file->offset + done);
    }
    file->length = 0;
    if (rc == SQLITE_OK) {
        rc = file->deferredError;
    }
    file->deferredError = SQLITE_OK;
    return rc;
}

static void flushQuietly(HubFile *file) {
    if (file != NULL && file->length > 0) {
        int rc = flush(file);
        if (rc != SQLITE_OK) file->deferredError = rc;
    }
}

static void syncStateRelease(HubWALSync *state) {
    if (state != NULL && atomic_fetch_sub(&state->references, 1) == 1) {
        if (state->fd >= 0) close(state->fd);
        free(state);
    }
}

// Raises `synced` to `generation` (it only grows).
static void syncStateReached(HubWALSync *state, long long generation) {
    long long current = atomic_load(&state->synced);
    while (current < generation && !atomic_compare_exchange_weak(&state->synced, &current, generation)) {
    }
}

// Syncs the WAL through SQLite's VFS now; every sync deferred before is then on disk too.
static int syncNow(HubFile *file, int flags) {
    long long due = file->sync != NULL ? atomic_load(&file->sync->deferred) : 0;
    int rc = file->real->pMethods->xSync(file->real, flags);
    if (rc == SQLITE_OK) {
        file->syncedOnce = 1;
        if (file->sync != NULL) syncStateReached(file->sync, due);
    }
    return rc;
}

// Before the database file is written, synced or truncated (a checkpoint copying frames into it),
// the WAL's deferred syncs are done: SQLite syncs the WAL before a checkpoint for that reason.
static int syncDeferred(HubFile *wal) {
    if (wal == NULL || wal->sync == NULL) return SQLITE_OK;
    if (atomic_load(&wal->sync->synced) >= atomic_load(&wal->sync->deferred)) return SQLITE_OK;
    int rc = flush(wal);
    if (rc != SQLITE_OK) return rc;
    return syncNow(wal, SQLITE_SYNC_NORMAL);
}

// MARK: - WAL files

static int walClose(sqlite3_file *f) {
    HubFile *file = (HubFile *)f;
    int rc = flush(file);
    if (file->db != NULL && file->db->wal == file) file->db->wal = NULL;
    int closed = file->real->pMethods->xClose(file->real);
    free(file->buffer);
    file->buffer = NULL;
    syncStateRelease(file->sync);
    file->sync = NULL;
    return rc != SQLITE_OK ? rc : closed;
}

static int walRead(sqlite3_file *f, void *data, int amount, sqlite3_int64 offset) {
    int rc = flush((HubFile *)f);
    if (rc != SQLITE_OK) return rc;
    return REAL(f)->pMethods->xRead(REAL(f), data, amount, offset);
}

static int walWrite(sqlite3_file *f, const void *data, int amount, sqlite3_int64 offset) {
    HubFile *file = (HubFile *)f;
    if (file->length > 0 && offset != file->offset + file->length) {
        int rc = flush(file);
        if (rc != SQLITE_OK) return rc;
    }
    if (amount > writeChunk) {
        // Larger than SQLite itself writes (a page is at most 64 KiB): not buffered.
        int rc = flush(file);
        if (rc != SQLITE_OK) return rc;
        return file->real->pMethods->xWrite(file->real, data, amount, offset);
    }
    if (file->length + amount > file->capacity) {
        if (file->length + amount > maximumCapacity) {
            int rc = flush(file);
            if (rc != SQLITE_OK) return rc;
        }
        int needed = file->length + amount;
        if (needed > file->capacity) {
            int capacity = file->capacity == 0 ? initialCapacity : file->capacity;
            while (capacity < needed) capacity *= 2;
            if (capacity > maximumCapacity) capacity = maximumCapacity;
            unsigned char *grown = realloc(file->buffer, (size_t)capacity);
            if (grown == NULL) {
                // No memory for the buffer: write through.
                int rc = flush(file);
                if (rc != SQLITE_OK) return rc;
                return file->real->pMethods->xWrite(file->real, data, amount, offset);
            }
            file->buffer = grown;
            file->capacity = capacity;
        }
    }
    if (file->length == 0) file->offset = offset;
    memcpy(file->buffer + file->length, data, (size_t)amount);
    file->length += amount;
    return SQLITE_OK;
}

static int walTruncate(sqlite3_file *f, sqlite3_int64 size) {
    int rc = syncDeferred((HubFile *)f);
    if (rc == SQLITE_OK) rc = flush((HubFile *)f);
    if (rc != SQLITE_OK) return rc;
    return REAL(f)->pMethods->xTruncate(REAL(f), size);
}

// A commit's sync. The bytes are written out first either way, so a failed write fails the commit.
// Deferred (the database's connection asked for it, after one sync of this file through the VFS):
// counted, and left to hub_wal_buffer_sync_deferred.
static int walSync(sqlite3_file *f, int flags) {
    HubFile *file = (HubFile *)f;
    int rc = flush(file);
    if (rc != SQLITE_OK) return rc;
    if (file->sync != NULL && file->sync->fd >= 0 && file->syncedOnce && file->db != NULL && file->db->deferSyncs) {
        atomic_fetch_add(&file->sync->deferred, 1);
        return SQLITE_OK;
    }
    return syncNow(file, flags);
}

static int walFileSize(sqlite3_file *f, sqlite3_int64 *size) {
    int rc = flush((HubFile *)f);
    if (rc != SQLITE_OK) return rc;
    return REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int walFileControl(sqlite3_file *f, int op, void *argument) {
    int rc = flush((HubFile *)f);
    if (rc != SQLITE_OK) return rc;
    return REAL(f)->pMethods->xFileControl(REAL(f), op, argument);
}

// MARK: - Both kinds: passed through

static int passClose(sqlite3_file *f) {
    HubFile *file = (HubFile *)f;
    if (file->wal != NULL) {
        flushQuietly(file->wal);
        file->wal->db = NULL;
    }
    return REAL(f)->pMethods->xClose(REAL(f));
}

static int passRead(sqlite3_file *f, void *data, int amount, sqlite3_int64 offset) {
    return REAL(f)->pMethods->xRead(REAL(f), data, amount, offset);
}

static int passWrite(sqlite3_file *f, const void *data, int amount, sqlite3_int64 offset) {
    int rc = syncDeferred(((HubFile *)f)->wal);
    if (rc != SQLITE_OK) return rc;
    return REAL(f)->pMethods->xWrite(REAL(f), data, amount, offset);
}

static int passTruncate(sqlite3_file *f, sqlite3_int64 size) {
    int rc = syncDeferred(((HubFile *)f)->wal);
    if (rc != SQLITE_OK) return rc;
    return REAL(f)->pMethods->xTruncate(REAL(f), size);
}

static int passSync(sqlite3_file *f, int flags) {
    int rc = syncDeferred(((HubFile *)f)->wal);
    if (rc != SQLITE_OK) return rc;
    return REAL(f)->pMethods->xSync(REAL(f), flags);
}

static int passFileSize(sqlite3_file *f, sqlite3_int64 *size) {
    return REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int passLock(sqlite3_file *f, int lock) {
    return REAL(f)->pMethods->xLock(REAL(f), lock);
}

static int passUnlock(sqlite3_file *f, int lock) {
    flushQuietly(((HubFile *)f)->wal);
    return REAL(f)->pMethods->xUnlock(REAL(f), lock);
}

static int passCheckReservedLock(sqlite3_file *f, int *result) {
    return REAL(f)->pMethods->xCheckReservedLock(REAL(f), result);
}

static int passFileControl(sqlite3_file *f, int op, void *argument) {
    return REAL(f)->pMethods->xFileControl(REAL(f), op, argument);
}

static int passSectorSize(sqlite3_file *f) {
    return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int passDeviceCharacteristics(sqlite3_file *f) {
    return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

static int passShmMap(sqlite3_file *f, int page, int pageSize, int extend, void volatile **map) {
    return REAL(f)->pMethods->xShmMap(REAL(f), page, pageSize, extend, map);
}

// The database's WAL index: a commit becomes visible to other connections when its header is
// written, with a barrier in between, and the write lock is released afterwards. The WAL's bytes
// must be in the file before either.
static int passShmLock(sqlite3_file *f, int offset, int n, int flags) {
    flushQuietly(((HubFile *)f)->wal);
    return REAL(f)->pMethods->xShmLock(REAL(f), offset, n, flags);
}

static void passShmBarrier(sqlite3_file *f) {
    flushQuietly(((HubFile *)f)->wal);
    REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int passShmUnmap(sqlite3_file *f, int deleteFlag) {
    return REAL(f)->pMethods->xShmUnmap(REAL(f), deleteFlag);
}

static int passFetch(sqlite3_file *f, sqlite3_int64 offset, int amount, void **pointer) {
    return REAL(f)->pMethods->xFetch(REAL(f), offset, amount, pointer);
}

static int passUnfetch(sqlite3_file *f, sqlite3_int64 offset, void *pointer) {
    return REAL(f)->pMethods->xUnfetch(REAL(f), offset, pointer);
}

static const sqlite3_io_methods walMethods = {
    3, walClose, walRead, walWrite, walTruncate, walSync, walFileSize, passLock, passUnlock,
    passCheckReservedLock, walFileControl, passSectorSize, passDeviceCharacteristics, passShmMap,
    passShmLock, passShmBarrier, passShmUnmap, passFetch, passUnfetch,
};

static const sqlite3_io_methods databaseMethods = {
    3, passClose, passRead, passWrite, passTruncate, passSync, passFileSize, passLock, passUnlock,
    passCheckReservedLock, passFileControl, passSectorSize, passDeviceCharacteristics, passShmMap,
    passShmLock, passShmBarrier, passShmUnmap, passFetch, passUnfetch,
};

// MARK: - The VFS

static int bufferOpen(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *outFlags) {
    sqlite3_vfs *realVfs = REAL_VFS(vfs);
    HubFile *file = (HubFile *)f;
    memset(file, 0, sizeof(HubFile));
    file->real = (sqlite3_file *)&file[1];
    int rc = realVfs->xOpen(realVfs, name, file->real, flags, outFlags);
    if (file->real->pMethods == NULL) {
        file->base.pMethods = NULL;
        return rc;
    }
    if (file->real->pMethods->iVersion < 3) {
        // Not the VFS this was written for: refuse rather than guess.
        file->real->pMethods->xClose(file->real);
        file->base.pMethods = NULL;
        return SQLITE_CANTOPEN;
    }
    if ((flags & SQLITE_OPEN_WAL) != 0 && name != NULL) {
        file->base.pMethods = &walMethods;
        file->sync = calloc(1, sizeof(HubWALSync));
        if (file->sync != NULL) {
            atomic_init(&file->sync->references, 1);
            file->sync->fd = open(name, O_RDONLY | O_CLOEXEC);
        }
        sqlite3_file *database = sqlite3_database_file_object(name);
        if (database != NULL && database->pMethods == &databaseMethods) {
            file->db = (HubFile *)database;
            file->db->wal = file;
        }
    } else {
        file->base.pMethods = &databaseMethods;
    }
    return rc;
}

static int bufferDelete(sqlite3_vfs *vfs, const char *name, int syncDirectory) {
    return REAL_VFS(vfs)->xDelete(REAL_VFS(vfs), name, syncDirectory);
}

static int bufferAccess(sqlite3_vfs *vfs, const char *name, int flags, int *result) {
    return REAL_VFS(vfs)->xAccess(REAL_VFS(vfs), name, flags, result);
}

static int bufferFullPathname(sqlite3_vfs *vfs, const char *name, int size, char *out) {
    return REAL_VFS(vfs)->xFullPathname(REAL_VFS(vfs), name, size, out);
}

static void *bufferDlOpen(sqlite3_vfs *vfs, const char *name) {
    return REAL_VFS(vfs)->xDlOpen(REAL_VFS(vfs), name);
}

static void bufferDlError(sqlite3_vfs *vfs, int size, char *message) {
    REAL_VFS(vfs)->xDlError(REAL_VFS(vfs), size, message);
}

static void (*bufferDlSym(sqlite3_vfs *vfs, void *handle, const char *symbol))(void) {
    return REAL_VFS(vfs)->xDlSym(REAL_VFS(vfs), handle, symbol);
}

static void bufferDlClose(sqlite3_vfs *vfs, void *handle) {
    REAL_VFS(vfs)->xDlClose(REAL_VFS(vfs), handle);
}

static int bufferRandomness(sqlite3_vfs *vfs, int size, char *out) {
    return REAL_VFS(vfs)->xRandomness(REAL_VFS(vfs), size, out);
}

static int bufferSleep(sqlite3_vfs *vfs, int microseconds) {
    return REAL_VFS(vfs)->xSleep(REAL_VFS(vfs), microseconds);
}

static int bufferCurrentTime(sqlite3_vfs *vfs, double *now) {
    return REAL_VFS(vfs)->xCurrentTime(REAL_VFS(vfs), now);
}

static int bufferGetLastError(sqlite3_vfs *vfs, int size, char *message) {
    return REAL_VFS(vfs)->xGetLastError(REAL_VFS(vfs), size, message);
}

static int bufferCurrentTimeInt64(sqlite3_vfs *vfs, sqlite3_int64 *now) {
    return REAL_VFS(vfs)->xCurrentTimeInt64(REAL_VFS(vfs), now);
}

// Makes and registers (not as the default) a buffering VFS named `name` over `real`.
static int registerInstance(const char *name, sqlite3_vfs *real) {
    if (real == NULL || real->iVersion < 2) return SQLITE_ERROR;
    if (sqlite3_vfs_find(name) != NULL) return SQLITE_OK;
    sqlite3_vfs *vfs = calloc(1, sizeof(sqlite3_vfs));
    char *copy = strdup(name);
    if (vfs == NULL || copy == NULL) {
        free(vfs);
        free(copy);
        return SQLITE_NOMEM;
    }
    vfs->iVersion = 2;
    vfs->szOsFile = (int)((sizeof(HubFile) + 7) & ~(size_t)7) + real->szOsFile;
    vfs->mxPathname = real->mxPathname;
    vfs->zName = copy;
    vfs->pAppData = real;
    vfs->xOpen = bufferOpen;
    vfs->xDelete = bufferDelete;
    vfs->xAccess = bufferAccess;
    vfs->xFullPathname = bufferFullPathname;
    vfs->xDlOpen = bufferDlOpen;
    vfs->xDlError = bufferDlError;
    vfs->xDlSym = bufferDlSym;
    vfs->xDlClose = bufferDlClose;
    vfs->xRandomness = bufferRandomness;
    vfs->xSleep = bufferSleep;
    vfs->xCurrentTime = bufferCurrentTime;
    vfs->xGetLastError = bufferGetLastError;
    vfs->xCurrentTimeInt64 = bufferCurrentTimeInt64;
    int rc = sqlite3_vfs_register(vfs, 0);
    if (rc != SQLITE_OK) {
        free(vfs);
        free(copy);
    }
    return rc;
}

static pthread_mutex_t registrationLock = PTHREAD_MUTEX_INITIALIZER;

int hub_wal_buffer_register(void) {
    pthread_mutex_lock(&registrationLock);
    int rc = registerInstance(HUB_WAL_BUFFER_VFS_NAME, sqlite3_vfs_find(NULL));
    pthread_mutex_unlock(&registrationLock);
    return rc;
}

int hub_wal_buffer_register_over(const char *underlying, char *name, int size) {
    sqlite3_vfs *real = sqlite3_vfs_find(underlying);
    if (real == NULL) return SQLITE_ERROR;
    sqlite3_snprintf(size, name, "%s+%s", HUB_WAL_BUFFER_VFS_NAME, underlying);
    pthread_mutex_lock(&registrationLock);
    int rc = registerInstance(name, real);
    pthread_mutex_unlock(&registrationLock);
    return rc;
}

// MARK: - Deferred commit syncs

static HubFile *databaseFile(sqlite3 *db) {
    sqlite3_file *file = NULL;
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK || file == NULL) return NULL;
    return file->pMethods == &databaseMethods ? (HubFile *)file : NULL;
}

int hub_wal_buffer_defer_syncs(sqlite3 *db, int on) {
    HubFile *file = databaseFile(db);
    if (file == NULL) return SQLITE_NOTFOUND;
    file->deferSyncs = on;
    return SQLITE_OK;
}

void *hub_wal_buffer_take_deferred(sqlite3 *db, long long *generation) {
    HubFile *file = databaseFile(db);
    if (file == NULL || file->wal == NULL || file->wal->sync == NULL) return NULL;
    HubWALSync *state = file->wal->sync;
    long long due = atomic_load(&state->deferred);
    if (atomic_load(&state->synced) >= due) return NULL;
    atomic_fetch_add(&state->references, 1);
    *generation = due;
    return state;
}

int hub_wal_buffer_sync_deferred(void *handle, long long generation) {
    HubWALSync *state = handle;
    if (atomic_load(&state->synced) >= generation) return 0;
    if (fdatasync(state->fd) != 0) return errno;
    syncStateReached(state, generation);
    return 0;
}

void hub_wal_buffer_release(void *handle) {
    syncStateRelease(handle);
}
