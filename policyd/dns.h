/*
 * dns.h - DNS list lookups for policyd: c-ares driven by the server's
 * epoll loop, and an in-process cache of answers for their TTL (negative
 * answers too, for the SOA minimum).  One query per name at a time:
 * requests that need a name already being asked wait for that answer.
 */
#ifndef POLICYD_DNS_H
#define POLICYD_DNS_H

#include <stddef.h>
#include <stdint.h>

struct server;
struct dns;
struct dns_entry;

#define DNS_MAX_ADDRS 8
#define DNS_NAME_MAX 256

/* DNS_DOWN is never a lookup's result: policyd's word for a list whose
 * zone is marked down (breaker.h) and so was not asked. */
enum dns_result { DNS_OK, DNS_TIMEOUT, DNS_SERVFAIL, DNS_TRUNCATED,
                  DNS_DOWN };

/* What a name's lookup gave: the A records (none: not listed). */
struct dns_answer {
  enum dns_result result;
  unsigned naddr;
  uint32_t addr[DNS_MAX_ADDRS];      /* host byte order */
};

/* A request waiting for one name.  The owner embeds it and gets done()
 * once, unless it calls dns_cancel() first. */
struct dns_waiter {
  struct dns_waiter *next, **prevp;
  void (*done)(struct dns_waiter *w, const struct dns_answer *a);
  void *arg;
  unsigned tag;
};

struct dns_config {
  const char *servers;      /* "127.0.0.1:53,[::1]:5353" or "system" */
  unsigned timeout_ms;      /* first try; c-ares doubles it on the next */
  unsigned tries;
  unsigned cache_size;      /* entries at most (0: no cache) */
  unsigned max_ttl;         /* seconds */
  unsigned neg_ttl;         /* seconds, for negative answers with no SOA */
  /* told of every query's outcome once, after its waiters (who may be
   * gone: a request answered at DEADLINE no longer waits), with the
   * microseconds the query took; optional */
  void (*observe)(void *arg, const char *name, const struct dns_answer *a,
                  unsigned long long took);
  void *observe_arg;
};

/* Checks a DNS server list: "system", or ADDR[:PORT] elements
 * separated by commas (ADDR IPv4, [IPv6] or a bare IPv6 without port;
 * PORT 1 to 65535).  Returns NULL if good, else the first bad element
 * (its length in *len), so a typo never reaches c-ares, which would
 * take port 99999 as 34463. */
const char *dns_servers_bad(const char *csv, size_t *len);

/* Exits 100 on a bad server list, 111 if c-ares cannot start. */
struct dns *dns_new(struct server *s, const struct dns_config *cfg);
void dns_free(struct dns *d);

/* Ask for name (A).  Returns 1 and fills *a when the cache answers,
 * else 0: w->done() follows (possibly before dns_lookup returns, if
 * c-ares fails at once).  now: now_usec() (the caller has it). */
int dns_lookup(struct dns *d, const char *name, struct dns_waiter *w,
               struct dns_answer *a, unsigned long long now);
void dns_cancel(struct dns_waiter *w);
/* The cache only: 1 and *a filled if it holds a live answer for name. */
int dns_peek(struct dns *d, const char *name, struct dns_answer *a,
             unsigned long long now);

/* Once a second: the count of answer warnings held back, if any. */
void dns_tick(struct dns *d);

/* For the server loop's next_timeout/expire hooks. */
int dns_next_timeout(struct dns *d);
void dns_expire(struct dns *d);

struct dns_stats { unsigned long long queries, hits, entries, pending; };
void dns_stats(const struct dns *d, struct dns_stats *st);

/* "4.3.2.1.zone" or 32 reversed nibbles of an IPv6 address + ".zone";
 * returns the length, or 0 if addr is not an address or out is small. */
size_t dns_qname(const char *addr, const char *zone, char *out, size_t room);
/* The same in two steps, for one address and several zones: the
 * reversed address with its trailing dot (length 0 if addr is not an
 * address), then prefix + zone (0 if prefix empty or out is small). */
#define DNS_QPREFIX_MAX 72
size_t dns_qprefix(const char *addr, char out[DNS_QPREFIX_MAX]);
size_t dns_qjoin(const char *pre, size_t n, const char *zone, char *out,
                 size_t room);

/* A hint before several lookups: starts fetching name's cache slot from
 * memory, so that the lookups' memory waits overlap. */
void dns_prefetch(struct dns *d, const char *name);

/* Parse a reply to an A query: its A records, the TTL to cache it for
 * (the least A TTL, or for no records the SOA's negative TTL, or
 * neg_ttl), its rcode and TC bit.  Returns 0, or -1 if malformed. */
struct dns_reply {
  unsigned rcode, tc, naddr, nskipped;
  uint32_t addr[DNS_MAX_ADDRS];
  unsigned long ttl;
};
int dns_parse_reply(const unsigned char *buf, size_t len, unsigned neg_ttl,
                    struct dns_reply *r);

#endif
