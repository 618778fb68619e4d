/*
 * dns.c - c-ares in the server's loop, and the answer cache (dns.h).
 *
 * c-ares tells us through its socket-state callback which sockets it
 * wants watched; server_watch() puts them in the epoll loop and
 * ares_process_fd() handles their events.  Its timeouts reach the loop
 * through next_timeout/expire.  (Never ares_fds() and select(): they
 * break above descriptor 1024.)
 *
 * The cache is a hash table of entries keyed by query name, with a
 * list from oldest to newest for eviction.  An entry is pending while
 * its query is out (waiters hang on it) and done after; a failed
 * lookup is not cached, so the next request asks again.
 */
#include <ares.h>
#include <arpa/nameser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include "fmt.h"
#include "ip4.h"
#include "scan.h"
#include "byte.h"
#include "ip6.h"
#include "log.h"
#include "server.h"
#include "dns.h"

struct dns_entry {
  struct dns_entry *hnext;           /* hash chain */
  struct dns_entry *older, *newer;   /* age list (done entries only) */
  struct dns *d;
  unsigned hash;
  int pending;
  unsigned long long sent;           /* usec, monotonic: the query left */
  unsigned long long expires;        /* usec, monotonic */
  struct dns_answer ans;
  struct dns_waiter *waiters;
  char name[];
};

struct dns {
  struct server *srv;
  ares_channel ch;
  struct dns_config cfg;
  struct dns_entry **table;
  unsigned mask;                     /* table size - 1 */
  struct dns_entry *oldest, *newest;
  unsigned long long entries, pending, queries, hits;
  unsigned long long warn_start, warned, suppressed;
};

static unsigned hash_name(const char *s)
{
  unsigned h = 2166136261U;

  for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619U;
  return h;
}

/* --- the cache --- */

static struct dns_entry *find(struct dns *d, const char *name, unsigned h)
{
  struct dns_entry *e;

  for (e = d->table[h & d->mask]; e; e = e->hnext)
    if (e->hash == h && !strcmp(e->name, name)) return e;
  return NULL;
}

static void unhash(struct dns *d, struct dns_entry *e)
{
  struct dns_entry **pp = &d->table[e->hash & d->mask];

  while (*pp && *pp != e) pp = &(*pp)->hnext;
  if (*pp) *pp = e->hnext;
  d->entries--;
}

static void age_unlink(struct dns *d, struct dns_entry *e)
{
  if (e->older) e->older->newer = e->newer;
  else if (d->oldest == e) d->oldest = e->newer;
  if (e->newer) e->newer->older = e->older;
  else if (d->newest == e) d->newest = e->older;
  e->older = e->newer = NULL;
}

static void age_append(struct dns *d, struct dns_entry *e)
{
  e->older = d->newest;
  e->newer = NULL;
  if (d->newest) d->newest->newer = e;
  else d->oldest = e;
  d->newest = e;
}

static void drop(struct dns *d, struct dns_entry *e)
{
  unhash(d, e);
  age_unlink(d, e);
  free(e);
}

/* Room for one more: the oldest done entry goes (pending ones are not on
 * the age list). */
static void make_room(struct dns *d)
{
  while (d->entries >= d->cfg.cache_size + d->pending && d->oldest)
    drop(d, d->oldest);
}

/* --- answers --- */

static void finish(struct dns_entry *e, const struct dns_answer *a)
{
  struct dns_waiter *w;

  while ((w = e->waiters)) {
    e->waiters = w->next;
    if (w->next) w->next->prevp = &e->waiters;
    w->next = NULL;
    w->prevp = NULL;
    w->done(w, a);
  }
}

/* A list that answers every query with an error code (it has blocked
 * us) would write one warning per client: after WARN_BURST in a minute
 * the rest are only counted, and the count is logged once the minute is
 * over. */
#define WARN_BURST 10
#define WARN_WINDOW 60000000ULL

void dns_tick(struct dns *d)
{
  struct logline l;

  if (now_usec() - d->warn_start < WARN_WINDOW) return;
  if (d->suppressed) {
    log_start(&l, "warning", "dnsbl_answer_suppressed");
    log_uint(&l, "count", d->suppressed);
    log_uint(&l, "seconds", (now_usec() - d->warn_start) / 1000000ULL);
    log_end(&l);
  }
  d->warn_start = now_usec();
  d->warned = d->suppressed = 0;
}

static void log_invalid(struct dns *d, const char *name, uint32_t a,
                        const char *why)
{
  struct logline l;
  char ip[IP4_FMT];
  unsigned char b[4] = { (unsigned char)(a >> 24), (unsigned char)(a >> 16),
                         (unsigned char)(a >> 8), (unsigned char)a };

  dns_tick(d);
  if (d->warned >= WARN_BURST) { d->suppressed++; return; }
  d->warned++;
  ip[ip4_fmt(ip, (const char *)b)] = 0;
  log_start(&l, "warning", "dnsbl_answer");
  log_str(&l, "query", name);
  log_str(&l, "answer", ip);
  log_str(&l, "reason", why);
  log_end(&l);
}

const char *answer_invalid(uint32_t a);   /* rules.c */

static void fill_answer(struct dns_entry *e, const struct dns_reply *r)
{
  unsigned i;

  e->ans.result = DNS_OK;
  e->ans.naddr = r->naddr;
  for (i = 0; i < r->naddr; i++) {
    const char *why = answer_invalid(r->addr[i]);

    e->ans.addr[i] = r->addr[i];
    if (why) log_invalid(e->d, e->name, r->addr[i], why);
  }
}

static void observe(struct dns *d, struct dns_entry *e)
{
  if (d->cfg.observe)
    d->cfg.observe(d->cfg.observe_arg, e->name, &e->ans,
                   now_usec() - e->sent);
}

static enum dns_result failure_of(int status)
{
  switch (status) {
  case ARES_ETIMEOUT: case ARES_EDESTRUCTION: case ARES_ECANCELLED:
    return DNS_TIMEOUT;
  default:
    return DNS_SERVFAIL;
  }
}

static void answered(void *arg, int status, int timeouts,
                     unsigned char *abuf, int alen)
{
  struct dns_entry *e = arg;
  struct dns *d = e->d;
  struct dns_reply r;
  int parsed = abuf && alen > 0
               && !dns_parse_reply(abuf, (size_t)alen, d->cfg.neg_ttl, &r);

  (void)timeouts;
  e->pending = 0;
  d->pending--;
  if (parsed && r.tc) e->ans.result = DNS_TRUNCATED;
  else if (status == ARES_SUCCESS && parsed) fill_answer(e, &r);
  else if ((status == ARES_ENOTFOUND || status == ARES_ENODATA) && parsed) {
    r.naddr = 0;
    fill_answer(e, &r);
  } else e->ans.result = status == ARES_SUCCESS ? DNS_SERVFAIL
                                                 : failure_of(status);
  if (e->ans.result != DNS_OK || !d->cfg.cache_size || r.ttl == 0) {
    unhash(d, e);
    finish(e, &e->ans);
    observe(d, e);
    free(e);
    return;
  }
  e->expires = now_usec() + (unsigned long long)
               (r.ttl > d->cfg.max_ttl ? d->cfg.max_ttl : r.ttl) * 1000000ULL;
  age_append(d, e);
  finish(e, &e->ans);
  observe(d, e);
}

int dns_lookup(struct dns *d, const char *name, struct dns_waiter *w,
               struct dns_answer *a, unsigned long long now)
{
  unsigned h = hash_name(name);
  struct dns_entry *e = find(d, name, h);
  size_t n = strlen(name);

  if (e && !e->pending && e->expires <= now) { drop(d, e); e = NULL; }
  if (e && !e->pending) {
    d->hits++;
    *a = e->ans;
    return 1;
  }
  if (e) d->hits++;
  else {
    make_room(d);
    e = calloc(1, sizeof *e + n + 1);
    if (!e) {
      a->result = DNS_SERVFAIL;
      a->naddr = 0;
      return 1;
    }
    memcpy(e->name, name, n + 1);
    e->d = d;
    e->hash = h;
    e->hnext = d->table[h & d->mask];
    d->table[h & d->mask] = e;
    d->entries++;
  }
  w->next = e->waiters;
  if (w->next) w->next->prevp = &w->next;
  w->prevp = &e->waiters;
  e->waiters = w;
  if (!e->pending) {
    /* may answer at once (and call w->done) if c-ares fails early */
    e->pending = 1;
    e->sent = now;
    d->pending++;
    d->queries++;
    ares_query(d->ch, name, ns_c_in, ns_t_a, answered, e);
  }
  return 0;
}

void dns_prefetch(struct dns *d, const char *name)
{
  struct dns_entry **slot = &d->table[hash_name(name) & d->mask];

  __builtin_prefetch(slot);
  /* the load waits, but the out-of-order core goes on to the next
   * name's hash meanwhile */
  if (*slot) {
    __builtin_prefetch(*slot);
    __builtin_prefetch((char *)*slot + 64);
  }
}

int dns_peek(struct dns *d, const char *name, struct dns_answer *a,
             unsigned long long now)
{
  unsigned h = hash_name(name);
  struct dns_entry *e = find(d, name, h);

  if (!e || e->pending || e->expires <= now) return 0;
  d->hits++;
  *a = e->ans;
  return 1;
}

void dns_cancel(struct dns_waiter *w)
{
  if (!w->prevp) return;
  *w->prevp = w->next;
  if (w->next) w->next->prevp = w->prevp;
  w->next = NULL;
  w->prevp = NULL;
}

/* --- the loop --- */

static void on_fd(void *arg, int fd, unsigned events)
{
  struct dns *d = arg;

  ares_process_fd(d->ch, (events & WATCH_IN) ? fd : ARES_SOCKET_BAD,
                  (events & WATCH_OUT) ? fd : ARES_SOCKET_BAD);
}

static void sock_state(void *data, ares_socket_t fd, int readable,
                       int writable)
{
  struct dns *d = data;

  server_watch(d->srv, fd, (readable ? WATCH_IN : 0)
                           | (writable ? WATCH_OUT : 0), on_fd, d);
}

int dns_next_timeout(struct dns *d)
{
  struct timeval tv, *t;

  if (!d->pending) return -1;
  t = ares_timeout(d->ch, NULL, &tv);
  if (!t) return -1;
  return (int)(t->tv_sec * 1000 + (t->tv_usec + 999) / 1000);
}

void dns_expire(struct dns *d)
{
  if (d->pending) ares_process_fd(d->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
}

void dns_stats(const struct dns *d, struct dns_stats *st)
{
  st->queries = d->queries;
  st->hits = d->hits;
  st->entries = d->entries;
  st->pending = d->pending;
}

struct dns *dns_new(struct server *s, const struct dns_config *cfg)
{
  struct ares_options o;
  struct dns *d = calloc(1, sizeof *d);
  unsigned size = 1024;
  const char *bad;
  size_t len;
  int rc;

  if ((bad = dns_servers_bad(cfg->servers, &len))) {
    char msg[200];

    snprintf(msg, sizeof msg, "%.*s", (int)len, bad);
    die_msg(EXIT_PERM, "bad DNS server (want ADDR[:PORT], IPv6 as "
            "[ADDR]:PORT, PORT 1-65535):", msg);
  }
  if (!d) die_sys(EXIT_TEMP, "allocate", "dns");
  d->srv = s;
  d->cfg = *cfg;
  while (size < cfg->cache_size && size < (1U << 30)) size <<= 1;
  d->table = calloc(size, sizeof *d->table);
  if (!d->table) die_sys(EXIT_TEMP, "allocate", "dns cache");
  d->mask = size - 1;
  d->warn_start = now_usec();
  if ((rc = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS)
    die_msg(EXIT_TEMP, "unable to start c-ares:", ares_strerror(rc));
  memset(&o, 0, sizeof o);
  o.sock_state_cb = sock_state;
  o.sock_state_cb_data = d;
  o.timeout = (int)cfg->timeout_ms;
  o.tries = (int)cfg->tries;
  /* a truncated DNSBL answer is a failure of its own, not a TCP retry */
  o.flags = ARES_FLAG_IGNTC | ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
  rc = ares_init_options(&d->ch, &o, ARES_OPT_SOCK_STATE_CB
                         | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES
                         | ARES_OPT_FLAGS);
  if (rc != ARES_SUCCESS)
    die_msg(EXIT_TEMP, "unable to start c-ares:", ares_strerror(rc));
  if (strcmp(cfg->servers, "system")
      && ares_set_servers_ports_csv(d->ch, cfg->servers) != ARES_SUCCESS)
    die_msg(EXIT_PERM, "bad DNS server list (want ADDR[:PORT],...):",
            cfg->servers);
  return d;
}

/* ":PORT" at s (n bytes), or nothing at all. */
static int port_ok(const char *s, size_t n)
{
  unsigned long v = 0;
  size_t i;

  if (!n) return 1;
  if (s[0] != ':' || n < 2 || n > 6) return 0;
  for (i = 1; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return 0;
    v = v * 10 + (unsigned long)(s[i] - '0');
  }
  return v >= 1 && v <= 65535;
}

/* One ADDR[:PORT] element, n bytes, NUL-terminated copy in one. */
static int server_ok(const char *one, size_t n)
{
  char ip[16];
  const char *end;
  size_t a;

  if (one[0] == '[') {
    end = memchr(one, ']', n);
    if (!end || end == one + 1) return 0;
    a = (size_t)(end - one - 1);
    if (scan_ip6(one + 1, ip) != a || scan_ip4(one + 1, ip) == a)
      return 0;                         /* [IPv4] is no IPv6 */
    return port_ok(end + 1, n - a - 2);
  }
  if (strchr(one, ':') != strrchr(one, ':'))     /* bare IPv6, no port */
    return scan_ip6(one, ip) == n;
  a = scan_ip4(one, ip);
  return a && (one[a] == 0 || one[a] == ':') && port_ok(one + a, n - a);
}

const char *dns_servers_bad(const char *csv, size_t *len)
{
  const char *s = csv;

  if (!strcmp(csv, "system")) return NULL;
  for (;;) {
    char one[64];
    size_t n = strcspn(s, ",");

    *len = n;
    if (!n || n >= sizeof one) return s;
    memcpy(one, s, n);
    one[n] = 0;
    if (!server_ok(one, n)) return s;
    if (!s[n]) return NULL;
    s += n + 1;
  }
}

void dns_free(struct dns *d)
{
  unsigned i;

  if (!d) return;
  d->warn_start = 0;         /* the count held back, before exit */
  dns_tick(d);
  ares_destroy(d->ch);     /* pending queries end with ARES_EDESTRUCTION */
  for (i = 0; i <= d->mask; i++)
    while (d->table[i]) {
      struct dns_entry *e = d->table[i];

      d->table[i] = e->hnext;
      free(e);
    }
  free(d->table);
  free(d);
  ares_library_cleanup();
}

/* --- names and replies --- */

size_t dns_qprefix(const char *addr, char out[DNS_QPREFIX_MAX])
{
  static const char hex[] = "0123456789abcdef";
  char ip[16];
  size_t n = 0, len = strlen(addr);
  int i;

  if (len && scan_ip4(addr, ip) == len) {
    unsigned char *b = (unsigned char *)ip;

    for (i = 3; i >= 0; i--) {
      n += fmt_ulong(out + n, b[i]);
      out[n++] = '.';
    }
  } else if (len && scan_ip6(addr, ip) == len) {
    unsigned char *b = (unsigned char *)ip;

    if (ip6_isv4mapped(ip)) {
      char v4[IP4_FMT];

      v4[ip4_fmt(v4, ip + 12)] = 0;
      return dns_qprefix(v4, out);
    }
    for (i = 15; i >= 0; i--) {
      out[n++] = hex[b[i] & 15];
      out[n++] = '.';
      out[n++] = hex[b[i] >> 4];
      out[n++] = '.';
    }
  }
  return n;
}

size_t dns_qjoin(const char *pre, size_t n, const char *zone, char *out,
                 size_t room)
{
  size_t z = strlen(zone);

  if (!n || n + z + 1 > room) return 0;
  memcpy(out, pre, n);
  memcpy(out + n, zone, z + 1);
  return n + z;
}

size_t dns_qname(const char *addr, const char *zone, char *out, size_t room)
{
  char pre[DNS_QPREFIX_MAX];

  return dns_qjoin(pre, dns_qprefix(addr, pre), zone, out, room);
}

/* Skip a possibly compressed name; returns the offset after it, or 0. */
static size_t skip_name(const unsigned char *b, size_t len, size_t p)
{
  while (p < len) {
    unsigned l = b[p];

    if (l == 0) return p + 1;
    if ((l & 0xc0) == 0xc0) return p + 2 <= len ? p + 2 : 0;
    if (l & 0xc0) return 0;
    p += l + 1;
  }
  return 0;
}

static unsigned get16(const unsigned char *b) { return b[0] << 8 | b[1]; }
static unsigned long get32(const unsigned char *b)
{
  return (unsigned long)b[0] << 24 | (unsigned long)b[1] << 16
         | (unsigned long)b[2] << 8 | b[3];
}

/* One resource record at *p: type, ttl, rdata. */
static int next_rr(const unsigned char *b, size_t len, size_t *p,
                   unsigned *type, unsigned long *ttl,
                   const unsigned char **rd, unsigned *rdlen)
{
  size_t q = skip_name(b, len, *p);

  if (!q || q + 10 > len) return -1;
  *type = get16(b + q);
  *ttl = get32(b + q + 4);
  if (*ttl > 0x7fffffffUL) *ttl = 0;   /* RFC 2181: treat as zero */
  *rdlen = get16(b + q + 8);
  if (q + 10 + *rdlen > len) return -1;
  *rd = b + q + 10;
  *p = q + 10 + *rdlen;
  return 0;
}

static void take_a(struct dns_reply *r, const unsigned char *rd,
                   unsigned long ttl)
{
  if (r->naddr == DNS_MAX_ADDRS) { r->nskipped++; return; }
  r->addr[r->naddr++] = (uint32_t)get32(rd);
  if (r->naddr == 1 || ttl < r->ttl) r->ttl = ttl;
}

int dns_parse_reply(const unsigned char *b, size_t len, unsigned neg_ttl,
                    struct dns_reply *r)
{
  unsigned qd, an, ns, i, type, rdlen;
  unsigned long ttl;
  const unsigned char *rd;
  size_t p = 12;
  int soa = 0;

  memset(r, 0, sizeof *r);
  if (len < 12) return -1;
  r->tc = (b[2] & 0x02) != 0;
  r->rcode = b[3] & 0x0f;
  qd = get16(b + 4);
  an = get16(b + 6);
  ns = get16(b + 8);
  for (i = 0; i < qd; i++) {
    p = skip_name(b, len, p);
    if (!p || p + 4 > len) return -1;
    p += 4;
  }
  for (i = 0; i < an; i++) {
    if (next_rr(b, len, &p, &type, &ttl, &rd, &rdlen)) return -1;
    if (type == ns_t_a && rdlen == 4) take_a(r, rd, ttl);
  }
  if (r->naddr) return 0;
  r->ttl = neg_ttl;
  for (i = 0; i < ns && !soa; i++) {
    if (next_rr(b, len, &p, &type, &ttl, &rd, &rdlen)) return -1;
    if (type != ns_t_soa) continue;
    /* RFC 2308: the SOA's TTL capped by its MINIMUM, the last field */
    if (rdlen < 22) return -1;
    r->ttl = get32(rd + rdlen - 4) < ttl ? get32(rd + rdlen - 4) : ttl;
    soa = 1;
  }
  return 0;
}
