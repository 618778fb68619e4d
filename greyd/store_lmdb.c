/*
 * store_lmdb.c - the embedded store: one LMDB environment in a
 * directory, two databases ("triplet", "client").  A batch of requests
 * is one write transaction, committed before any of them is answered,
 * so a process killed with -9 loses nothing it had answered.  Commits
 * write to the page cache without fsync (MDB_NOSYNC) and a thread of
 * its own syncs the file every interval seconds: the event loop never
 * waits for the disk.
 *
 * With an interval the map is written in place (MDB_WRITEMAP): a commit
 * is then a few stores to memory instead of a pwrite(2) of every dirty
 * page, a third of greyd's time per request.  What a commit wrote is in
 * the page cache at once, so a process killed with -9 still loses
 * nothing it had answered; but the kernel may write the pages back in
 * any order, so a power cut between two syncs may leave a store that
 * must be removed (greyd(8), BUGS).  LMDB makes the file as large as the
 * map, sparse; disk blocks are reserved RESERVE bytes ahead of the last
 * page used, since a page of the map with no block behind it on a full
 * disk would kill the process (SIGBUS) instead of failing a commit.
 *
 * Keys: net NUL sender NUL recipient.  LMDB keys are at most 511 bytes;
 * a longer triplet keeps its first 480 bytes plus a 64-bit hash of the
 * whole (greyd-dump then shows the cut key).
 * Values: four native-endian 32-bit numbers.
 */
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "greyd.h"

#define KEY_MAX 511
#define KEY_CUT 480
#define RESERVE (64ULL << 20)

struct lmdb {
  MDB_env *env;
  MDB_dbi trip, cli;
  MDB_txn *txn;
  char err[256];
  /* the sync thread */
  pthread_t syncer;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  unsigned interval;
  int running, stop;
  int writemap;
  unsigned long long reserved;  /* bytes of the file with blocks behind */
  /* where the expiry walk resumes */
  int exp_db;                  /* 0 triplets, 1 clients */
  unsigned char exp_key[KEY_MAX];
  size_t exp_len;
};

static int fail(struct lmdb *l, const char *what, int rc)
{
  snprintf(l->err, sizeof l->err, "%s: %s", what, mdb_strerror(rc));
  return -1;
}

/* fdatasync every interval: mdb_env_sync touches no transaction state,
 * so it may run beside the loop's write transactions. */
static void *sync_loop(void *arg)
{
  struct lmdb *l = arg;
  struct timespec ts;

  pthread_mutex_lock(&l->mu);
  while (!l->stop) {
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += l->interval;
    pthread_cond_timedwait(&l->cv, &l->mu, &ts);
    if (l->stop) break;
    pthread_mutex_unlock(&l->mu);
    mdb_env_sync(l->env, 1);
    pthread_mutex_lock(&l->mu);
  }
  pthread_mutex_unlock(&l->mu);
  return NULL;
}

/* The thread must never take a signal meant for the event loop's
 * signalfd (SIGTERM would then kill greyd instead of draining it): it
 * starts with every signal blocked. */
static void start_syncer(struct lmdb *l)
{
  sigset_t all, old;

  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  if (pthread_create(&l->syncer, NULL, sync_loop, l) == 0) l->running = 1;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void lmdb_close(void *b)
{
  struct lmdb *l = b;

  if (l->running) {
    pthread_mutex_lock(&l->mu);
    l->stop = 1;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->syncer, NULL);
  }
  if (l->txn) mdb_txn_abort(l->txn);
  mdb_env_close(l->env);
  free(l);
}

/* Keep disk blocks reserved RESERVE bytes past the last page in use
 * (or to the end of the map).  Called at open and once a second: greyd
 * writes far less than RESERVE a second. */
static int reserve(struct lmdb *l)
{
  MDB_envinfo info;
  MDB_stat st;
  unsigned long long want;
  int fd, rc;

  if (!l->writemap) return 0;
  if ((rc = mdb_env_info(l->env, &info)) || (rc = mdb_env_stat(l->env, &st))
      || (rc = mdb_env_get_fd(l->env, &fd)))
    return fail(l, "reserve", rc);
  want = ((unsigned long long)info.me_last_pgno + 1) * st.ms_psize + RESERVE;
  if (want > info.me_mapsize) want = info.me_mapsize;
  if (want <= l->reserved) return 0;
  if ((rc = posix_fallocate(fd, 0, (off_t)want)))
    return fail(l, "reserve disk", rc);
  l->reserved = want;
  return 0;
}

/* The directory and its data file must be there already (mode
 * STORE_EXISTING), or the directory is made. */
static int find_dir(const char *dir, unsigned mode, char *why, size_t room)
{
  char path[4096];
  struct stat st;

  if (!(mode & STORE_EXISTING)) {
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
      snprintf(why, room, "mkdir %s: %s", dir, strerror(errno));
      return -1;
    }
    return 0;
  }
  if (stat(dir, &st) < 0) {
    snprintf(why, room, "no store %s: %s", dir, strerror(errno));
    return -1;
  }
  if (!S_ISDIR(st.st_mode)) {
    snprintf(why, room, "no store %s: not a directory", dir);
    return -1;
  }
  if ((size_t)snprintf(path, sizeof path, "%s/data.mdb", dir)
      >= sizeof path) {
    snprintf(why, room, "no store %.64s...: name too long", dir);
    return -1;
  }
  if (stat(path, &st) < 0) {
    snprintf(why, room, "no store %s: data.mdb: %s", dir, strerror(errno));
    return -1;
  }
  return 0;
}

/* The two databases; a read-only open finds them (greyd makes both). */
static int open_dbs(struct lmdb *l, unsigned mode)
{
  unsigned ro = mode & STORE_RDONLY, create = ro ? 0 : MDB_CREATE;
  MDB_txn *txn;
  int rc;

  if ((rc = mdb_txn_begin(l->env, NULL, ro ? MDB_RDONLY : 0, &txn)))
    return rc;
  if ((rc = mdb_dbi_open(txn, "triplet", create, &l->trip))
      || (rc = mdb_dbi_open(txn, "client", create, &l->cli))) {
    mdb_txn_abort(txn);
    return rc;
  }
  return mdb_txn_commit(txn);
}

void *lmdb_open(const char *dir, size_t mib, unsigned interval,
                unsigned mode, char *why, size_t room)
{
  struct lmdb *l = calloc(1, sizeof *l);
  unsigned flags = interval ? MDB_NOSYNC | MDB_WRITEMAP : 0;
  int rc;

  if (!l) { snprintf(why, room, "out of memory"); return NULL; }
  if (find_dir(dir, mode, why, room) < 0) { free(l); return NULL; }
  /* read-only: the map size the store was written with */
  if (mode & STORE_RDONLY) flags = MDB_RDONLY, mib = 0, interval = 0;
  if ((rc = mdb_env_create(&l->env))
      || (rc = mdb_env_set_maxdbs(l->env, 2))
      || (mib && (rc = mdb_env_set_mapsize(l->env, mib << 20)))
      || (rc = mdb_env_open(l->env, dir, flags, 0600))
      || (rc = open_dbs(l, mode))) {
    snprintf(why, room, "lmdb %s: %s", dir, mdb_strerror(rc));
    if (l->env) mdb_env_close(l->env);
    free(l);
    return NULL;
  }
  l->interval = interval;
  l->writemap = !!interval;
  if (reserve(l) < 0) {
    snprintf(why, room, "lmdb %s: %s", dir, l->err);
    mdb_env_close(l->env);
    free(l);
    return NULL;
  }
  pthread_mutex_init(&l->mu, NULL);
  pthread_cond_init(&l->cv, NULL);
  if (interval) start_syncer(l);
  return l;
}

static uint64_t fnv(const unsigned char *p, size_t n)
{
  uint64_t h = 1469598103934665603ULL;

  while (n--) { h ^= *p++; h *= 1099511628211ULL; }
  return h;
}

static size_t triplet_key(const struct item *it, unsigned char *k)
{
  size_t a = strlen(it->net), b = strlen(it->sender), c = strlen(it->rcpt);
  size_t n = a + b + c + 2;
  unsigned char full[3 * ADDR_MAX];

  if (n <= KEY_MAX && n <= sizeof full) {
    memcpy(k, it->net, a);
    k[a] = 0;
    memcpy(k + a + 1, it->sender, b);
    k[a + b + 1] = 0;
    memcpy(k + a + b + 2, it->rcpt, c);
    return n;
  }
  if (a >= NET_MAX || b >= ADDR_MAX || c >= ADDR_MAX) return 0;
  memcpy(full, it->net, a);
  full[a] = 0;
  memcpy(full + a + 1, it->sender, b);
  full[a + b + 1] = 0;
  memcpy(full + a + b + 2, it->rcpt, c);
  memcpy(k, full, KEY_CUT);
  snprintf((char *)k + KEY_CUT, KEY_MAX - KEY_CUT, "\001%016llx",
           (unsigned long long)fnv(full, n));
  return KEY_CUT + 17;
}

static void get4(const MDB_val *v, uint32_t *x)
{
  if (v && v->mv_size == 16) memcpy(x, v->mv_data, 16);
  else memset(x, 0, 16);
}

static int lmdb_fetch(void *b, struct item *it, size_t n)
{
  struct lmdb *l = b;
  unsigned char k[KEY_MAX];
  size_t i;
  int rc;

  if (!l->txn && (rc = mdb_txn_begin(l->env, NULL, 0, &l->txn)))
    return fail(l, "begin", rc);
  for (i = 0; i < n; i++) {
    MDB_val key, val;
    uint32_t x[4];

    key.mv_data = k;
    key.mv_size = triplet_key(&it[i], k);
    if (!key.mv_size) return fail(l, "key", MDB_BAD_VALSIZE);
    rc = mdb_get(l->txn, l->trip, &key, &val);
    if (rc && rc != MDB_NOTFOUND) return fail(l, "get triplet", rc);
    get4(rc ? NULL : &val, x);
    it[i].t.found = !rc;
    it[i].t.first = rc ? 0 : x[0];
    it[i].t.last = rc ? 0 : x[1];
    it[i].t.passes = rc ? 0 : x[2];
    key.mv_data = (void *)it[i].addr;
    key.mv_size = strlen(it[i].addr);
    rc = mdb_get(l->txn, l->cli, &key, &val);
    if (rc && rc != MDB_NOTFOUND) return fail(l, "get client", rc);
    get4(rc ? NULL : &val, x);
    it[i].c.found = !rc;
    it[i].c.count = rc ? 0 : x[0];
    it[i].c.last_count = rc ? 0 : x[1];
    it[i].c.last_seen = rc ? 0 : x[2];
  }
  return 0;
}

static int put_item(struct lmdb *l, const struct item *it)
{
  unsigned char k[KEY_MAX];
  MDB_val key, val;
  uint32_t x[4];
  int rc;

  if (it->write & W_TRIPLET) {
    x[0] = it->t.first, x[1] = it->t.last, x[2] = it->t.passes, x[3] = 0;
    key.mv_data = k;
    key.mv_size = triplet_key(it, k);
    val.mv_data = x;
    val.mv_size = 16;
    if ((rc = mdb_put(l->txn, l->trip, &key, &val, 0)))
      return fail(l, "put triplet", rc);
  }
  if (it->write & W_CLIENT) {
    x[0] = it->c.count, x[1] = it->c.last_count, x[2] = it->c.last_seen;
    x[3] = 0;
    key.mv_data = (void *)it->addr;
    key.mv_size = strlen(it->addr);
    val.mv_data = x;
    val.mv_size = 16;
    if ((rc = mdb_put(l->txn, l->cli, &key, &val, 0)))
      return fail(l, "put client", rc);
  }
  return 0;
}

static void lmdb_abort(void *b)
{
  struct lmdb *l = b;

  if (l->txn) mdb_txn_abort(l->txn);
  l->txn = NULL;
}

static int lmdb_commit(void *b, const struct item *it, size_t n)
{
  struct lmdb *l = b;
  size_t i;
  int rc;

  if (!l->txn && (rc = mdb_txn_begin(l->env, NULL, 0, &l->txn)))
    return fail(l, "begin", rc);
  for (i = 0; i < n; i++)
    if (put_item(l, &it[i]) < 0) { lmdb_abort(l); return -1; }
  rc = mdb_txn_commit(l->txn);
  l->txn = NULL;
  return rc ? fail(l, "commit", rc) : 0;
}

static int stale(struct lmdb *l, uint32_t now, const struct timing *tm,
                 const MDB_val *v)
{
  uint32_t x[4];

  get4(v, x);
  if (l->exp_db == 0) {
    struct trec t = { x[0], x[1], x[2], 1 };
    return trec_stale(now, tm, &t);
  } else {
    struct crec c = { x[0], x[1], x[2], 1 };
    return crec_stale(now, tm, &c);
  }
}

/* Walk budget records from where the last walk stopped; at the end of
 * one database go on with the other next time. */
static long lmdb_expire(void *b, uint32_t now, const struct timing *tm,
                        unsigned budget)
{
  struct lmdb *l = b;
  MDB_cursor *cur;
  MDB_val key, val;
  long removed = 0;
  int rc;

  if (reserve(l) < 0) return -1;
  if ((rc = mdb_txn_begin(l->env, NULL, 0, &l->txn)))
    return fail(l, "begin", rc);
  if ((rc = mdb_cursor_open(l->txn, l->exp_db ? l->cli : l->trip, &cur))) {
    lmdb_abort(l);
    return fail(l, "cursor", rc);
  }
  key.mv_data = l->exp_key;
  key.mv_size = l->exp_len;
  rc = mdb_cursor_get(cur, &key, &val, l->exp_len ? MDB_SET_RANGE : MDB_FIRST);
  while (rc == 0 && budget--) {
    if (stale(l, now, tm, &val)) {
      /* after a delete, MDB_NEXT yields the record that followed it */
      if ((rc = mdb_cursor_del(cur, 0))) break;
      removed++;
    }
    rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
  }
  if (rc == 0 && key.mv_size <= KEY_MAX) {
    memcpy(l->exp_key, key.mv_data, key.mv_size);
    l->exp_len = key.mv_size;
  } else if (rc == MDB_NOTFOUND || rc == 0) {
    l->exp_len = 0;
    l->exp_db = !l->exp_db;
    rc = 0;
  }
  mdb_cursor_close(cur);
  if (rc) { lmdb_abort(l); return fail(l, "expire", rc); }
  rc = mdb_txn_commit(l->txn);
  l->txn = NULL;
  return rc ? fail(l, "commit", rc) : removed;
}

static int lmdb_sync(void *b)
{
  struct lmdb *l = b;
  int rc = mdb_env_sync(l->env, 1);

  return rc ? fail(l, "sync", rc) : 0;
}

static void walk_triplet(const struct store_iter *it, const MDB_val *k,
                         const MDB_val *v)
{
  char buf[KEY_MAX + 3];
  const char *net = buf, *sender, *rcpt;
  uint32_t x[4];
  struct trec t;

  memcpy(buf, k->mv_data, k->mv_size);
  buf[k->mv_size] = 0;
  buf[k->mv_size + 1] = 0;
  buf[k->mv_size + 2] = 0;
  sender = net + strlen(net) + 1;
  rcpt = sender + strlen(sender) + 1;
  get4(v, x);
  t.first = x[0], t.last = x[1], t.passes = x[2], t.found = 1;
  it->triplet(it->arg, net, sender, rcpt, &t);
}

static void walk_client(const struct store_iter *it, const MDB_val *k,
                        const MDB_val *v)
{
  char buf[KEY_MAX + 1];
  uint32_t x[4];
  struct crec c;
  size_t n = k->mv_size < KEY_MAX ? k->mv_size : KEY_MAX;

  memcpy(buf, k->mv_data, n);
  buf[n] = 0;
  get4(v, x);
  c.count = x[0], c.last_count = x[1], c.last_seen = x[2], c.found = 1;
  it->client(it->arg, buf, &c);
}

static int lmdb_walk(void *b, const struct store_iter *it)
{
  struct lmdb *l = b;
  MDB_txn *txn;
  MDB_cursor *cur;
  MDB_val k, v;
  int rc, db;

  if ((rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, &txn)))
    return fail(l, "begin", rc);
  for (db = 0; db < 2; db++) {
    if ((db == 0 && !it->triplet) || (db == 1 && !it->client)) continue;
    if ((rc = mdb_cursor_open(txn, db ? l->cli : l->trip, &cur))) break;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
      if (k.mv_size > KEY_MAX) continue;
      if (db) walk_client(it, &k, &v); else walk_triplet(it, &k, &v);
    }
    mdb_cursor_close(cur);
    if (rc != MDB_NOTFOUND) break;
    rc = 0;
  }
  mdb_txn_abort(txn);
  return rc ? fail(l, "walk", rc) : 0;
}

static const char *lmdb_error(const void *b)
{
  return ((const struct lmdb *)b)->err;
}

const struct store_backend lmdb_backend = {
  "lmdb", lmdb_close, lmdb_fetch, lmdb_commit, lmdb_abort, lmdb_expire,
  lmdb_sync, lmdb_walk, lmdb_error
};
