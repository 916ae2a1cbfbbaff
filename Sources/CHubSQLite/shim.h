#ifndef CHUBSQLITE_SHIM_H
#define CHUBSQLITE_SHIM_H

#include <sqlite3.h>

// SQLITE_TRANSIENT is a function-pointer-cast macro that Swift cannot import.
static inline sqlite3_destructor_type hub_sqlite_transient(void) {
    return SQLITE_TRANSIENT;
}

// sqlite3_db_config is variadic, which Swift cannot call; this fixed-arity form covers the
// integer options (SQLITE_DBCONFIG_DQS_DDL, SQLITE_DBCONFIG_DQS_DML, ...).
static inline int hub_sqlite_db_config_int(sqlite3 *db, int op, int value) {
    return sqlite3_db_config(db, op, value, (int *)0);
}

#endif
