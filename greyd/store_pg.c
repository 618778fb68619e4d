/*
 * store_pg.c - the shared store: PostgreSQL through libpq, so that
 * several MXs share one greylist.  The tables are created when missing
 * (under an advisory lock: two greyd starting at once must not race).
 *
 * A batch is two round trips, whatever its size: the reads of every
 * request go out in one pipeline (libpq pipeline mode), then the writes
 * in a second pipeline, which PostgreSQL runs as one implicit
 * transaction ending at the Sync.  Every wait has a deadline (poll on
 * the socket): a hung server is a store failure, never a hung greyd.
 */
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "greyd.h"
#include "server.h"

struct pg {
  PGconn *conn;
  unsigned timeout;            /* seconds per round trip */
  unsigned long long deadline; /* now_usec() limit of the current wait */
  char err[256];
};

static const char schema[] =
  "SELECT pg_advisory_lock(7244737);"
  "CREATE TABLE IF NOT EXISTS greyd_triplet ("
  " net text NOT NULL, sender text NOT NULL, recipient text NOT NULL,"
  " first_seen bigint NOT NULL, last_seen bigint NOT NULL,"
  " passes integer NOT NULL, PRIMARY KEY (net, sender, recipient));"
  "CREATE INDEX IF NOT EXISTS greyd_triplet_last"
  " ON greyd_triplet (last_seen);"
  "CREATE TABLE IF NOT EXISTS greyd_client ("
  " addr text PRIMARY KEY, count integer NOT NULL,"
  " last_count bigint NOT NULL, last_seen bigint NOT NULL);"
  "CREATE INDEX IF NOT EXISTS greyd_client_last ON greyd_client (last_seen);"
  "SELECT pg_advisory_unlock(7244737);";

static const struct { const char *name, *sql; int nparams; } stmts[] = {
  { "fetch",
    "SELECT t.first_seen, t.last_seen, t.passes,"
    " c.count, c.last_count, c.last_seen FROM (SELECT 1) AS one"
    " LEFT JOIN greyd_triplet t ON t.net = $1 AND t.sender = $2"
    " AND t.recipient = $3 LEFT JOIN greyd_client c ON c.addr = $4", 4 },
  { "put_t",
    "INSERT INTO greyd_triplet VALUES ($1, $2, $3, $4, $5, $6)"
    " ON CONFLICT (net, sender, recipient) DO UPDATE SET"
    " first_seen = $4, last_seen = $5, passes = $6", 6 },
  { "put_c",
    "INSERT INTO greyd_client VALUES ($1, $2, $3, $4)"
    " ON CONFLICT (addr) DO UPDATE SET count = $2, last_count = $3,"
    " last_seen = $4", 4 },
  { "exp_t",
    "DELETE FROM greyd_triplet WHERE ctid = ANY(ARRAY(SELECT ctid"
    " FROM greyd_triplet WHERE last_seen < $1 AND ((passes = 0 AND"
    " first_seen < $2) OR (passes > 0 AND last_seen < $3)) LIMIT $4))", 4 },
  { "exp_c",
    "DELETE FROM greyd_client WHERE ctid = ANY(ARRAY(SELECT ctid"
    " FROM greyd_client WHERE last_seen < $1 LIMIT $2))", 2 },
  { "walk_t",
    "SELECT net, sender, recipient, first_seen, last_seen, passes"
    " FROM greyd_triplet ORDER BY 1, 2, 3", 0 },
  { "walk_c",
    "SELECT addr, count, last_count, last_seen FROM greyd_client"
    " ORDER BY 1", 0 },
};

static int fail(struct pg *p, const char *what, const char *msg)
{
  size_t n;

  snprintf(p->err, sizeof p->err, "%s: %s", what,
           msg && *msg ? msg : PQerrorMessage(p->conn));
  n = strlen(p->err);
  while (n && (p->err[n - 1] == '\n' || p->err[n - 1] == ' ')) p->err[--n] = 0;
  return -1;
}

static int wait_fd(struct pg *p, short ev)
{
  struct pollfd pfd;
  unsigned long long now = now_usec();
  int r;

  if (now >= p->deadline) return -1;
  pfd.fd = PQsocket(p->conn);
  pfd.events = ev;
  r = poll(&pfd, 1, (int)((p->deadline - now) / 1000) + 1);
  return r > 0 ? 0 : -1;
}

static int flush_out(struct pg *p)
{
  int r;

  while ((r = PQflush(p->conn)) == 1)
    if (wait_fd(p, POLLOUT | POLLIN) < 0) return fail(p, "send", "timeout");
  return r == 0 ? 0 : fail(p, "send", NULL);
}

/* The next result (NULL between queries, as libpq gives it); sets *bad
 * on timeout or a broken connection. */
static PGresult *next_result(struct pg *p, int *bad)
{
  while (PQisBusy(p->conn)) {
    if (wait_fd(p, POLLIN) < 0) {
      fail(p, "wait", "timeout");
      *bad = 1;
      return NULL;
    }
    if (!PQconsumeInput(p->conn)) {
      fail(p, "read", NULL);
      *bad = 1;
      return NULL;
    }
  }
  return PQgetResult(p->conn);
}

/* One query's result, checked, and the NULL that ends it. */
static PGresult *query_result(struct pg *p, ExecStatusType want)
{
  int bad = 0;
  PGresult *r = next_result(p, &bad), *end;

  if (!r) { if (!bad) fail(p, "result", "missing"); return NULL; }
  if (PQresultStatus(r) != want) {
    fail(p, "query", PQresultErrorMessage(r));
    PQclear(r);
    return NULL;
  }
  end = next_result(p, &bad);
  if (end) {
    PQclear(end);
    PQclear(r);
    fail(p, "result", "extra");
    return NULL;
  }
  if (bad) { PQclear(r); return NULL; }
  return r;
}

static int end_sync(struct pg *p)
{
  int bad = 0;
  PGresult *r = next_result(p, &bad);
  int ok = r && PQresultStatus(r) == PGRES_PIPELINE_SYNC;

  PQclear(r);
  return ok ? 0 : fail(p, "sync", bad ? p->err : "unexpected result");
}

static int start(struct pg *p)
{
  p->deadline = now_usec() + p->timeout * 1000000ULL;
  return 0;
}

static int send_q(struct pg *p, int st, const char *const *v)
{
  if (!PQsendQueryPrepared(p->conn, stmts[st].name, stmts[st].nparams, v,
                           NULL, NULL, 0))
    return fail(p, "send", NULL);
  return 0;
}

static int prepare(struct pg *p)
{
  size_t i;

  for (i = 0; i < sizeof stmts / sizeof stmts[0]; i++) {
    PGresult *r = PQprepare(p->conn, stmts[i].name, stmts[i].sql,
                            stmts[i].nparams, NULL);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;

    if (!ok) fail(p, "prepare", PQresultErrorMessage(r));
    PQclear(r);
    if (!ok) return -1;
  }
  return 0;
}

static int set_up(struct pg *p)
{
  PGresult *r;
  int ok;

  if (PQstatus(p->conn) != CONNECTION_OK) return fail(p, "connect", NULL);
  r = PQexec(p->conn, "SET client_min_messages = warning");
  PQclear(r);
  r = PQexec(p->conn, schema);
  ok = PQresultStatus(r) == PGRES_TUPLES_OK;
  if (!ok) fail(p, "schema", PQresultErrorMessage(r));
  PQclear(r);
  if (!ok || prepare(p) < 0) return -1;
  if (!PQenterPipelineMode(p->conn) || PQsetnonblocking(p->conn, 1))
    return fail(p, "pipeline", NULL);
  return 0;
}

void *pg_open(const char *uri, unsigned timeout, char *why, size_t room)
{
  struct pg *p = calloc(1, sizeof *p);
  char t[16];
  const char *keys[] = { "dbname", "connect_timeout",
                         "application_name", NULL };
  const char *vals[] = { uri, t, "greyd", NULL };

  if (!p) { snprintf(why, room, "out of memory"); return NULL; }
  snprintf(t, sizeof t, "%u", timeout ? timeout : 1);
  p->timeout = timeout ? timeout : 1;
  /* XXX the connect blocks greyd for up to connect_timeout seconds;
   * after a failure greyd retries only with backoff, so the stall is
   * rare and short */
  p->conn = PQconnectdbParams(keys, vals, 1);
  if (!p->conn || set_up(p) < 0) {
    snprintf(why, room, "%s", p->conn ? p->err : "out of memory");
    PQfinish(p->conn);
    free(p);
    return NULL;
  }
  return p;
}

static void pg_close(void *b)
{
  struct pg *p = b;

  PQfinish(p->conn);
  free(p);
}

static uint32_t num(const PGresult *r, int col)
{
  return (uint32_t)strtoul(PQgetvalue(r, 0, col), NULL, 10);
}

static int pg_fetch(void *b, struct item *it, size_t n)
{
  struct pg *p = b;
  size_t i;

  start(p);
  for (i = 0; i < n; i++) {
    const char *v[4] = { it[i].net, it[i].sender, it[i].rcpt, it[i].addr };

    if (send_q(p, 0, v) < 0) return -1;
  }
  if (!PQpipelineSync(p->conn)) return fail(p, "sync", NULL);
  if (flush_out(p) < 0) return -1;
  for (i = 0; i < n; i++) {
    PGresult *r = query_result(p, PGRES_TUPLES_OK);

    if (!r) return -1;
    if (PQntuples(r) != 1) { PQclear(r); return fail(p, "fetch", "rows"); }
    it[i].t.found = !PQgetisnull(r, 0, 0);
    it[i].t.first = num(r, 0), it[i].t.last = num(r, 1);
    it[i].t.passes = num(r, 2);
    it[i].c.found = !PQgetisnull(r, 0, 3);
    it[i].c.count = num(r, 3), it[i].c.last_count = num(r, 4);
    it[i].c.last_seen = num(r, 5);
    PQclear(r);
  }
  return end_sync(p);
}

static int send_puts(struct pg *p, const struct item *it)
{
  char a[4][16];

  if (it->write & W_TRIPLET) {
    const char *v[6] = { it->net, it->sender, it->rcpt, a[0], a[1], a[2] };

    snprintf(a[0], 16, "%u", it->t.first);
    snprintf(a[1], 16, "%u", it->t.last);
    snprintf(a[2], 16, "%u", it->t.passes);
    if (send_q(p, 1, v) < 0) return -1;
  }
  if (it->write & W_CLIENT) {
    const char *v[4] = { it->addr, a[0], a[1], a[2] };

    snprintf(a[0], 16, "%u", it->c.count);
    snprintf(a[1], 16, "%u", it->c.last_count);
    snprintf(a[2], 16, "%u", it->c.last_seen);
    if (send_q(p, 2, v) < 0) return -1;
  }
  return 0;
}

static int pg_commit(void *b, const struct item *it, size_t n)
{
  struct pg *p = b;
  size_t i, sent = 0;

  start(p);
  for (i = 0; i < n; i++) {
    if (send_puts(p, &it[i]) < 0) return -1;
    sent += !!(it[i].write & W_TRIPLET) + !!(it[i].write & W_CLIENT);
  }
  if (!sent) return 0;
  if (!PQpipelineSync(p->conn)) return fail(p, "sync", NULL);
  if (flush_out(p) < 0) return -1;
  for (i = 0; i < sent; i++) {
    PGresult *r = query_result(p, PGRES_COMMAND_OK);

    if (!r) return -1;
    PQclear(r);
  }
  return end_sync(p);
}

static void pg_abort(void *b) { (void)b; }

static long run_delete(struct pg *p, int st, const char *const *v)
{
  PGresult *r;
  long n;

  if (send_q(p, st, v) < 0) return -1;
  if (!PQpipelineSync(p->conn)) return fail(p, "sync", NULL);
  if (flush_out(p) < 0 || !(r = query_result(p, PGRES_COMMAND_OK)))
    return -1;
  n = strtol(PQcmdTuples(r), NULL, 10);
  PQclear(r);
  return end_sync(p) < 0 ? -1 : n;
}

static uint32_t ago(uint32_t now, uint32_t s) { return now > s ? now - s : 0; }

static long pg_expire(void *b, uint32_t now, const struct timing *tm,
                      unsigned budget)
{
  struct pg *p = b;
  char a[5][16];
  const char *vt[4] = { a[0], a[1], a[2], a[3] };
  const char *vc[2] = { a[4], a[3] };
  uint32_t low = tm->retry_window < tm->max_age ? tm->retry_window
                                                 : tm->max_age;
  long t, c;

  start(p);
  snprintf(a[0], 16, "%u", ago(now, low));
  snprintf(a[1], 16, "%u", ago(now, tm->retry_window));
  snprintf(a[2], 16, "%u", ago(now, tm->max_age));
  snprintf(a[3], 16, "%u", budget);
  snprintf(a[4], 16, "%u", ago(now, tm->awl_max_age));
  if ((t = run_delete(p, 3, vt)) < 0) return -1;
  if ((c = run_delete(p, 4, vc)) < 0) return -1;
  return t + c;
}

static int pg_sync(void *b) { (void)b; return 0; }

static int walk_one(struct pg *p, int st, const struct store_iter *it)
{
  PGresult *r;
  int i;

  p->deadline = now_usec() + 600 * 1000000ULL;
  if (send_q(p, st, NULL) < 0) return -1;
  if (!PQpipelineSync(p->conn)) return fail(p, "sync", NULL);
  if (flush_out(p) < 0 || !(r = query_result(p, PGRES_TUPLES_OK))) return -1;
  for (i = 0; i < PQntuples(r); i++) {
    uint32_t x[3];
    int k;

    for (k = 0; k < 3; k++)
      x[k] = (uint32_t)strtoul(PQgetvalue(r, i, st == 5 ? 3 + k : 1 + k),
                               NULL, 10);
    if (st == 5) {
      struct trec t = { x[0], x[1], x[2], 1 };
      it->triplet(it->arg, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
                  PQgetvalue(r, i, 2), &t);
    } else {
      struct crec c = { x[0], x[1], x[2], 1 };
      it->client(it->arg, PQgetvalue(r, i, 0), &c);
    }
  }
  PQclear(r);
  return end_sync(p);
}

static int pg_walk(void *b, const struct store_iter *it)
{
  struct pg *p = b;

  if (it->triplet && walk_one(p, 5, it) < 0) return -1;
  if (it->client && walk_one(p, 6, it) < 0) return -1;
  return 0;
}

static const char *pg_error(const void *b)
{
  return ((const struct pg *)b)->err;
}

const struct store_backend pg_backend = {
  "pg", pg_close, pg_fetch, pg_commit, pg_abort, pg_expire, pg_sync,
  pg_walk, pg_error
};
