/*
 * store.c - the store greyd asks: a directory means the embedded LMDB
 * store, a postgresql:// (or postgres://) URI the shared PostgreSQL one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "greyd.h"

struct store {
  const struct store_backend *be;
  void *b;
};

static int is_pg(const char *spec)
{
  return !strncmp(spec, "postgresql://", 13)
         || !strncmp(spec, "postgres://", 11);
}

const char *store_spec_bad(const char *spec)
{
  if (is_pg(spec) || spec[0] == '/') return NULL;
  return "is neither an absolute directory (LMDB) nor a postgresql:// URI";
}

struct store *store_open(const char *spec, unsigned timeout,
                         size_t lmdb_mib, unsigned lmdb_sync,
                         unsigned mode, char *why, size_t room)
{
  struct store *s = calloc(1, sizeof *s);

  if (!s) { snprintf(why, room, "out of memory"); return NULL; }
  if (is_pg(spec)) {
    s->be = &pg_backend;
    s->b = pg_open(spec, timeout, why, room);
  } else {
    s->be = &lmdb_backend;
    s->b = lmdb_open(spec, lmdb_mib, lmdb_sync, mode, why, room);
  }
  if (!s->b) { free(s); return NULL; }
  return s;
}

void store_close(struct store *s)
{
  if (!s) return;
  s->be->close(s->b);
  free(s);
}

const char *store_kind(const struct store *s) { return s->be->kind; }

int store_fetch(struct store *s, struct item *it, size_t n)
{
  return s->be->fetch(s->b, it, n);
}

int store_commit(struct store *s, const struct item *it, size_t n)
{
  return s->be->commit(s->b, it, n);
}

void store_abort(struct store *s) { s->be->abort(s->b); }

long store_expire(struct store *s, uint32_t now, const struct timing *tm,
                  unsigned budget)
{
  return s->be->expire(s->b, now, tm, budget);
}

int store_sync(struct store *s) { return s->be->sync(s->b); }

int store_walk(struct store *s, const struct store_iter *it)
{
  return s->be->walk(s->b, it);
}

const char *store_error(const struct store *s) { return s->be->error(s->b); }
