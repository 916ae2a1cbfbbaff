#ifndef CHUBSQLITE_SHIM_H
#define CHUBSQLITE_SHIM_H

#include <sqlite3.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdint.h>

// SQLITE_TRANSIENT is a function-pointer-cast macro that Swift cannot import.
static inline sqlite3_destructor_type hub_sqlite_transient(void) {
    return SQLITE_TRANSIENT;
}

// sqlite3_db_config is variadic, which Swift cannot call; this fixed-arity form covers the
// integer options (SQLITE_DBCONFIG_DQS_DDL, SQLITE_DBCONFIG_DQS_DML, ...).
static inline int hub_sqlite_db_config_int(sqlite3 *db, int op, int value) {
    return sqlite3_db_config(db, op, value, (int *)0);
}

// sqlite3_config is variadic too. Memory statistics take a global mutex on every allocation; the
// hub never reads them. Only takes effect before SQLite initialises (returns SQLITE_MISUSE after).
static inline int hub_sqlite_disable_memory_statistics(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

// A busy handler that retries every millisecond for up to `timeout_ms` (passed as the handler's
// argument). SQLite's own (sqlite3_busy_timeout) backs off to 100 ms sleeps: a writer waiting behind
// another process that commits and at once begins again (a rebuild filling its tables) keeps waking
// after the lock was taken again, and can starve until its timeout.
static int hub_busy_poll(void *timeout_ms, int count) {
    if (count >= (int)(intptr_t)timeout_ms) return 0;
    usleep(1000);
    return 1;
}

static inline int hub_set_busy_timeout(sqlite3 *db, int timeout_ms) {
    return sqlite3_busy_handler(db, hub_busy_poll, (void *)(intptr_t)timeout_ms);
}

// The kernel's id of the calling thread (setpriority takes it); glibc's gettid() needs _GNU_SOURCE.
static inline long hub_current_thread_id(void) {
    return syscall(SYS_gettid);
}

// Names the calling thread (at most 15 bytes are kept); prctl is variadic, which Swift cannot call.
static inline void hub_set_current_thread_name(const char *name) {
    prctl(PR_SET_NAME, name, 0, 0, 0);
}

#endif
