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
#endif
