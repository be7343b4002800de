// SQLite 3 C API.
#include <sqlite3.h>
