#include "hub_fault_vfs.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

typedef struct FaultFile FaultFile;
struct FaultFile {
    sqlite3_file base;
    sqlite3_file *real;
    char *path;
};

static sqlite3_vfs *realVfs;
static sqlite3_vfs faultVfs;
static const sqlite3_io_methods faultMethods;
// One armed directory: tests running at the same time each arm their own.
typedef struct Arming {
    char *prefix;
    int operations;
    long skip;
    long count;
    int code;
    long injected;
    long seen;
} Arming;

enum { maximumArmings = 32 };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static Arming armings[maximumArmings];

#define REAL(file) (((FaultFile *)(file))->real)

// The arming of `prefix` (exactly), or NULL. Called with the lock held.
static Arming *find(const char *prefix) {
    for (int index = 0; index < maximumArmings; index++) {
        if (armings[index].prefix != NULL && strcmp(armings[index].prefix, prefix) == 0) return &armings[index];
    }
    return NULL;
}

// The error to return for this operation on this file, or SQLITE_OK to let it through.
static int fault(sqlite3_file *f, int operation) {
    FaultFile *file = (FaultFile *)f;
    int rc = SQLITE_OK;
    if (file->path == NULL) return rc;
    pthread_mutex_lock(&lock);
    for (int index = 0; index < maximumArmings; index++) {
        Arming *arming = &armings[index];
        if (arming->prefix == NULL || (arming->operations & operation) == 0
            || strncmp(file->path, arming->prefix, strlen(arming->prefix)) != 0) {
            continue;
        }
        arming->seen += 1;
        if (arming->skip > 0) {
            arming->skip -= 1;
        } else if (arming->count != 0) {
            if (arming->count > 0) arming->count -= 1;
            arming->injected += 1;
            if (arming->code != 0) {
                rc = arming->code;
            } else if (operation == HUB_FAULT_WRITE) {
                rc = SQLITE_FULL;
            } else if (operation == HUB_FAULT_SYNC) {
                rc = SQLITE_IOERR_FSYNC;
            } else {
                rc = SQLITE_IOERR_TRUNCATE;
            }
        }
        break;
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

int hub_fault_arm(const char *prefix, int operations, int skip, int count, int code) {
    int rc = 0;
    pthread_mutex_lock(&lock);
    Arming *arming = find(prefix);
    for (int index = 0; arming == NULL && index < maximumArmings; index++) {
        if (armings[index].prefix == NULL) {
            arming = &armings[index];
            arming->prefix = strdup(prefix);
        }
    }
    if (arming != NULL) {
        arming->operations = operations;
        arming->skip = skip;
        arming->count = count;
        arming->code = code;
        arming->injected = 0;
        arming->seen = 0;
    } else {
        rc = -1;
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

void hub_fault_disarm(const char *prefix) {
    pthread_mutex_lock(&lock);
    Arming *arming = find(prefix);
    if (arming != NULL) {
        free(arming->prefix);
        memset(arming, 0, sizeof(Arming));
    }
    pthread_mutex_unlock(&lock);
}

long hub_fault_injected(const char *prefix) {
    pthread_mutex_lock(&lock);
    Arming *arming = find(prefix);
    long value = arming != NULL ? arming->injected : 0;
    pthread_mutex_unlock(&lock);
    return value;
}

long hub_fault_seen(const char *prefix) {
    pthread_mutex_lock(&lock);
    Arming *arming = find(prefix);
    long value = arming != NULL ? arming->seen : 0;
    pthread_mutex_unlock(&lock);
    return value;
}

// MARK: - Files

static int faultClose(sqlite3_file *f) {
    FaultFile *file = (FaultFile *)f;
    int rc = REAL(f)->pMethods->xClose(REAL(f));
    free(file->path);
    file->path = NULL;
    return rc;
}

static int faultRead(sqlite3_file *f, void *data, int amount, sqlite3_int64 offset) {
    return REAL(f)->pMethods->xRead(REAL(f), data, amount, offset);
}

static int faultWrite(sqlite3_file *f, const void *data, int amount, sqlite3_int64 offset) {
    int rc = fault(f, HUB_FAULT_WRITE);
    if (rc != SQLITE_OK) return rc;
    return REAL(f)->pMethods->xWrite(REAL(f), data, amount, offset);
}

static int faultTruncate(sqlite3_file *f, sqlite3_int64 size) {
    int rc = fault(f, HUB_FAULT_TRUNCATE);
    if (rc != SQLITE_OK) return rc;
    return REAL(f)->pMethods->xTruncate(REAL(f), size);
}

static int faultSync(sqlite3_file *f, int flags) {
    int rc = fault(f, HUB_FAULT_SYNC);
    if (rc != SQLITE_OK) return rc;
    return REAL(f)->pMethods->xSync(REAL(f), flags);
}

static int faultFileSize(sqlite3_file *f, sqlite3_int64 *size) {
    return REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int faultLock(sqlite3_file *f, int level) {
    return REAL(f)->pMethods->xLock(REAL(f), level);
}

static int faultUnlock(sqlite3_file *f, int level) {
    return REAL(f)->pMethods->xUnlock(REAL(f), level);
}

static int faultCheckReservedLock(sqlite3_file *f, int *result) {
    return REAL(f)->pMethods->xCheckReservedLock(REAL(f), result);
}

static int faultFileControl(sqlite3_file *f, int op, void *argument) {
    return REAL(f)->pMethods->xFileControl(REAL(f), op, argument);
}

static int faultSectorSize(sqlite3_file *f) {
    return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int faultDeviceCharacteristics(sqlite3_file *f) {
    return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

static int faultShmMap(sqlite3_file *f, int page, int pageSize, int extend, void volatile **map) {
    return REAL(f)->pMethods->xShmMap(REAL(f), page, pageSize, extend, map);
}

static int faultShmLock(sqlite3_file *f, int offset, int n, int flags) {
    return REAL(f)->pMethods->xShmLock(REAL(f), offset, n, flags);
}

static void faultShmBarrier(sqlite3_file *f) {
    REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int faultShmUnmap(sqlite3_file *f, int deleteFlag) {
    return REAL(f)->pMethods->xShmUnmap(REAL(f), deleteFlag);
}

static int faultFetch(sqlite3_file *f, sqlite3_int64 offset, int amount, void **pointer) {
    return REAL(f)->pMethods->xFetch(REAL(f), offset, amount, pointer);
}

static int faultUnfetch(sqlite3_file *f, sqlite3_int64 offset, void *pointer) {
    return REAL(f)->pMethods->xUnfetch(REAL(f), offset, pointer);
}

static const sqlite3_io_methods faultMethods = {
    3, faultClose, faultRead, faultWrite, faultTruncate, faultSync, faultFileSize, faultLock, faultUnlock,
    faultCheckReservedLock, faultFileControl, faultSectorSize, faultDeviceCharacteristics, faultShmMap,
    faultShmLock, faultShmBarrier, faultShmUnmap, faultFetch, faultUnfetch,
};

// MARK: - The VFS

static int faultOpen(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *outFlags) {
    (void)vfs;
    FaultFile *file = (FaultFile *)f;
    memset(file, 0, sizeof(FaultFile));
    file->real = (sqlite3_file *)&file[1];
    int rc = realVfs->xOpen(realVfs, name, file->real, flags, outFlags);
    if (file->real->pMethods == NULL) {
        file->base.pMethods = NULL;
        return rc;
    }
    if (file->real->pMethods->iVersion < 3) {
        file->real->pMethods->xClose(file->real);
        file->base.pMethods = NULL;
        return SQLITE_CANTOPEN;
    }
    file->path = name != NULL ? strdup(name) : NULL;
    file->base.pMethods = &faultMethods;
    return rc;
}

static int faultDelete(sqlite3_vfs *vfs, const char *name, int syncDirectory) {
    (void)vfs;
    return realVfs->xDelete(realVfs, name, syncDirectory);
}

static int faultAccess(sqlite3_vfs *vfs, const char *name, int flags, int *result) {
    (void)vfs;
    return realVfs->xAccess(realVfs, name, flags, result);
}

static int faultFullPathname(sqlite3_vfs *vfs, const char *name, int size, char *out) {
    (void)vfs;
    return realVfs->xFullPathname(realVfs, name, size, out);
}

static void *faultDlOpen(sqlite3_vfs *vfs, const char *name) {
    (void)vfs;
    return realVfs->xDlOpen(realVfs, name);
}

static void faultDlError(sqlite3_vfs *vfs, int size, char *message) {
    (void)vfs;
    realVfs->xDlError(realVfs, size, message);
}

static void (*faultDlSym(sqlite3_vfs *vfs, void *handle, const char *symbol))(void) {
    (void)vfs;
    return realVfs->xDlSym(realVfs, handle, symbol);
}

static void faultDlClose(sqlite3_vfs *vfs, void *handle) {
    (void)vfs;
    realVfs->xDlClose(realVfs, handle);
}

static int faultRandomness(sqlite3_vfs *vfs, int size, char *out) {
    (void)vfs;
    return realVfs->xRandomness(realVfs, size, out);
}

static int faultSleep(sqlite3_vfs *vfs, int microseconds) {
    (void)vfs;
    return realVfs->xSleep(realVfs, microseconds);
}

static int faultCurrentTime(sqlite3_vfs *vfs, double *now) {
    (void)vfs;
    return realVfs->xCurrentTime(realVfs, now);
}

static int faultGetLastError(sqlite3_vfs *vfs, int size, char *message) {
    (void)vfs;
    return realVfs->xGetLastError(realVfs, size, message);
}

static int faultCurrentTimeInt64(sqlite3_vfs *vfs, sqlite3_int64 *now) {
    (void)vfs;
    return realVfs->xCurrentTimeInt64(realVfs, now);
}

static pthread_once_t registered = PTHREAD_ONCE_INIT;
static int registration = SQLITE_OK;

static void registerOnce(void) {
    realVfs = sqlite3_vfs_find("unix");
    if (realVfs == NULL) realVfs = sqlite3_vfs_find(NULL);
    if (realVfs == NULL || realVfs->iVersion < 2) {
        registration = SQLITE_ERROR;
        return;
    }
    memset(&faultVfs, 0, sizeof(faultVfs));
    faultVfs.iVersion = 2;
    faultVfs.szOsFile = (int)((sizeof(FaultFile) + 7) & ~(size_t)7) + realVfs->szOsFile;
    faultVfs.mxPathname = realVfs->mxPathname;
    faultVfs.zName = HUB_FAULT_VFS_NAME;
    faultVfs.xOpen = faultOpen;
    faultVfs.xDelete = faultDelete;
    faultVfs.xAccess = faultAccess;
    faultVfs.xFullPathname = faultFullPathname;
    faultVfs.xDlOpen = faultDlOpen;
    faultVfs.xDlError = faultDlError;
    faultVfs.xDlSym = faultDlSym;
    faultVfs.xDlClose = faultDlClose;
    faultVfs.xRandomness = faultRandomness;
    faultVfs.xSleep = faultSleep;
    faultVfs.xCurrentTime = faultCurrentTime;
    faultVfs.xGetLastError = faultGetLastError;
    faultVfs.xCurrentTimeInt64 = faultCurrentTimeInt64;
    registration = sqlite3_vfs_register(&faultVfs, 0);
}

int hub_fault_vfs_register(void) {
    pthread_once(&registered, registerOnce);
    return registration;
}
