/*
 * policyd - envelope policy rules that combine PTR and HELO conditions
 * with DNS list lookups, for Postfix's check_policy_service.
 *
 * One process, one loop (lib/server.h).  A request is classified at
 * once (lib/classify.h); if the first rule that can still match needs
 * DNS lists, the lists any candidate rule needs are asked in parallel
 * and the connection is held, while every other connection is served.
 * Each answer re-evaluates the rules; the request is answered as soon as
 * the outcome is known, or at DEADLINE with the missing lists counted as
 * failed (never as listed).  See policyd(8).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <ip4.h>
#include <ip6.h>
#include <scan.h>
#include "classify.h"
#include "log.h"
#include "policy.h"
#include "server.h"
#include "settings.h"
#include "breaker.h"
#include "dns.h"
#include "rules.h"

enum {
  S_LISTEN, S_SOCKET_MODE, S_RULES, S_DNS, S_DEADLINE, S_DNS_FAIL_DEFER,
  S_CACHE_SIZE, S_CACHE_MAX_TTL, S_CACHE_NEG_TTL, S_PATTERNS, S_MAX_CONNS,
  S_IDLE_TIMEOUT, S_STATS_INTERVAL, S_DOWN_FAILURES, S_DOWN_WINDOW,
  S_DOWN_BACKOFF, S_DOWN_BACKOFF_MAX, S_COUNT
};

static struct setting settings[S_COUNT] = {
  { "LISTEN", SET_STRING, NULL, 0, 1024, 0, NULL },
  { "SOCKET_MODE", SET_OCTAL, "0666", 0, 0777, 0, NULL },
  { "RULES", SET_STRING, NULL, 0, 1024, 0, NULL },
  { "DNS", SET_STRING, NULL, 0, 1024, 0, NULL },
  { "DEADLINE", SET_UINT, "2000", 50, 60000, 0, NULL },
  { "DNS_FAIL_DEFER", SET_BOOL, "no", 0, 1, 0, NULL },
  { "CACHE_SIZE", SET_UINT, "100000", 0, 10000000, 0, NULL },
  { "CACHE_MAX_TTL", SET_SECONDS, "1h", 0, 604800, 0, NULL },
  { "CACHE_NEG_TTL", SET_SECONDS, "5m", 0, 86400, 0, NULL },
  { "PATTERNS", SET_STRING, NULL, 0, 1024, 0, NULL },
  { "MAX_CONNS", SET_UINT, "2048", 1, 100000, 0, NULL },
  { "IDLE_TIMEOUT", SET_SECONDS, "1h", 0, 86400, 0, NULL },
  { "STATS_INTERVAL", SET_SECONDS, "5m", 0, 86400, 0, NULL },
  { "DNS_DOWN_FAILURES", SET_UINT, "5", 0, 1000, 0, NULL },
  { "DNS_DOWN_WINDOW", SET_SECONDS, "1m", 1, 3600, 0, NULL },
  { "DNS_DOWN_BACKOFF", SET_SECONDS, "30", 1, 3600, 0, NULL },
  { "DNS_DOWN_BACKOFF_MAX", SET_SECONDS, "10m", 1, 86400, 0, NULL },
};

#define FIELD_MAX 320       /* bytes kept of each logged attribute */

struct req;

struct ctx {
  struct server *srv;
  struct dns *dns;
  struct ruleset *rs;
  struct classifier *cl;
  const char *rules_path, *patterns;
  struct stat rules_st;
  unsigned long long deadline_us;
  int fail_defer;
  struct req *first, *last;       /* held, oldest first (same DEADLINE) */
  struct breaker *breakers;       /* one per zone of the live rulesets */
  struct breaker_config bc;
  unsigned long long requests, rejects, defers, held, expired;
  unsigned long long bad, skipped;
  unsigned long long last_stats, stats_every;
};

struct req {
  struct ctx *x;
  struct conn *c;
  struct ruleset *rs;
  struct req *prev, *next;
  unsigned long long start, deadline;
  struct evalstate st;
  uint32_t asked, failed, answered;
  enum dns_result first_failure;
  int held, starting;
  struct req *free_next;          /* on the spare list */
  /* not cleared for a new request: w[i] only once asked bit i is set */
  struct dns_waiter w[RULES_MAX_LISTS];
  const char *client, *helo, *ptr, *sender, *rcpt;
  char strings[5 * (FIELD_MAX + 1)];
};

/* Requests are 3 KB: a few spares are kept rather than cleared and
 * freed for every one (at most SPARE_MAX, about the connections that
 * wait at once on a busy MX). */
#define SPARE_MAX 64
static struct req *spare;
static unsigned nspare;

static struct req *req_alloc(void)
{
  struct req *r = spare;

  if (r) {
    spare = r->free_next;
    nspare--;
  } else if (!(r = malloc(sizeof *r))) return NULL;
  memset(r, 0, offsetof(struct req, w));
  return r;
}

static void req_release(struct req *r)
{
  if (nspare >= SPARE_MAX) { free(r); return; }
  r->free_next = spare;
  spare = r;
  nspare++;
}

/* --- the answer and its log line --- */

static const char *const failure_words[] = { "ok", "timeout", "servfail",
                                             "truncated", "down" };

static const char *dns_word(const struct req *r)
{
  if (!r->asked) return "none";
  if (!r->failed) return "ok";
  if (r->answered & ~r->failed) return "partial";
  return failure_words[r->first_failure];
}

static size_t list_names(const struct req *r, uint32_t mask, char *out,
                         size_t room)
{
  size_t n = 0;
  unsigned i;

  out[0] = 0;
  for (i = 0; i < r->rs->nlists; i++) {
    const char *name = r->rs->lists[i].name;
    size_t l = strlen(name);

    if (!(mask & (1U << i)) || n + l + 2 > room) continue;
    if (n) out[n++] = ',';
    memcpy(out + n, name, l + 1);
    n += l;
  }
  if (!n) memcpy(out, "-", 2);
  return n;
}

static void log_decision(const struct req *r, const char *action,
                         const char *rule)
{
  struct logline l;
  char buf[1024];
  uint32_t listed = 0, failed = r->failed;
  unsigned i;

  for (i = 0; i < r->rs->nlists; i++)
    if (r->st.list[i] == L_LISTED) listed |= 1U << i;
  log_start(&l, "info", "decision");
  log_str(&l, "action", action);
  log_str(&l, "rule", rule);
  log_str(&l, "client", r->client);
  log_str(&l, "helo", r->helo);
  log_str(&l, "ptr", r->ptr);
  log_str(&l, "sender", r->sender);
  log_str(&l, "recipient", r->rcpt);
  rules_conds(r->rs, &r->st, buf, sizeof buf);
  log_str(&l, "conds", buf[0] ? buf : "-");
  list_names(r, listed, buf, sizeof buf);
  log_str(&l, "lists", buf);
  log_str(&l, "dns", dns_word(r));
  if (failed) {
    list_names(r, failed, buf, sizeof buf);
    log_str(&l, "failed", buf);
  }
  log_ms(&l, "ms", now_usec() - r->start);
  log_end(&l);
}

static const char *const verbs[] = { "REJECT", "DEFER", "DUNNO", "OK",
                                     "WARN" };

/* The reply's text: the rule's own, or one that names the rule. */
static void reply_text(const struct rule *rule, char *out, size_t room)
{
  static const char *const dflt[] = {
    "5.7.1 Rejected by policy (%s)", "4.7.1 Try again later (%s)", "",
    "", "policyd rule %s"
  };

  if (rule->text) snprintf(out, room, "%s", rule->text);
  else snprintf(out, room, dflt[rule->action], rule->name);
}

/* --- rulesets and their zones' breakers --- */

static struct breaker *breaker_for(struct ctx *x, const char *zone)
{
  struct breaker *b;
  size_t n = strlen(zone);

  for (b = x->breakers; b; b = b->next)
    if (!strcmp(b->zone, zone)) return b;
  b = calloc(1, sizeof *b + n + 1);
  if (!b) return NULL;
  memcpy(b->zone, zone, n + 1);
  b->owner = x;
  b->next = x->breakers;
  x->breakers = b;
  return b;
}

static void breaker_drop(struct ctx *x, struct breaker *b)
{
  struct breaker **pp = &x->breakers;

  if (--b->refs) return;
  while (*pp != b) pp = &(*pp)->next;
  *pp = b->next;
  dns_cancel(&b->probe);
  free(b);
}

/* Each list of a new ruleset gets its zone's breaker, which a reload
 * keeps (a down zone stays down), each rule its reply.  -1 if out of
 * memory (the caller then drops the ruleset with rules_unref). */
static int rule_reply(struct rule *rule);

static int rs_attach(struct ctx *x, struct ruleset *rs)
{
  unsigned i;

  /* each rule's reply formatted here, not for every request */
  for (i = 0; i < rs->nrules; i++)
    if (rule_reply(&rs->rules[i]) < 0) return -1;
  for (i = 0; i < rs->nlists; i++) {
    rs->lists[i].brk = breaker_for(x, rs->lists[i].zone);
    if (!rs->lists[i].brk) {
      while (i--) breaker_drop(x, rs->lists[i].brk);
      return -1;
    }
    rs->lists[i].brk->refs++;
  }
  return 0;
}

/* rules_unref, and the breakers of a ruleset going away */
static void rs_drop(struct ctx *x, struct ruleset *rs)
{
  unsigned i;

  if (rs->refs == 1)
    for (i = 0; i < rs->nlists; i++) breaker_drop(x, rs->lists[i].brk);
  rules_unref(rs);
}

static void req_free(struct req *r)
{
  struct ctx *x = r->x;
  unsigned i;

  for (i = 0; i < RULES_MAX_LISTS; i++)
    if (r->asked & (1U << i)) dns_cancel(&r->w[i]);
  if (r->held) {
    if (r->prev) r->prev->next = r->next;
    else x->first = r->next;
    if (r->next) r->next->prev = r->prev;
    else x->last = r->prev;
  }
  rs_drop(x, r->rs);
  req_release(r);
}

/* A rule's reply, once per ruleset (rs_attach): -1 if out of memory. */
static int rule_reply(struct rule *rule)
{
  char text[RULES_TEXT_MAX + 64], out[RULES_TEXT_MAX + 128];
  const char *verb = verbs[rule->action];
  size_t n;

  reply_text(rule, text, sizeof text);
  n = policy_format(out, sizeof out, verb, text[0] ? text : NULL);
  if (!n) n = policy_format(out, sizeof out, verb, NULL);  /* never mute */
  rule->reply = malloc(n);
  if (!rule->reply) return -1;
  memcpy(rule->reply, out, n);
  rule->replylen = n;
  return 0;
}

static void answer(struct req *r, int how, unsigned ri)
{
  /* DEFER_IF_PERMIT: a later permanent reject still wins */
  static const char dunno_reply[] = "action=DUNNO\n\n",
    fail_reply[] = "action=DEFER_IF_PERMIT 4.7.1 DNS list lookup failed, "
                   "try again later\n\n";
  const struct rule *rule = how == EVAL_NOMATCH ? NULL : &r->rs->rules[ri];
  const char *action = "dunno";
  struct conn *c = r->c;
  int held = r->held;

  if (how == EVAL_MATCH) {
    action = action_name(rule->action);
    if (rule->action == A_REJECT) r->x->rejects++;
    if (rule->action == A_DEFER) r->x->defers++;
    conn_write(c, rule->reply, rule->replylen);
  } else if (how == EVAL_DNSFAIL) {
    action = "defer";
    r->x->defers++;
    conn_write(c, fail_reply, sizeof fail_reply - 1);
  } else conn_write(c, dunno_reply, sizeof dunno_reply - 1);
  log_decision(r, action, rule ? rule->name : "-");
  req_free(r);
  if (held) conn_release(c);
}

/* Decide if the answers in hand allow it; final: no more will come. */
static int try_decide(struct req *r, int final)
{
  unsigned ri = 0;
  int how;

  if (final) {
    unsigned i;

    for (i = 0; i < RULES_MAX_LISTS; i++)
      if ((r->asked & (1U << i)) && r->st.list[i] == L_UNKNOWN) {
        if (!r->failed || r->first_failure == DNS_DOWN)
          r->first_failure = DNS_TIMEOUT;
        r->st.list[i] = L_FAILED;
        r->failed |= 1U << i;
        r->answered |= 1U << i;
      }
  }
  how = rules_eval(r->rs, &r->st, r->x->fail_defer, &ri);
  if (how == EVAL_WAIT && !final) return 0;
  if (how == EVAL_WAIT) how = EVAL_NOMATCH;   /* cannot happen; be safe */
  answer(r, how, ri);
  return 1;
}

/* --- DNS --- */

static void take_answer(struct req *r, unsigned i,
                        const struct dns_answer *a);

/* A list of a zone that is down: not asked, failed as "down". */
static void mark_down(struct req *r, unsigned i)
{
  uint32_t bit = 1U << i;

  r->w[i].prevp = NULL;         /* asked, but nothing to cancel */
  r->asked |= bit;
  r->answered |= bit;
  if (!r->failed) r->first_failure = DNS_DOWN;
  r->failed |= bit;
  r->st.list[i] = L_FAILED;
}

/* The zone just went down: the held requests stop waiting for it. */
static void release_waiting(struct ctx *x, struct breaker *b)
{
  struct req *r = x->first, *next;

  for (; r; r = next) {
    unsigned i, hit = 0;

    next = r->next;
    for (i = 0; i < r->rs->nlists; i++)
      if (r->rs->lists[i].brk == b && (r->asked & (1U << i))
          && r->st.list[i] == L_UNKNOWN) {
        dns_cancel(&r->w[i]);
        mark_down(r, i);
        hit = 1;
      }
    /* may answer and free r, never next: requests are freed alone */
    if (hit) try_decide(r, 0);
  }
}

static void went_down(struct ctx *x, struct breaker *b)
{
  struct logline l;

  log_start(&l, "warning", "dnsbl_down");
  log_str(&l, "zone", b->zone);
  log_uint(&l, "failures", b->fails);
  log_str(&l, "last", failure_words[b->last]);
  log_uint(&l, "backoff", b->backoff / 1000000ULL);
  log_end(&l);
  release_waiting(x, b);
}

/* The breaker of the zone that name is in (the longest such zone). */
static struct breaker *zone_of(struct ctx *x, const char *name)
{
  struct breaker *b, *best = NULL;
  size_t n = strlen(name), bestlen = 0;

  for (b = x->breakers; b; b = b->next) {
    size_t z = strlen(b->zone);

    if (z < n && z > bestlen && name[n - z - 1] == '.'
        && !memcmp(name + n - z, b->zone, z)) {
      best = b;
      bestlen = z;
    }
  }
  return best;
}

/* Every query's outcome counts for its zone's breaker, once, whether or
 * not a request still waits for it (one answered at DEADLINE does not).
 * An answer later than DEADLINE counts as a timeout: it came too late
 * for the requests that asked, which all waited DEADLINE for it. */
static void observe(void *arg, const char *name, const struct dns_answer *a,
                    unsigned long long took)
{
  struct ctx *x = arg;
  struct breaker *b = zone_of(x, name);
  enum dns_result res = a->result;

  if (res == DNS_OK && took > x->deadline_us) res = DNS_TIMEOUT;
  if (b && breaker_note(b, &x->bc, res, now_usec())) went_down(x, b);
}

static void probe_done(struct dns_waiter *w, const struct dns_answer *a)
{
  struct breaker *b = w->arg;
  struct ctx *x = b->owner;
  unsigned long long now = now_usec();
  enum dns_result res = a->result;
  struct logline l;

  /* a probe answered later than DEADLINE would still make every
   * request wait: the zone is not back */
  if (res == DNS_OK && now - b->probe_sent > x->deadline_us)
    res = DNS_TIMEOUT;
  if (!breaker_probed(b, &x->bc, res, now)) return;
  log_start(&l, "info", "dnsbl_up");
  log_str(&l, "zone", b->zone);
  log_uint(&l, "seconds", (now - b->since + 500000ULL) / 1000000ULL);
  log_end(&l);
}

/* The one query that says whether a down zone is back: its own waiter,
 * no request waits for it. */
static void probe(struct ctx *x, struct breaker *b, const char *qname)
{
  struct dns_answer a;
  unsigned long long now = now_usec();

  if (!breaker_probe_due(b, now)) return;
  b->probe_sent = now;
  b->probe.done = probe_done;
  b->probe.arg = b;
  if (dns_lookup(x->dns, qname, &b->probe, &a, now))
    probe_done(&b->probe, &a);
}

/* A cached answer is still data; without one the list is down. */
static void ask_down(struct req *r, unsigned i, const char *qname)
{
  struct breaker *b = r->rs->lists[i].brk;
  struct dns_answer a;

  if (dns_peek(r->x->dns, qname, &a, r->start)) {
    r->w[i].prevp = NULL;
    r->asked |= 1U << i;
    take_answer(r, i, &a);
    return;
  }
  probe(r->x, b, qname);
  mark_down(r, i);
}

static void take_answer(struct req *r, unsigned i,
                        const struct dns_answer *a)
{
  const struct dnslist *l = &r->rs->lists[i];
  unsigned k;

  r->answered |= 1U << i;
  if (a->result != DNS_OK) {
    /* a failure that made the request wait names it before "down" */
    if (!r->failed || r->first_failure == DNS_DOWN)
      r->first_failure = a->result;
    r->failed |= 1U << i;
    r->st.list[i] = L_FAILED;
    return;
  }
  r->st.list[i] = L_CLEAR;
  for (k = 0; k < a->naddr; k++)
    if (dnslist_counts(l, a->addr[k])) r->st.list[i] = L_LISTED;
}

static void on_answer(struct dns_waiter *w, const struct dns_answer *a)
{
  struct req *r = w->arg;

  take_answer(r, w->tag, a);
  if (!r->starting) try_decide(r, 0);
}

static void ask_lists(struct req *r, uint32_t need)
{
  char qname[DNS_NAME_MAX], pre[DNS_QPREFIX_MAX];
  size_t np = need ? dns_qprefix(r->client, pre) : 0;
  unsigned i;

  /* first every slot on its way from memory, then the lookups */
  for (i = 0; np && i < r->rs->nlists; i++)
    if ((need & (1U << i))
        && dns_qjoin(pre, np, r->rs->lists[i].zone, qname, sizeof qname))
      dns_prefetch(r->x->dns, qname);
  r->starting = 1;
  for (i = 0; i < r->rs->nlists; i++) {
    struct dns_answer a;

    if (!(need & (1U << i))) continue;
    if (!dns_qjoin(pre, np, r->rs->lists[i].zone, qname, sizeof qname)) {
      r->st.list[i] = L_CLEAR;  /* no address to look up: not listed */
      continue;
    }
    if (r->rs->lists[i].brk->down) {
      ask_down(r, i, qname);
      continue;
    }
    r->asked |= 1U << i;
    r->w[i].done = on_answer;
    r->w[i].arg = r;
    r->w[i].tag = i;
    r->w[i].prevp = NULL;       /* stays so if the cache answers */
    if (dns_lookup(r->x->dns, qname, &r->w[i], &a, r->start))
      take_answer(r, i, &a);
  }
  r->starting = 0;
}

/* --- requests --- */

static const char *keep(char **p, const char *s)
{
  size_t n = strlen(s);
  char *out = *p;

  if (n > FIELD_MAX) n = FIELD_MAX;
  memcpy(out, s, n);
  out[n] = 0;
  *p += n + 1;
  return out;
}

static struct req *req_new(struct ctx *x, struct conn *c,
                           const struct policy_request *pr)
{
  struct req *r = req_alloc();
  char *p;

  if (!r) return NULL;
  p = r->strings;
  r->x = x;
  r->c = c;
  r->rs = x->rs;
  rules_ref(r->rs);
  r->start = now_usec();
  r->deadline = r->start + x->deadline_us;
  r->client = keep(&p, pr->client_address);
  r->helo = keep(&p, pr->helo_name);
  r->ptr = keep(&p, strcmp(pr->client_name, "unknown") || !*pr->
                reverse_client_name ? pr->client_name
                                    : pr->reverse_client_name);
  r->sender = keep(&p, pr->sender);
  r->rcpt = keep(&p, pr->recipient);
  r->st.classbits = classify(x->cl, pr->client_address, pr->client_name,
                             pr->reverse_client_name, pr->helo_name);
  return r;
}

static void hold(struct req *r)
{
  struct ctx *x = r->x;

  r->held = 1;
  x->held++;
  r->prev = x->last;
  if (x->last) x->last->next = r;
  else x->first = r;
  x->last = r;
  conn_hold(r->c);
}

/* An address policyd can look up: IPv4 or IPv6, nothing else. */
static int is_ip(const char *s)
{
  char ip[16];
  size_t n = strlen(s);

  return n && (scan_ip4(s, ip) == n || scan_ip6(s, ip) == n);
}

/* Why a request cannot be judged (NULL: it can).  Such a request is
 * answered DUNNO: Postfix goes on with its other restrictions, and the
 * line is a warning, not a decision, so reports count only real ones. */
static const char *unjudgeable(const struct policy_request *pr)
{
  if (!pr->attributes) return "empty";
  if (strcmp(pr->request, "smtpd_access_policy")) return "request_type";
  if (!*pr->protocol_state) return "no_protocol_state";
  if (!*pr->client_address) return "no_client_address";
  if (!is_ip(pr->client_address)) return "bad_client_address";
  return NULL;
}

static void log_bad(struct conn *c, const char *why,
                    const struct policy_request *pr)
{
  struct logline l;

  log_start(&l, "warning", "bad_request");
  log_uint(&l, "conn", conn_id(c));
  log_str(&l, "reason", why);
  if (pr && *pr->client_address)
    log_strn(&l, "client", pr->client_address,
             strnlen(pr->client_address, FIELD_MAX));
  log_end(&l);
}

static long dunno(struct conn *c, long used)
{
  static const char d[] = "action=DUNNO\n\n";

  conn_write(c, d, sizeof d - 1);
  return used;
}

/* The rules judge the client and its HELO, which smtpd has in full at
 * RCPT (where policyd is wired).  At DATA or END-OF-MESSAGE the same
 * client was judged already at each RCPT: judging again would only
 * count it twice.  Other stages (CONNECT, HELO, MAIL, VRFY, ETRN) lack
 * the HELO or come before the envelope: DUNNO, logged. */
static int skip_stage(struct ctx *x, struct conn *c,
                      const struct policy_request *pr)
{
  struct logline l;

  if (!strcmp(pr->protocol_state, "RCPT")) return 0;
  x->skipped++;
  log_start(&l, "info", "skipped");
  log_uint(&l, "conn", conn_id(c));
  log_strn(&l, "state", pr->protocol_state,
           strnlen(pr->protocol_state, FIELD_MAX));
  log_strn(&l, "client", pr->client_address,
           strnlen(pr->client_address, FIELD_MAX));
  log_end(&l);
  return 1;
}

static long on_request(struct conn *c, char *buf, size_t len)
{
  struct ctx *x = server_ctx(conn_server(c));
  struct policy_request pr;
  long used = policy_parse(buf, len, &pr);
  const char *why;
  struct req *r;

  if (used == 0) return 0;
  if (used < 0) {
    x->bad++;
    log_bad(c, "malformed", NULL);
    return -1;
  }
  if ((why = unjudgeable(&pr))) {
    x->bad++;
    log_bad(c, why, &pr);
    return dunno(c, used);
  }
  if (skip_stage(x, c, &pr)) return dunno(c, used);
  x->requests++;
  r = req_new(x, c, &pr);
  if (!r) {
    /* no memory: an honest temporary answer, never a reject */
    static const char tf[] = "action=DEFER_IF_PERMIT 4.3.0 policyd "
                             "out of memory\n\n";
    warn_sys("allocate", "request");
    conn_write(c, tf, sizeof tf - 1);
    return used;
  }
  ask_lists(r, rules_needed(r->rs, r->st.classbits));
  if (!try_decide(r, 0)) hold(r);
  return used;
}

/* A request over max_request bytes: the connection is closed (by the
 * server skeleton), counted and logged like a malformed one. */
static void on_overflow(struct conn *c)
{
  struct ctx *x = server_ctx(conn_server(c));

  x->bad++;
  log_bad(c, "too_long", NULL);
}

static int next_timeout(void *ctx)
{
  struct ctx *x = ctx;
  int ms = dns_next_timeout(x->dns);

  if (x->first) {
    unsigned long long now = now_usec(), d = x->first->deadline;
    int own = d <= now ? 0 : (int)((d - now + 999) / 1000);

    if (ms < 0 || own < ms) ms = own;
  }
  return ms;
}

static void expire(void *ctx)
{
  struct ctx *x = ctx;
  unsigned long long now;

  dns_expire(x->dns);
  now = now_usec();
  while (x->first && x->first->deadline <= now) {
    x->expired++;
    try_decide(x->first, 1);
  }
}

/* --- rules file, reloads, stats --- */

static void log_rules(const struct ctx *x, const char *event)
{
  struct logline l;

  log_start(&l, "info", event);
  log_str(&l, "file", x->rules_path);
  log_uint(&l, "rules", x->rs->nrules);
  log_uint(&l, "lists", x->rs->nlists);
  log_end(&l);
}

static void reload_rules(struct ctx *x)
{
  char why[256];
  unsigned long line;
  struct ruleset *rs;
  struct stat st;

  if (stat(x->rules_path, &st) == 0) x->rules_st = st;
  rs = rules_load(x->rules_path, &line, why, sizeof why);
  if (!rs) {
    struct logline l;

    /* the rules in force stay: a typo must not open the gate */
    log_start(&l, "warning", "rules");
    log_str(&l, "file", x->rules_path);
    log_uint(&l, "line", line);
    log_str(&l, "error", why);
    log_str(&l, "kept", "old");
    log_end(&l);
    return;
  }
  if (rs_attach(x, rs) < 0) {
    struct logline l;

    log_start(&l, "warning", "rules");
    log_str(&l, "file", x->rules_path);
    log_uint(&l, "line", 0);
    log_str(&l, "error", "out of memory");
    log_str(&l, "kept", "old");
    log_end(&l);
    rules_unref(rs);
    return;
  }
  rs_drop(x, x->rs);
  x->rs = rs;
  log_rules(x, "rules_loaded");
}

static void reload_patterns(struct ctx *x)
{
  struct classifier *cl;
  unsigned long line = 0;
  const char *why = "";

  if (!x->patterns) return;
  cl = classifier_new();
  if (!cl || classifier_load(cl, x->patterns, &line, &why) < 0) {
    struct logline l;

    log_start(&l, "warning", "patterns");
    log_str(&l, "file", x->patterns);
    log_uint(&l, "line", line);
    log_str(&l, "error", cl ? why : "out of memory");
    log_str(&l, "kept", "old");
    log_end(&l);
    classifier_free(cl);
    return;
  }
  classifier_free(x->cl);
  x->cl = cl;
}

static void on_reload(void *ctx)
{
  reload_rules(ctx);
  reload_patterns(ctx);
}

static int changed(const struct stat *a, const struct stat *b)
{
  return a->st_ino != b->st_ino || a->st_dev != b->st_dev
         || a->st_size != b->st_size
         || a->st_mtim.tv_sec != b->st_mtim.tv_sec
         || a->st_mtim.tv_nsec != b->st_mtim.tv_nsec;
}

static void log_stats(struct ctx *x)
{
  struct dns_stats ds;
  struct logline l;

  dns_stats(x->dns, &ds);
  log_start(&l, "info", "stats");
  log_uint(&l, "requests", x->requests);
  log_uint(&l, "rejects", x->rejects);
  log_uint(&l, "defers", x->defers);
  log_uint(&l, "held", x->held);
  log_uint(&l, "deadline", x->expired);
  log_uint(&l, "bad", x->bad);
  log_uint(&l, "skipped", x->skipped);
  log_uint(&l, "queries", ds.queries);
  log_uint(&l, "cache_hits", ds.hits);
  log_uint(&l, "cache_entries", ds.entries);
  log_uint(&l, "conns", server_conns(x->srv));
  log_end(&l);
}

static void tick(void *ctx)
{
  struct ctx *x = ctx;
  struct stat st;
  unsigned long long now = now_usec();

  /* a changed rules file is taken like a SIGHUP (same checks, same
   * refusal to load a broken one) */
  if (stat(x->rules_path, &st) == 0 && changed(&st, &x->rules_st))
    reload_rules(x);
  dns_tick(x->dns);
  if (x->stats_every && now - x->last_stats >= x->stats_every) {
    x->last_stats = now;
    log_stats(x);
  }
}

/* --- start --- */

static void need(const struct setting *s)
{
  if (!s->str) die_msg(EXIT_PERM, "setting missing:", s->name);
}

static void load_start(struct ctx *x)
{
  char why[256], msg[1400];
  unsigned long line;

  if (stat(x->rules_path, &x->rules_st) < 0)
    die_sys(EXIT_PERM, "stat rules file", x->rules_path);
  x->rs = rules_load(x->rules_path, &line, why, sizeof why);
  if (!x->rs) {
    snprintf(msg, sizeof msg, "%s:%lu: %s", x->rules_path, line, why);
    die_msg(EXIT_PERM, "bad rules file:", msg);
  }
  if (rs_attach(x, x->rs) < 0) die_sys(EXIT_TEMP, "allocate", "rules");
  x->cl = classifier_new();
  if (!x->cl) die_sys(EXIT_TEMP, "allocate", "classifier");
  if (x->patterns) {
    const char *w = "";

    line = 0;
    if (classifier_load(x->cl, x->patterns, &line, &w) < 0) {
      snprintf(msg, sizeof msg, "%s:%lu: %s", x->patterns, line, w);
      die_msg(EXIT_PERM, "bad patterns file:", msg);
    }
  }
}

static const struct server_ops ops = {
  .max_request = 16384,
  .max_output = 65536,
  .read_timeout = 60,
  .request = on_request,
  .overflow = on_overflow,
  .reload = on_reload,
  .tick = tick,
  .next_timeout = next_timeout,
  .expire = expire,
};

int main(void)
{
  static struct ctx x;
  struct server_ops o = ops;
  struct dns_config dc;
  unsigned deadline;
  unsigned long long margin;
  int rc;

  log_init("policyd");
  settings_load(settings, S_COUNT);
  need(&settings[S_LISTEN]);
  need(&settings[S_RULES]);
  need(&settings[S_DNS]);
  /* The policy protocol has no authentication: anybody who reaches an
   * inet listener could probe the rules and the lists.  TCP on loopback
   * only; a unix socket's mode says who may talk. */
  server_need_local("LISTEN", settings[S_LISTEN].str);
  x.rules_path = settings[S_RULES].str;
  x.patterns = settings[S_PATTERNS].str;
  load_start(&x);
  deadline = (unsigned)settings[S_DEADLINE].num;
  /* answer a little before DEADLINE: the loop wakes to the millisecond,
   * and the reply still has to reach smtpd through a busy machine */
  margin = deadline * 50ULL;                 /* 5 % */
  if (margin < 2000) margin = 2000;
  x.deadline_us = deadline * 1000ULL - margin;
  x.fail_defer = (int)settings[S_DNS_FAIL_DEFER].num;
  x.stats_every = settings[S_STATS_INTERVAL].num * 1000000ULL;
  x.bc.failures = (unsigned)settings[S_DOWN_FAILURES].num;
  x.bc.window = settings[S_DOWN_WINDOW].num * 1000000ULL;
  x.bc.backoff = settings[S_DOWN_BACKOFF].num * 1000000ULL;
  x.bc.max = settings[S_DOWN_BACKOFF_MAX].num * 1000000ULL;
  o.max_conns = (unsigned)settings[S_MAX_CONNS].num;
  o.idle_timeout = (unsigned)settings[S_IDLE_TIMEOUT].num;
  x.srv = server_new(&o, &x);
  /* two tries, the second twice as long (c-ares doubles it): the retry
   * outlives DEADLINE, and an answer that comes after the request was
   * answered still fills the cache for the next one */
  dc.servers = settings[S_DNS].str;
  dc.timeout_ms = deadline / 2;
  dc.tries = 2;
  dc.cache_size = (unsigned)settings[S_CACHE_SIZE].num;
  dc.max_ttl = (unsigned)settings[S_CACHE_MAX_TTL].num;
  dc.neg_ttl = (unsigned)settings[S_CACHE_NEG_TTL].num;
  dc.observe = observe;
  dc.observe_arg = &x;
  x.dns = dns_new(x.srv, &dc);
  server_listen_list(x.srv, settings[S_LISTEN].str,
                     (unsigned)settings[S_SOCKET_MODE].num);
  x.last_stats = now_usec();
  log_rules(&x, "start");
  /* a line per request: the lines of one turn of the loop go out in
   * one write, before the loop waits (lib/log.h) */
  log_batch(1);
  rc = server_run(x.srv);
  log_stats(&x);
  rs_drop(&x, x.rs);
  dns_free(x.dns);
  classifier_free(x.cl);
  return rc;
}
