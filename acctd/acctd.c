/*
 * acctd - answer Postfix's recipient lookups from the accounts CDB, over
 * socketmap (unix or loopback TCP) and tcp_table (loopback TCP), both at
 * once from one process.  See acctd(8).
 *
 * The CDB is re-checked once a second (at once on SIGHUP): a new file
 * renamed into place is read and checked in full before the old copy is
 * let go, so a rebuild never costs a lookup.  Anything that keeps acctd from
 * answering for sure (no CDB, a corrupt one, a request it cannot read) is
 * a temporary answer: Postfix defers, it never bounces through our fault.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "endpoint.h"
#include "log.h"
#include "server.h"
#include "settings.h"
#include "db.h"
#include "lookup.h"
#include "proto.h"

enum proto { P_SOCKETMAP, P_TCP };
static const char *const proto_name[] = { "socketmap", "tcp" };

enum {
  S_CDB, S_SOCKETMAP, S_TCPTABLE, S_SOCKET_MODE, S_DELIMITER, S_STRIP_EXT,
  S_MAXREQUEST, S_READ_TIMEOUT, S_IDLE_TIMEOUT, S_MAXCONNS, S_STATS,
  S_COUNT
};

struct acctd {
  struct setting set[S_COUNT];
  const char *path;
  const char *delims;           /* NULL: extensions are not stripped */
  struct db db;
  struct stat failed;           /* the file that last failed to load */
  int have_failed;
  const char *trouble;          /* TEMP reason while there is no copy */
  char error[160];              /* last error logged, to log it once */
  unsigned nsocketmap;          /* listeners [0, nsocketmap): socketmap */
  size_t max_request;
  char *key;                    /* decoded tcp_table key */
  unsigned long long stats_every, ticks;
  unsigned long found, notfound, temp, bad;
  struct server *srv;
};

/* --- the CDB --- */

static void cdb_error(struct acctd *a, const char *why)
{
  struct logline l;

  if (!strcmp(a->error, why)) return;       /* said already */
  snprintf(a->error, sizeof a->error, "%s", why);
  log_start(&l, "warning", "cdb");
  log_str(&l, "file", a->path);
  log_str(&l, "error", why);
  if (a->db.map) log_uint(&l, "kept", a->db.entries);
  log_end(&l);
}

static void cdb_loaded(struct acctd *a)
{
  struct logline l;

  a->error[0] = 0;
  a->have_failed = 0;
  log_start(&l, "info", "cdb");
  log_str(&l, "file", a->path);
  log_uint(&l, "entries", a->db.entries);
  log_str(&l, "case", a->db.keepcase ? "keep" : "fold");
  log_end(&l);
  if (!a->db.capitals) return;
  /* served all the same (a TEMP for everybody would be worse), but
   * these addresses get 550: say so where the postmaster looks */
  log_start(&l, "warning", "cdb");
  log_str(&l, "file", a->path);
  log_uint(&l, "capitals", a->db.capitals);
  log_str(&l, "error", "keys with capitals never match a folded lookup: "
          "build with acctd-data, or lower-case the keys");
  log_end(&l);
}

/* Rewritten in place (same inode) less than two seconds ago: perhaps
 * still being written; keep the copy we have and look again later. */
static int settling(const struct acctd *a, const struct stat *st)
{
  return a->db.map && st->st_ino == a->db.ino && st->st_dev == a->db.dev
         && time(NULL) - st->st_mtim.tv_sec < 2;
}

static int same_failure(const struct acctd *a, const struct stat *st)
{
  const struct stat *f = &a->failed;

  return a->have_failed && f->st_dev == st->st_dev && f->st_ino == st->st_ino
         && f->st_size == st->st_size
         && f->st_mtim.tv_sec == st->st_mtim.tv_sec
         && f->st_mtim.tv_nsec == st->st_mtim.tv_nsec
         && f->st_ctim.tv_sec == st->st_ctim.tv_sec     /* chmod, chown */
         && f->st_ctim.tv_nsec == st->st_ctim.tv_nsec;
}

/* A file that cannot serve: the copy we have (if any) stays, since old
 * accounts defer or bounce far less mail than none; without one, lookups
 * get TEMP with the reason.  An empty CDB is a broken export, not a
 * domain without users: answering NOTFOUND from it would bounce all. */
static void load_failed(struct acctd *a, const struct stat *st,
                        const char *why)
{
  a->failed = *st;
  a->have_failed = 1;
  if (!strncmp(why, "corrupt", 7)) a->trouble = "cdb_corrupt";
  else if (!strncmp(why, "empty", 5)) a->trouble = "cdb_empty";
  else a->trouble = "cdb_unavailable";
  cdb_error(a, why);
}

static void refresh(struct acctd *a, int force)
{
  struct stat st;
  struct db fresh;
  const char *why = "";
  int r;

  if (stat(a->path, &st) < 0) {
    db_close(&a->db);
    a->have_failed = 0;
    a->trouble = "cdb_unavailable";
    cdb_error(a, strerror(errno));
    return;
  }
  if (db_same(&a->db, &st)) return;
  if (!force && (same_failure(a, &st) || settling(a, &st))) return;
  r = db_open(&fresh, a->path, &why);
  if (r == DB_BUSY) return;                  /* changing: next tick */
  if (r == DB_OK && !fresh.entries) {
    db_close(&fresh);
    why = "empty: no addresses";
    r = DB_FAIL;
  }
  if (r == DB_FAIL) {
    load_failed(a, &st, why);
    return;
  }
  db_close(&a->db);
  a->db = fresh;
  cdb_loaded(a);
}

/* --- answering --- */

static void log_lookup(const struct acctd *a, struct conn *c, enum proto p,
                       enum lookup_result res, const char *why,
                       const char *key, size_t n)
{
  struct logline l;

  (void)a;
  log_start(&l, res == LOOKUP_TEMP ? "warning" : "info", "lookup");
  log_str(&l, "proto", proto_name[p]);
  log_str(&l, "result", res == LOOKUP_TEMP ? "temp" : "notfound");
  if (res == LOOKUP_TEMP || strcmp(why, "unknown")) log_str(&l, "reason", why);
  log_strn(&l, "key", key, n);
  log_uint(&l, "conn", conn_id(c));
  log_end(&l);
}

static void reply(struct conn *c, enum proto p, enum lookup_result res,
                  const char *why)
{
  _Static_assert(sizeof DB_VALUE == 3, "sm_ok's length counts 2 bytes");
  static const char sm_ok[] = "5:OK " DB_VALUE ",";
  static const char sm_nf[] = "9:NOTFOUND ,";
  static const char tt_ok[] = "200 " DB_VALUE "\n";
  static const char tt_nf[] = "500 NOTFOUND\n";
  char out[128];
  size_t n;

  /* the two frequent answers are constants; TEMP carries the reason */
  if (res == LOOKUP_FOUND && p == P_SOCKETMAP)
    conn_write(c, sm_ok, sizeof sm_ok - 1);
  else if (res == LOOKUP_FOUND)
    conn_write(c, tt_ok, sizeof tt_ok - 1);
  else if (res == LOOKUP_NOTFOUND && p == P_SOCKETMAP)
    conn_write(c, sm_nf, sizeof sm_nf - 1);
  else if (res == LOOKUP_NOTFOUND)
    conn_write(c, tt_nf, sizeof tt_nf - 1);
  else {
    n = p == P_SOCKETMAP ? sm_format(out, sizeof out, "TEMP", why)
                         : tt_format(out, sizeof out, 400, why);
    conn_write(c, out, n);
  }
}

static void answer(struct acctd *a, struct conn *c, enum proto p,
                   const char *key, size_t n)
{
  const char *why = a->trouble;
  enum lookup_result res = LOOKUP_TEMP;

  if (a->db.map) res = lookup(&a->db, a->delims, key, n, &why);

  if (res == LOOKUP_FOUND) a->found++;
  else if (res == LOOKUP_NOTFOUND) a->notfound++;
  else a->temp++;
  if (res != LOOKUP_FOUND) log_lookup(a, c, p, res, why, key, n);
  reply(c, p, res, why);
}

/* A request we cannot read: log it, answer "temporary" so Postfix
 * defers rather than rejects. */
static void bad_request(struct acctd *a, struct conn *c, enum proto p,
                        const char *why, const char *word)
{
  struct logline l;

  a->bad++;
  log_start(&l, "warning", "bad_request");
  log_str(&l, "proto", proto_name[p]);
  log_str(&l, "reason", why);
  log_uint(&l, "conn", conn_id(c));
  log_end(&l);
  reply(c, p, LOOKUP_TEMP, word);
}

static long socketmap_request(struct acctd *a, struct conn *c,
                              const char *buf, size_t len)
{
  struct request r;
  long used = sm_parse(buf, len, a->max_request, &r);

  if (used < 0) {
    bad_request(a, c, P_SOCKETMAP, r.why, "malformed_request");
    return -1;                     /* cannot find the next request */
  }
  if (used == 0) return 0;
  if (r.why) bad_request(a, c, P_SOCKETMAP, r.why, "malformed_request");
  else answer(a, c, P_SOCKETMAP, r.key, r.keylen);
  return used;
}

static long tcp_request(struct acctd *a, struct conn *c, const char *buf,
                        size_t len)
{
  struct request r;
  long used = tt_parse(buf, len, a->key, a->max_request, &r);

  if (used == 0) return 0;
  if (r.why)
    bad_request(a, c, P_TCP, r.why, *r.why == 'b' ? "bad_encoding"
                                                  : "malformed_request");
  else answer(a, c, P_TCP, r.key, r.keylen);
  return used;
}

static enum proto conn_proto(const struct acctd *a, const struct conn *c)
{
  return conn_listener(c) < a->nsocketmap ? P_SOCKETMAP : P_TCP;
}

static long on_request(struct conn *c, char *buf, size_t len)
{
  struct acctd *a = server_ctx(conn_server(c));

  if (conn_proto(a, c) == P_SOCKETMAP)
    return socketmap_request(a, c, buf, len);
  return tcp_request(a, c, buf, len);
}

static void on_overflow(struct conn *c)
{
  struct acctd *a = server_ctx(conn_server(c));

  bad_request(a, c, conn_proto(a, c), "request too long",
              "request_too_long");
}

static void on_reload(void *ctx) { refresh(ctx, 1); }

static void on_tick(void *ctx)
{
  struct acctd *a = ctx;
  struct logline l;

  refresh(a, 0);
  if (++a->ticks < a->stats_every) return;
  a->ticks = 0;
  log_start(&l, "info", "stats");
  log_uint(&l, "found", a->found);
  log_uint(&l, "notfound", a->notfound);
  log_uint(&l, "temp", a->temp);
  log_uint(&l, "bad", a->bad);
  log_uint(&l, "conns", server_conns(a->srv));
  log_end(&l);
  a->found = a->notfound = a->temp = a->bad = 0;
}

/* --- start --- */

static void listen_all(struct acctd *a, const char *specs, enum proto p)
{
  const char *name = p == P_TCP ? "TCPTABLE" : "SOCKETMAP";
  char one[256];
  int more;

  /* tcp_table and socketmap have no access control: TCP only on
   * loopback, or anybody could list the accounts */
  server_need_local(name, specs);
  while ((more = endpoint_next(&specs, one, sizeof one)) > 0) {
    if (p == P_TCP && (!strncmp(one, "unix:", 5) || one[0] == '/'))
      die_msg(EXIT_PERM, "TCPTABLE must be ADDR:PORT, not", one);
    server_listen(a->srv, one, (unsigned)a->set[S_SOCKET_MODE].num);
    if (p == P_SOCKETMAP) a->nsocketmap++;
  }
}

static const struct setting defaults[S_COUNT] = {
  [S_CDB] = { "CDB", SET_STRING, NULL, 0, 4096, 0, 0 },
  [S_SOCKETMAP] = { "SOCKETMAP", SET_STRING, NULL, 0, 4096, 0, 0 },
  [S_TCPTABLE] = { "TCPTABLE", SET_STRING, NULL, 0, 4096, 0, 0 },
  [S_SOCKET_MODE] = { "SOCKET_MODE", SET_OCTAL, "0666", 0, 0777, 0, 0 },
  [S_DELIMITER] = { "DELIMITER", SET_STRING, "+", 0, 16, 0, 0 },
  [S_STRIP_EXT] = { "STRIP_EXTENSION", SET_BOOL, "yes", 0, 1, 0, 0 },
  [S_MAXREQUEST] = { "MAXREQUEST", SET_UINT, "4096", 512, 65536, 0, 0 },
  [S_READ_TIMEOUT] = { "READ_TIMEOUT", SET_SECONDS, "10", 1, 3600, 0, 0 },
  [S_IDLE_TIMEOUT] = { "IDLE_TIMEOUT", SET_SECONDS, "1h", 0, 86400, 0, 0 },
  [S_MAXCONNS] = { "MAXCONNS", SET_UINT, "1000", 1, 60000, 0, 0 },
  [S_STATS] = { "STATS_INTERVAL", SET_SECONDS, "5m", 1, 86400, 0, 0 },
};

static struct server_ops ops = {
  .request = on_request,
  .overflow = on_overflow,
  .reload = on_reload,
  .tick = on_tick,
};

int main(void)
{
  static struct acctd a;
  struct setting *s = a.set;

  log_init("acctd");
  log_batch(1);        /* a notfound line per lookup: one write per turn */
  memcpy(a.set, defaults, sizeof a.set);
  settings_load(a.set, S_COUNT);
  if (!s[S_CDB].str) die_msg(EXIT_PERM, "CDB is not set", NULL);
  if (!s[S_SOCKETMAP].str && !s[S_TCPTABLE].str)
    die_msg(EXIT_PERM, "no listener: set SOCKETMAP, TCPTABLE or both", NULL);
  a.path = s[S_CDB].str;
  a.trouble = "cdb_unavailable";
  a.delims = s[S_STRIP_EXT].num ? s[S_DELIMITER].str : NULL;
  a.max_request = s[S_MAXREQUEST].num;
  a.stats_every = s[S_STATS].num;
  if (!(a.key = malloc(a.max_request + 1)))
    die_sys(EXIT_TEMP, "allocate", "key buffer");
  ops.max_request = a.max_request;
  ops.max_output = 65536;
  ops.read_timeout = (unsigned)s[S_READ_TIMEOUT].num;
  ops.idle_timeout = (unsigned)s[S_IDLE_TIMEOUT].num;
  ops.max_conns = (unsigned)s[S_MAXCONNS].num;
  a.srv = server_new(&ops, &a);
  if (s[S_SOCKETMAP].str) listen_all(&a, s[S_SOCKETMAP].str, P_SOCKETMAP);
  if (s[S_TCPTABLE].str) listen_all(&a, s[S_TCPTABLE].str, P_TCP);
  refresh(&a, 1);
  return server_run(a.srv);
}
