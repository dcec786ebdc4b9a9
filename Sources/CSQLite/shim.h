#ifndef BEGAWI_CSQLITE_SHIM_H
#define BEGAWI_CSQLITE_SHIM_H
// Debian's libsqlite3 is built with these; sqlite3.h declares their APIs only when asked.
#define SQLITE_ENABLE_SESSION 1
#define SQLITE_ENABLE_PREUPDATE_HOOK 1
#include <sqlite3.h>

/// SQLITE_TRANSIENT is a macro that Swift does not import.
static inline sqlite3_destructor_type begawi_sqlite_transient(void) { return SQLITE_TRANSIENT; }
/// SQLITE_STATIC, likewise.
static inline sqlite3_destructor_type begawi_sqlite_static(void) { return SQLITE_STATIC; }
/// sqlite3_config is variadic. Multi-thread mode: no per-call mutex; GRDB already serializes each
/// connection. Only effective before SQLite initializes; returns SQLITE_MISUSE afterwards.
static inline int begawi_sqlite_config_multithread(void) { return sqlite3_config(SQLITE_CONFIG_MULTITHREAD); }
/// No memory statistics: they take a global mutex on every allocation SQLite makes.
static inline int begawi_sqlite_config_no_memstatus(void) { return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }
/// sqlite3_db_config is variadic. Whether triggers fire on this connection (a snapshot's adoption turns
/// off the capture triggers, which do nothing in an engine transaction); changing it expires the
/// connection's prepared statements.
static inline int begawi_sqlite_enable_triggers(sqlite3 *db, int on) {
    return sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_TRIGGER, on, (int *)0);
}
/// Whether closing this connection may checkpoint the write-ahead log: when it believes itself the last
/// connection, it takes the file's exclusive lock to do so, and every other connection opening the file
/// meanwhile is refused (a hub's snapshot parts each open one and close it).
static inline int begawi_sqlite_no_checkpoint_on_close(sqlite3 *db) {
    return sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)0);
}
#endif
