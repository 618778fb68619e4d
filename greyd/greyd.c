/*
 * greyd - selective greylisting for Postfix's policy delegation protocol.
 *
 * Whitelisted and unsuspicious clients are answered at once, without
 * the store.  The requests of suspicious clients are gathered while the
 * event loop reads; after each round of the loop the whole batch is read
 * from the store, decided, written back in one commit, logged, and only
 * then answered: what greyd said is what the store holds.  Connections
 * are not held (conn_hold takes a connection out of epoll and back, two
 * system calls a request): a batch never outlives its round, and a
 * connection that closes meanwhile is struck from it (on_closed).  A
 * request behind a batched one on the same connection joins the batch
 * even if it needs no store, so that answers keep the requests' order.
 * If the store fails, every request passes (DUNNO): our failure must
 * never block mail.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "classify.h"
#include "greyd.h"
#include "log.h"
#include "policy.h"
#include "server.h"
#include "settings.h"

enum {
  S_LISTEN, S_SOCKET_MODE, S_STORE, S_STORE_TIMEOUT, S_DELAY,
  S_RETRY_WINDOW, S_MAX_AGE, S_AWL_CLIENTS, S_AWL_MAX_AGE, S_AWL_INTERVAL,
  S_IPV4_CIDR, S_IPV6_CIDR, S_DELIMITER, S_SUSPICIOUS, S_TEXT, S_PREPEND,
  S_WL_CLIENTS, S_WL_RCPTS, S_WL_SENDERS, S_PATTERNS, S_MAPSIZE,
  S_SYNC_INTERVAL, S_EXPIRE_BATCH, S_MAX_CONNS, S_TEST_CLOCK, S_COUNT
};

static struct setting settings[S_COUNT] = {
  [S_LISTEN] = { "LISTEN", SET_STRING, NULL, 0, 0, 0, 0 },
  [S_SOCKET_MODE] = { "SOCKET_MODE", SET_OCTAL, "0660", 0, 0777, 0, 0 },
  [S_STORE] = { "STORE", SET_STRING, "/var/lib/greyd", 0, 0, 0, 0 },
  [S_STORE_TIMEOUT] = { "STORE_TIMEOUT", SET_SECONDS, "3", 1, 60, 0, 0 },
  [S_DELAY] = { "DELAY", SET_SECONDS, "300", 1, 86400, 0, 0 },
  [S_RETRY_WINDOW] = { "RETRY_WINDOW", SET_SECONDS, "2d", 60, 3024000, 0, 0 },
  [S_MAX_AGE] = { "MAX_AGE", SET_SECONDS, "35d", 3600, 31536000, 0, 0 },
  [S_AWL_CLIENTS] = { "AWL_CLIENTS", SET_UINT, "5", 0, 1000, 0, 0 },
  [S_AWL_MAX_AGE] = { "AWL_MAX_AGE", SET_SECONDS, "35d", 3600, 31536000, 0, 0 },
  [S_AWL_INTERVAL] = { "AWL_INTERVAL", SET_SECONDS, "1h", 0, 86400, 0, 0 },
  [S_IPV4_CIDR] = { "IPV4_CIDR", SET_UINT, "24", 8, 32, 0, 0 },
  [S_IPV6_CIDR] = { "IPV6_CIDR", SET_UINT, "64", 16, 128, 0, 0 },
  [S_DELIMITER] = { "RECIPIENT_DELIMITER", SET_STRING0, "+", 0, 8, 0, 0 },
  [S_SUSPICIOUS] = { "SUSPICIOUS", SET_STRING0, "any", 0, 200, 0, 0 },
  [S_TEXT] = { "GREYLIST_TEXT", SET_STRING,
               "Greylisted, please try again in %s seconds", 0, 400, 0, 0 },
  [S_PREPEND] = { "PREPEND", SET_BOOL, "no", 0, 1, 0, 0 },
  [S_WL_CLIENTS] = { "WHITELIST_CLIENTS", SET_STRING, NULL, 0, 0, 0, 0 },
  [S_WL_RCPTS] = { "WHITELIST_RECIPIENTS", SET_STRING, NULL, 0, 0, 0, 0 },
  [S_WL_SENDERS] = { "WHITELIST_SENDERS", SET_STRING, NULL, 0, 0, 0, 0 },
  [S_PATTERNS] = { "PATTERNS", SET_STRING, NULL, 0, 0, 0, 0 },
  [S_MAPSIZE] = { "MAPSIZE", SET_UINT, "1024", 16, 1048576, 0, 0 },
  [S_SYNC_INTERVAL] = { "SYNC_INTERVAL", SET_SECONDS, "1", 0, 3600, 0, 0 },
  [S_EXPIRE_BATCH] = { "EXPIRE_BATCH", SET_UINT, "2000", 10, 1000000, 0, 0 },
  [S_MAX_CONNS] = { "MAX_CONNS", SET_UINT, "1024", 1, 65536, 0, 0 },
  [S_TEST_CLOCK] = { "GREYD_TEST_CLOCK", SET_STRING, NULL, 0, 0, 0, 0 },
};

/* One held request: the parts of the triplet and what the log needs.
 * A request that comes behind a held one on the same connection is
 * held too, even when its answer needs no store (kind K_FIXED, or
 * K_PLAIN for a DUNNO without a decision line): answers go out in the
 * order the requests came. */
enum { K_STORE, K_FIXED, K_PLAIN };

struct pend {
  struct conn *c;
  struct item it;
  unsigned kind;
  enum reason fixed;              /* the answer of a K_FIXED request */
  unsigned bits;
  uint32_t hash;
  char net[NET_MAX], sender[ADDR_MAX], rcpt[ADDR_MAX], addr[64];
  char raw_sender[ADDR_MAX], helo[256], ptr[256], instance[64];
};

struct batch {
  struct pend *v;
  struct item *items;             /* the K_STORE requests' records */
  size_t *idx;                    /* items[j] belongs to v[idx[j]] */
  enum reason *rs;                /* each request's decision */
  uint32_t *ages;
  size_t n, cap;
};

struct cstate {                   /* what greyd keeps of a connection */
  unsigned held;                  /* its requests in a batch */
  char last[64];                  /* instance of its last PREPEND */
};

struct watched {                  /* a file reloaded when it changes */
  const char *path;
  struct stat st;
  int missing;                    /* its absence has been logged */
};

struct greyd {
  struct server *srv;
  struct timing tm;
  unsigned suspicious;            /* CL_ bits that count */
  int always;                     /* greylist every client */
  struct classifier *cl;
  struct wlist *wl;
  struct watched files[4];        /* clients, recipients, senders, patterns */
  struct store *st;
  unsigned long long retry_at;    /* when to reopen a failed store */
  unsigned backoff;
  unsigned long long up_at;       /* when the store last came up */
  unsigned long ticks;
  struct batch in, work;
  char logbuf[8192];              /* decision lines of this round */
  size_t loglen;
  char reply_new[1024];           /* the answer to every new triplet */
  size_t reply_new_len;
};

/* ---- clock ---- */

/* The time; or, for tests only, the Unix time written in the file that
 * GREYD_TEST_CLOCK names: time then stands still until the test writes
 * another, so a test skips the delay without sleeping. */
static uint32_t clock_now(void)
{
  const char *path = settings[S_TEST_CLOCK].str;
  unsigned long t = 0;
  FILE *f;

  if (path && *path && (f = fopen(path, "r"))) {
    if (fscanf(f, "%lu", &t) != 1) t = 0;
    fclose(f);
    if (t) return (uint32_t)t;
  }
  return (uint32_t)time(NULL);
}

/* ---- configuration files ---- */

static int file_changed(struct watched *w)
{
  struct stat st;

  if (!w->path || !*w->path) return 0;
  if (stat(w->path, &st) < 0) memset(&st, 0, sizeof st);
  if (st.st_ino == w->st.st_ino && st.st_mtime == w->st.st_mtime
      && st.st_size == w->st.st_size && st.st_ctime == w->st.st_ctime)
    return 0;
  w->st = st;
  return 1;
}

/* A configured file that does not exist (yet) is an empty list and a
 * warning: the site may create it later, and the reload picks it up.
 * The warning is said once, when the file goes: a reload for another
 * file's change does not repeat it. */
static const char *present(struct watched *w)
{
  struct logline l;

  if (!w->path || !*w->path || access(w->path, F_OK) == 0
      || errno != ENOENT) {
    w->missing = 0;
    return w->path;
  }
  if (!w->missing) {
    log_start(&l, "warning", "reload");
    log_str(&l, "file", w->path);
    log_str(&l, "error", "missing, taken as empty");
    log_end(&l);
  }
  w->missing = 1;
  return NULL;
}

static int load_lists(struct greyd *g, char *why, size_t room)
{
  struct wlist *w = wlist_new();
  struct classifier *c = classifier_new();
  const char *err, *p[4];
  unsigned long line;
  int i;

  for (i = 0; i < 4; i++) p[i] = present(&g->files[i]);
  if (!w || !c) { snprintf(why, room, "out of memory"); goto bad; }
  if (wlist_load(w, p[0], p[1], p[2], why, room) < 0)
    goto bad;
  if (p[3] && *p[3] && classifier_load(c, p[3], &line, &err) < 0) {
    snprintf(why, room, "%s line %lu: %s", p[3], line, err);
    goto bad;
  }
  wlist_free(g->wl);
  classifier_free(g->cl);
  g->wl = w;
  g->cl = c;
  return 0;
bad:
  wlist_free(w);
  classifier_free(c);
  return -1;
}

static void reload(struct greyd *g, int force)
{
  char why[512];
  struct logline l;
  int changed = 0, i;

  for (i = 0; i < 4; i++) changed |= file_changed(&g->files[i]);
  if (!changed && !force) return;
  if (load_lists(g, why, sizeof why) < 0) {
    log_start(&l, "warning", "reload");
    log_str(&l, "result", "kept");
    log_str(&l, "error", why);
  } else {
    log_start(&l, "info", "reload");
    log_str(&l, "result", "ok");
  }
  log_end(&l);
}

/* ---- the store, with reopening after failures ---- */

static void store_down(struct greyd *g, const char *what)
{
  struct logline l;

  /* the back-off starts again only after a minute up: a store that
   * opens but fails again at once (a full map) is not retried every
   * second */
  if (g->up_at && now_usec() - g->up_at >= 60000000ULL) g->backoff = 1;
  log_start(&l, "warning", "store");
  log_str(&l, "state", "down");
  log_str(&l, "kind", g->st ? store_kind(g->st) : "-");
  log_str(&l, "error", what);
  log_uint(&l, "retry", g->backoff);
  log_end(&l);
  if (g->st) store_close(g->st);
  g->st = NULL;
  g->retry_at = now_usec() + g->backoff * 1000000ULL;
  g->backoff = g->backoff >= 32 ? 60 : g->backoff * 2;
}

static void store_up(struct greyd *g)
{
  char why[512];
  struct logline l;

  if (g->st || now_usec() < g->retry_at) return;
  g->st = store_open(settings[S_STORE].str,
                     (unsigned)settings[S_STORE_TIMEOUT].num,
                     (size_t)settings[S_MAPSIZE].num,
                     (unsigned)settings[S_SYNC_INTERVAL].num, 0, why,
                     sizeof why);
  if (!g->st) { store_down(g, why); return; }
  g->up_at = now_usec();
  log_start(&l, "info", "store");
  log_str(&l, "state", "up");
  log_str(&l, "kind", store_kind(g->st));
  log_end(&l);
}

/* ---- replies and the decision line ---- */

static void retry_text(char *out, size_t room, uint32_t wait)
{
  const char *t = settings[S_TEXT].str;
  char secs[16];
  size_t o = 0;

  snprintf(secs, sizeof secs, "%u", wait ? wait : 1);
  if (!(*t >= '0' && *t <= '9')) o = (size_t)snprintf(out, room, "4.7.1 ");
  for (; *t && o + 16 < room; t++) {
    if (t[0] == '%' && t[1] == 's') {
      o += (size_t)snprintf(out + o, room - o, "%s", secs);
      t++;
    } else if (t[0] == '%' && t[1] == '%') {
      out[o++] = '%';
      t++;
    } else {
      out[o++] = *t;
    }
  }
  out[o] = 0;
}

/* Copy src, cut to fit room (not snprintf: five of these a request) */
static void copy(char *dst, size_t room, const char *src)
{
  size_t n = strnlen(src, room - 1);

  memcpy(dst, src, n);
  dst[n] = 0;
}

/* The connection's state, made at first need (NULL: out of memory). */
static struct cstate *cstate(struct conn *c)
{
  struct cstate *cs = conn_data(c);

  if (!cs && (cs = calloc(1, sizeof *cs))) conn_set_data(c, cs);
  return cs;
}

/* One X-Greylist header per message, not one per recipient: the
 * connection remembers the Postfix instance (message) it was last
 * given.  Returns 1 when this message has none yet. */
static int first_prepend(struct conn *c, const char *instance)
{
  struct cstate *cs = cstate(c);

  if (!*instance || !cs) return 1;
  if (!strncmp(cs->last, instance, sizeof cs->last - 1)) return 0;
  copy(cs->last, sizeof cs->last, instance);
  return 1;
}

static void answer(struct greyd *g, struct conn *c, enum reason r,
                   uint32_t age, const char *instance)
{
  char out[1024], text[600];
  size_t n;

  if (r == R_NEW && g->reply_new_len) {
    conn_write(c, g->reply_new, g->reply_new_len);
    return;
  }
  if (reason_defers(r)) {
    retry_text(text, sizeof text, r == R_NEW ? g->tm.delay
               : g->tm.delay > age ? g->tm.delay - age : 1);
    n = policy_format(out, sizeof out, "DEFER_IF_PERMIT", text);
  } else if (r == R_RETRY && settings[S_PREPEND].num
             && first_prepend(c, instance)) {
    snprintf(text, sizeof text,
             "X-Greylist: delayed %u seconds by greyd", age);
    n = policy_format(out, sizeof out, "PREPEND", text);
  } else {
    n = policy_format(out, sizeof out, "DUNNO", NULL);
  }
  conn_write(c, out, n);
}

/* The decimal digits of n (log_uint's snprintf costs more than all
 * the rest of a decision line). */
static size_t fmt_uint(char *out, uint32_t n)
{
  char tmp[10];
  size_t k = 0, i;

  do tmp[k++] = (char)('0' + n % 10); while (n /= 10);
  for (i = 0; i < k; i++) out[i] = tmp[k - 1 - i];
  return k;
}

struct view {                     /* what the decision line shows */
  const char *addr, *net, *sender, *rcpt, *helo, *ptr;
  unsigned bits;
};

static void log_keep(struct greyd *g, struct logline *l);

static void log_decision(struct greyd *g, const struct view *v,
                         enum reason r, uint32_t age)
{
  struct logline l;
  char cls[80], num[16];

  classify_names(v->bits, cls, sizeof cls);
  log_start(&l, "info", "decision");
  log_str(&l, "action", reason_defers(r) ? "defer" : "pass");
  log_str(&l, "reason", reason_text(r));
  log_str(&l, "client", v->addr);
  log_str(&l, "net", v->net);
  log_str(&l, "sender", v->sender);
  log_str(&l, "recipient", v->rcpt);
  log_str(&l, "helo", v->helo);
  log_str(&l, "ptr", v->ptr);
  log_str(&l, "class", cls);
  if (r <= R_AWL) log_strn(&l, "age", num, fmt_uint(num, age));
  if (r <= R_AWL || r == R_STORE)
    log_str(&l, "store", g->st ? store_kind(g->st) : "none");
  log_keep(g, &l);
}

/* Decision lines are gathered over a round of the loop and written
 * together: whole lines only, one write(2), at most 8 KiB; greyd is
 * the pipe's only writer, so lines never interleave. */
static void log_flush(struct greyd *g)
{
  size_t off = 0;

  while (off < g->loglen) {
    ssize_t w = write(2, g->logbuf + off, g->loglen - off);

    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    off += (size_t)w;
  }
  g->loglen = 0;
}

static void log_keep(struct greyd *g, struct logline *l)
{
  if (l->cut) {
    memcpy(l->buf + l->len, " cut=1", 6);
    l->len += 6;
  }
  l->buf[l->len++] = '\n';
  if (g->loglen + l->len > sizeof g->logbuf) log_flush(g);
  memcpy(g->logbuf + g->loglen, l->buf, l->len);
  g->loglen += l->len;
}

/* ---- requests ---- */

static uint32_t hash_str(uint32_t h, const char *s)
{
  while (*s) h = (h ^ (unsigned char)*s++) * 16777619u;
  return h * 16777619u;
}

/* Grow every array of the batch together, or none. */
static int batch_grow(struct batch *b)
{
  size_t cap = b->cap ? b->cap * 2 : 64;
  void *p;

  if (!(p = realloc(b->v, cap * sizeof *b->v))) return -1;
  b->v = p;
  if (!(p = realloc(b->items, cap * sizeof *b->items))) return -1;
  b->items = p;
  if (!(p = realloc(b->idx, cap * sizeof *b->idx))) return -1;
  b->idx = p;
  if (!(p = realloc(b->rs, cap * sizeof *b->rs))) return -1;
  b->rs = p;
  if (!(p = realloc(b->ages, cap * sizeof *b->ages))) return -1;
  b->ages = p;
  b->cap = cap;
  return 0;
}

/* A new request at the end of the batch, counted as held on its
 * connection. */
static struct pend *batch_add(struct batch *b, struct conn *c,
                              unsigned kind)
{
  struct cstate *cs;
  struct pend *p;

  if (b->n == b->cap && batch_grow(b) < 0) return NULL;
  p = &b->v[b->n++];
  p->c = c;
  p->kind = kind;
  p->fixed = R_COUNT;
  if ((cs = cstate(c))) cs->held++;
  return p;
}

/* Take back the last request added (it could not be filled). */
static void batch_drop_last(struct batch *b)
{
  struct cstate *cs = conn_data(b->v[--b->n].c);

  if (cs) cs->held--;
}

/* Does this connection have a request waiting in the batch? */
static int held_behind(struct conn *c)
{
  const struct cstate *cs = conn_data(c);

  return cs && cs->held;
}

/* Fill a held request's triplet; -1 if the parts do not fit. */
static int fill(struct greyd *g, struct pend *p,
                const struct policy_request *r)
{
  if (client_net(r->client_address, (unsigned)settings[S_IPV4_CIDR].num,
                 (unsigned)settings[S_IPV6_CIDR].num, p->net,
                 sizeof p->net) < 0)
    return -1;
  if (!normalise_sender(r->sender, settings[S_DELIMITER].str, p->sender,
                        sizeof p->sender)
      || (!normalise_recipient(r->recipient, p->rcpt, sizeof p->rcpt)
          && *r->recipient))
    return -1;
  copy(p->addr, sizeof p->addr, r->client_address);
  copy(p->raw_sender, sizeof p->raw_sender, r->sender);
  copy(p->helo, sizeof p->helo, r->helo_name);
  copy(p->ptr, sizeof p->ptr, r->client_name);
  copy(p->instance, sizeof p->instance, r->instance);
  p->hash = hash_str(hash_str(hash_str(2166136261u, p->net), p->sender),
                     p->rcpt);
  (void)g;
  return 0;
}

/* A decision without the store: answered now, or held behind an
 * earlier request of the same connection. */
static void pass_now(struct greyd *g, struct conn *c,
                     const struct policy_request *r, unsigned bits,
                     enum reason why)
{
  char net[NET_MAX];
  struct pend *p;
  struct view v;

  if (client_net(r->client_address, (unsigned)settings[S_IPV4_CIDR].num,
                 (unsigned)settings[S_IPV6_CIDR].num, net, sizeof net) < 0)
    copy(net, sizeof net, "-");
  if (held_behind(c) && (p = batch_add(&g->in, c, K_FIXED))) {
    p->fixed = why;
    p->bits = bits;
    copy(p->net, sizeof p->net, net);
    copy(p->addr, sizeof p->addr, r->client_address);
    copy(p->raw_sender, sizeof p->raw_sender, r->sender);
    copy(p->rcpt, sizeof p->rcpt, r->recipient);
    copy(p->helo, sizeof p->helo, r->helo_name);
    copy(p->ptr, sizeof p->ptr, r->client_name);
    *p->instance = 0;
    return;
  }
  v.addr = r->client_address, v.net = net, v.sender = r->sender;
  v.rcpt = r->recipient, v.helo = r->helo_name, v.ptr = r->client_name;
  v.bits = bits;
  log_decision(g, &v, why, 0);
  answer(g, c, why, 0, "");
}

static void write_dunno(struct conn *c)
{
  char out[64];

  conn_write(c, out, policy_format(out, sizeof out, "DUNNO", NULL));
}

/* DUNNO without a decision line (a request greyd does not judge). */
static void dunno_now(struct greyd *g, struct conn *c)
{
  if (held_behind(c) && batch_add(&g->in, c, K_PLAIN)) return;
  write_dunno(c);
}

/* The static answers; returns R_COUNT when the store must decide. */
static enum reason static_check(const struct greyd *g,
                                const struct policy_request *r,
                                unsigned *bits)
{
  *bits = classify(g->cl, r->client_address, r->client_name,
                   r->reverse_client_name, r->helo_name);
  if (wlist_client(g->wl, r->client_address, r->client_name))
    return R_WL_CLIENT;
  if (wlist_recipient(g->wl, r->recipient)) return R_WL_RECIPIENT;
  if (wlist_sender(g->wl, r->sender, settings[S_DELIMITER].str))
    return R_WL_SENDER;
  if (!g->always && !(*bits & g->suspicious)) return R_UNSUSPICIOUS;
  return R_COUNT;
}

/* A request greyd cannot judge: a warning, not a decision line, so
 * that the decisions counted are real ones. */
static void log_bad(struct conn *c, const char *why, const char *client)
{
  struct logline l;

  log_start(&l, "warning", "bad_request");
  log_uint(&l, "conn", conn_id(c));
  log_str(&l, "reason", why);
  if (client) log_strn(&l, "client", client, strnlen(client, 64));
  log_end(&l);
}

static void on_overflow(struct conn *c)
{
  log_bad(c, "too_long", NULL);
}

/* Postfix sends an IPv4 or IPv6 address; anything else is a broken
 * client (or a test), answered DUNNO with a warning: no triplet. */
static int valid_client(struct conn *c, const struct policy_request *r)
{
  char net[NET_MAX];

  if (client_net(r->client_address, 32, 128, net, sizeof net) == 0
      && strlen(r->client_address) < 64)
    return 1;
  log_bad(c, "bad_client_address", r->client_address);
  return 0;
}

static long on_request(struct conn *c, char *buf, size_t len)
{
  struct greyd *g = server_ctx(conn_server(c));
  struct policy_request r;
  long used = policy_parse(buf, len, &r);
  enum reason why;
  struct pend *p;
  unsigned bits;

  if (used < 0) log_bad(c, "malformed", NULL);
  if (used <= 0) return used;
  if (!strcmp(r.protocol_state, "RCPT") && !*r.client_address)
    log_bad(c, "no_client_address", NULL);
  if (strcmp(r.protocol_state, "RCPT") || !*r.client_address
      || !valid_client(c, &r)) {
    /* greylisting happens at RCPT; other stages pass */
    dunno_now(g, c);
    return used;
  }
  why = static_check(g, &r, &bits);
  if (why == R_COUNT && !g->st) why = R_STORE;
  if (why == R_COUNT) {
    p = batch_add(&g->in, c, K_STORE);
    if (!p || fill(g, p, &r) < 0) {
      if (p) batch_drop_last(&g->in);
      why = R_STORE;
    } else {
      p->bits = bits;
      return used;
    }
  }
  pass_now(g, c, &r, bits, why);
  return used;
}

/* ---- the batch ---- */

/* Within one batch the same triplet or client may come twice: each
 * decision must see the one before it, and only the last write of a
 * record is sent.  j and i count the store's items, in batch order. */
static int same_triplet(const struct batch *b, size_t j, size_t i)
{
  const struct pend *x = &b->v[b->idx[j]], *y = &b->v[b->idx[i]];

  return x->hash == y->hash && !strcmp(x->net, y->net)
         && !strcmp(x->sender, y->sender) && !strcmp(x->rcpt, y->rcpt);
}

static int same_client(const struct batch *b, size_t j, size_t i)
{
  return !strcmp(b->v[b->idx[j]].addr, b->v[b->idx[i]].addr);
}

static void carry_over(struct batch *b, size_t i)
{
  size_t j;
  int t = 0, cl = 0;

  for (j = i; j-- > 0 && !(t && cl);) {
    if (!t && same_triplet(b, j, i)) {
      b->items[i].t = b->items[j].t;
      t = 1;
    }
    if (!cl && same_client(b, j, i)) {
      b->items[i].c = b->items[j].c;
      cl = 1;
    }
  }
}

static void drop_overwritten(struct batch *b, size_t m)
{
  size_t i, j;

  for (i = 0; i < m; i++)
    for (j = i + 1; j < m; j++) {
      if (b->items[j].write & W_TRIPLET && same_triplet(b, j, i))
        b->items[i].write &= ~(unsigned)W_TRIPLET;
      if (b->items[j].write & W_CLIENT && same_client(b, j, i))
        b->items[i].write &= ~(unsigned)W_CLIENT;
    }
}

static void reply(struct greyd *g, const struct pend *p, enum reason r,
                  uint32_t age)
{
  struct cstate *cs = conn_data(p->c);

  if (cs && cs->held) cs->held--;
  if (p->kind == K_PLAIN)
    write_dunno(p->c);
  else
    answer(g, p->c, r, age, p->instance);
}

static void finish(struct greyd *g, struct batch *b, size_t lo,
                   size_t hi)
{
  size_t i;

  for (i = lo; i < hi; i++) {
    struct pend *p = &b->v[i];
    struct view v = { p->addr, p->net, p->raw_sender, p->rcpt, p->helo,
                      p->ptr, p->bits };

    if (p->kind != K_PLAIN) log_decision(g, &v, b->rs[i], b->ages[i]);
  }
  /* logged before answered: no decision goes out without its line */
  log_flush(g);
  for (i = lo; i < hi; i++)
    if (b->v[i].c) reply(g, &b->v[i], b->rs[i], b->ages[i]);
}

/* The store's items of requests lo to hi, in batch order; returns how
 * many. */
static size_t gather(struct batch *b, size_t lo, size_t hi)
{
  size_t i, m = 0;

  for (i = lo; i < hi; i++) {
    b->rs[i] = b->v[i].fixed;
    b->ages[i] = 0;
    if (b->v[i].kind != K_STORE) continue;
    /* the keys point into b->v only now: batch_add may have moved it */
    b->idx[m] = i;
    b->items[m] = b->v[i].it;
    b->items[m].net = b->v[i].net, b->items[m].sender = b->v[i].sender;
    b->items[m].rcpt = b->v[i].rcpt, b->items[m].addr = b->v[i].addr;
    m++;
  }
  return m;
}

/* Decide, store, log and answer requests lo to hi of the batch. */
static void run_slice(struct greyd *g, struct batch *b, size_t lo,
                      size_t hi)
{
  uint32_t now = clock_now();
  size_t j, m = gather(b, lo, hi);

  if (m && g->st && store_fetch(g->st, b->items, m) < 0) {
    store_abort(g->st);
    store_down(g, store_error(g->st));
  }
  for (j = 0; g->st && j < m; j++) {
    carry_over(b, j);
    b->rs[b->idx[j]] = decide(now, &g->tm, &b->items[j].t,
                              &b->items[j].c, &b->ages[b->idx[j]],
                              &b->items[j].write);
  }
  if (m && g->st) {
    drop_overwritten(b, m);
    if (store_commit(g->st, b->items, m) < 0)
      store_down(g, store_error(g->st));
  }
  for (j = 0; !g->st && j < m; j++)
    b->rs[b->idx[j]] = R_STORE, b->ages[b->idx[j]] = 0;
  finish(g, b, lo, hi);
}

/* A batch is decided and answered in slices: the clients answered
 * first write their next requests while greyd decides the rest, and
 * neither side waits idle for the other (on a machine whose idle CPUs
 * halt, each wake-up costs tens of microseconds).  An LMDB commit costs
 * about a request, so slices of a few requests, at most eight a round;
 * a PostgreSQL commit is a round trip to the server: one slice. */
static size_t slice_size(const struct greyd *g, size_t n)
{
  if (!g->st || strcmp(store_kind(g->st), "lmdb")) return n;
  return n / 8 > 4 ? n / 8 : 4;
}

static void run_batch(struct greyd *g, struct batch *b)
{
  size_t lo, k = slice_size(g, b->n);

  for (lo = 0; lo < b->n; lo += k)
    run_slice(g, b, lo, lo + k < b->n ? lo + k : b->n);
  b->n = 0;
}

static int next_timeout(void *ctx)
{
  const struct greyd *g = ctx;

  return g->in.n ? 0 : -1;
}

/* After each round of the loop: decide every request gathered.  The
 * batch is swapped out first, because answering releases connections
 * whose next requests join the next batch. */
static void on_round(void *ctx)
{
  struct greyd *g = ctx;
  struct batch t;

  if (!g->in.n) { if (g->loglen) log_flush(g); return; }
  t = g->work;
  g->work = g->in;
  g->in = t;
  g->in.n = 0;
  run_batch(g, &g->work);
  log_flush(g);
}

static void on_tick(void *ctx)
{
  struct greyd *g = ctx;
  long removed;

  g->ticks++;
  log_flush(g);
  reload(g, 0);
  store_up(g);
  if (!g->st) return;
  removed = store_expire(g->st, clock_now(), &g->tm,
                         (unsigned)settings[S_EXPIRE_BATCH].num);
  if (removed < 0) { store_down(g, store_error(g->st)); return; }
  if (removed > 0) {
    struct logline l;

    log_start(&l, "info", "expire");
    log_uint(&l, "removed", (unsigned long long)removed);
    log_str(&l, "store", store_kind(g->st));
    log_end(&l);
  }
}

static void on_reload(void *ctx) { reload(ctx, 1); }

/* A client gone before its answer: the decision still counts, the
 * answer has nobody to go to. */
static void on_closed(struct conn *c)
{
  struct greyd *g = server_ctx(conn_server(c));
  size_t i;

  for (i = 0; i < g->in.n; i++)
    if (g->in.v[i].c == c) g->in.v[i].c = NULL;
  free(conn_data(c));
}

/* ---- start ---- */

static void parse_suspicious(struct greyd *g, const char *s)
{
  char buf[256], *tok, *save = NULL;

  g->suspicious = 0;
  if (!strcmp(s, "any")) { g->suspicious = CL_ALL; return; }
  if (!strcmp(s, "always")) { g->always = 1; return; }
  copy(buf, sizeof buf, s);
  for (tok = strtok_r(buf, ", ", &save); tok;
       tok = strtok_r(NULL, ", ", &save)) {
    unsigned b = classify_bit(tok);

    if (!b) die_msg(EXIT_PERM, "setting SUSPICIOUS names an unknown class:",
                    tok);
    g->suspicious |= b;
  }
  if (!g->suspicious) die_msg(EXIT_PERM, "setting SUSPICIOUS is empty", NULL);
}

static void set_up(struct greyd *g)
{
  char why[512], text[600];
  int i;

  g->tm.delay = (uint32_t)settings[S_DELAY].num;
  g->tm.retry_window = (uint32_t)settings[S_RETRY_WINDOW].num;
  g->tm.max_age = (uint32_t)settings[S_MAX_AGE].num;
  g->tm.awl_clients = (uint32_t)settings[S_AWL_CLIENTS].num;
  g->tm.awl_max_age = (uint32_t)settings[S_AWL_MAX_AGE].num;
  g->tm.awl_interval = (uint32_t)settings[S_AWL_INTERVAL].num;
  parse_suspicious(g, settings[S_SUSPICIOUS].str);
  retry_text(text, sizeof text, g->tm.delay);
  g->reply_new_len = policy_format(g->reply_new, sizeof g->reply_new,
                                   "DEFER_IF_PERMIT", text);
  for (i = 0; i < 4; i++) {
    g->files[i].path = settings[S_WL_CLIENTS + i].str;
    file_changed(&g->files[i]);
  }
  if (load_lists(g, why, sizeof why) < 0)
    die_msg(EXIT_PERM, "unable to load", why);
  g->backoff = 1;
  store_up(g);
}

/* What settings_load cannot tell: an empty SUSPICIOUS (taken as the
 * default, it would greylist every suspicious client, while its writer
 * meant some other list or none), and a STORE that names no store. */
static void check_settings(void)
{
  const char *why;
  char text[256];

  if (!*settings[S_SUSPICIOUS].str)
    die_msg(EXIT_PERM, "setting SUSPICIOUS= is empty (any, always or "
            "a list such as PTRNUL,HELO_IP)", NULL);
  if ((why = store_spec_bad(settings[S_STORE].str))) {
    snprintf(text, sizeof text, "setting STORE=%.64s %s",
             settings[S_STORE].str, why);
    die_msg(EXIT_PERM, text, NULL);
  }
}

int main(void)
{
  static struct greyd g;
  struct server_ops ops;
  int rc;

  log_init("greyd");
  settings_load(settings, S_COUNT);
  if (!settings[S_LISTEN].str)
    die_msg(EXIT_PERM, "setting LISTEN is required", NULL);
  /* The policy protocol has no authentication: whoever reaches the
   * socket decides what greyd stores.  TCP on loopback only. */
  server_need_local("LISTEN", settings[S_LISTEN].str);
  check_settings();
  set_up(&g);
  memset(&ops, 0, sizeof ops);
  ops.max_request = 16384;
  ops.max_output = 65536;
  ops.read_timeout = 100;
  ops.idle_timeout = 0;
  ops.max_conns = (unsigned)settings[S_MAX_CONNS].num;
  ops.request = on_request;
  ops.reload = on_reload;
  ops.closed = on_closed;
  ops.overflow = on_overflow;
  ops.tick = on_tick;
  ops.next_timeout = next_timeout;
  ops.expire = on_round;
  g.srv = server_new(&ops, &g);
  server_listen_list(g.srv, settings[S_LISTEN].str,
                     (unsigned)settings[S_SOCKET_MODE].num);
  rc = server_run(g.srv);
  log_flush(&g);
  store_close(g.st);
  wlist_free(g.wl);
  classifier_free(g.cl);
  free(g.in.v), free(g.in.items), free(g.work.v), free(g.work.items);
  return rc;
}
