/*
 * db.h - the accounts CDB, as acctd reads it.
 *
 * The whole file is read into memory and checked once when it is
 * (re)opened: every hash table and every record must lie inside the file,
 * so a corrupt or truncated CDB is reported at open ("corrupt: ...") and
 * lookups through libowfat's cdb_find() can never read outside the copy.
 * A copy, not mmap(2): a file truncated or rewritten in place (cp over
 * it) would make a mapped read die of SIGBUS.
 *
 * acctd-data stores one reserved key besides the addresses: DB_CASE_KEY,
 * "fold" or "keep", saying whether local parts were lower-cased.  It has
 * no '@', so no lookup can ever match it.  A CDB without it (built with
 * cdb -m, say) is taken as "fold".
 */
#ifndef ACCTD_DB_H
#define ACCTD_DB_H

#include <stddef.h>
#include <sys/stat.h>

#define DB_CASE_KEY "acctd:case"
#define DB_VALUE "OK"

struct db {
  char *map;                    /* the file's bytes (read-only) */
  size_t size;
  void *base;                   /* the mapping map lies in */
  size_t baselen;
  unsigned long entries;        /* records, the reserved key excluded */
  int keepcase;
  unsigned long capitals;       /* folded CDB: keys with an A-Z in them */
  dev_t dev;                    /* which file this is, to see a new one */
  ino_t ino;
  off_t fsize;
  struct timespec mtime;
};

enum { DB_OK = 0, DB_FAIL = -1, DB_BUSY = -2 };

/* Read and check path.  DB_OK; DB_FAIL with *why (system error text or
 * "corrupt: ..."); DB_BUSY if the file changed while it was read. */
int db_open(struct db *d, const char *path, const char **why);
/* Check the CDB structure of map; counts the records. */
int db_check(const char *map, size_t size, unsigned long *records,
             const char **why);
/* 1 found, 0 not found, -1 error (corrupt). */
int db_find(const struct db *d, const char *key, size_t n);
/* Is st the file d was read from, unchanged? */
int db_same(const struct db *d, const struct stat *st);
void db_close(struct db *d);

/* libowfat's cdb_make_finish() leaves its hash lists allocated (djb's
 * writers exit right after); this frees them. */
struct cdb_make;
void db_make_free(struct cdb_make *cm);

#endif
