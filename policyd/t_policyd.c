/* t_policyd.c - unit tests: the rules grammar, the rule engine against a
 * table of requests, answer codes, query names and DNS reply parsing. */
#include <stdlib.h>
#include "breaker.h"
#include "classify.h"
#include "dns.h"
#include "rules.h"
#include "test.h"

#define P CL_PTRNUL
#define PA CL_PTR_ACCNET
#define HI CL_HELO_IP
#define HN CL_HELO_NOTFQDN
#define HA CL_HELO_ACCNET

static struct ruleset *parse(const char *text, unsigned long *line,
                             char *why, size_t room)
{
  return rules_parse(text, strlen(text), line, why, room);
}

/* --- the grammar: every error names its line --- */

static void test_errors(void)
{
  static const struct { const char *text; unsigned long line;
                        const char *why; } cases[] = {
    { "PTRNUL HELO_IP\n", 1, "rule without an action" },
    { "reject\n", 1, "rule without conditions" },
    { "# c\n\nPTRNUL BOGUS reject\n", 3, "unknown condition: BOGUS" },
    { "RBL reject\n", 1, "condition needs a dnsbl declared above: RBL" },
    { "dnsbl a a.test\nMAIN reject\n", 2,
      "MAIN needs a dnsbl marked main declared above" },
    { "dnsbl a a.test\ndnsbl a b.test\n", 2, "list declared twice: a" },
    { "dnsbl RBL a.test\n", 1, "bad list name: RBL" },
    { "dnsbl x a..test\n", 1, "bad zone: a..test" },
    { "dnsbl x a.test listed=127.0.0.300\n", 1,
      "bad answer specification: 127.0.0.300" },
    { "dnsbl x a.test listed=10.0.0.2\n", 1,
      "answer outside 127.0.0.0/8 can never count: 10.0.0.2" },
    { "dnsbl x a.test listed=127.0.0.1/24\n", 1,
      "bad answer specification: 127.0.0.1/24" },
    { "dnsbl x a.test listed=127.0.0.9-127.0.0.2\n", 1,
      "bad answer specification: 127.0.0.9-127.0.0.2" },
    { "dnsbl x a.test strange\n", 1, "unknown list option: strange" },
    { "dnsbl x\n", 1, "want: dnsbl|dnswl NAME ZONE [options]" },
    { "PTRNUL ok fine\n", 1, "dunno and ok take no text: fine" },
    { "PTRNUL defer 550 no\n", 1,
      "defer text must not start with a 5xx code: 550 no" },
    { "PTRNUL reject 450 no\n", 1,
      "reject text must not start with a 4xx code: 450 no" },
    { "wl dunno\n", 1, "unknown condition: wl" },
  };
  char why[256], name[96];
  unsigned long line;
  size_t i;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *t = cases[i].text;
    size_t len = strlen(t);
    struct ruleset *rs;

    rs = rules_parse(t, len, &line, why, sizeof why);
    snprintf(name, sizeof name, "parse error %zu refused", i);
    test_ok(rs == NULL, name);
    rules_unref(rs);
    snprintf(name, sizeof name, "parse error %zu line", i);
    test_num((long long)line, (long long)cases[i].line, name);
    snprintf(name, sizeof name, "parse error %zu why", i);
    test_str(why, cases[i].why, name);
  }
  {
    static const char nul[] = "PTRNUL reject\nx\0y reject\n";
    struct ruleset *rs = rules_parse(nul, sizeof nul - 1, &line, why,
                                     sizeof why);

    test_ok(!rs && line == 2 && !strcmp(why, "NUL byte"),
            "NUL byte refused with its line");
  }
}

static const char *rules_text =
  "# lists\n"
  "dnsbl zen zen.test main listed=127.0.0.2-127.0.0.11\n"
  "dnsbl cop bl.cop.test\n"
  "dnsbl bar bar.test listed=&0.0.0.4,127.0.1.0/24\n"
  "dnswl wl wl.test\n"
  "wl dunno\n"
  "PTRNUL HELO_IP reject\n"
  "PTRNUL HELO_ACCNET reject\n"
  "PTRNUL   HELO_NOTFQDN    reject   5.7.1  go away  \n"
  "PTR_ACCNET HELO_IP reject\n"
  "PTR_ACCNET HELO_NOTFQDN reject\n"
  "PTR_ACCNET HELO_ACCNET reject\n"
  "RBL PTRNUL reject\n"
  "RBL PTR_ACCNET reject\n"
  "RBL HELO_IP reject\n"
  "RBL HELO_ACCNET reject\n"
  "RBL HELO_NOTFQDN reject\n"
  "RBL MULTIPLE MAIN reject\n"
  "RBL MULTIPLE defer\n"
  "cop !MAIN warn listed on spamcop only\n";

static void test_parse_good(void)
{
  char why[256];
  unsigned long line;
  struct ruleset *rs = parse(rules_text, &line, why, sizeof why);

  if (!test_ok(rs != NULL, "sample rules parse")) {
    printf("#   line %lu: %s\n", line, why);
    return;
  }
  test_num(rs->nlists, 4, "four lists");
  test_num(rs->nrules, 15, "fifteen rules");
  test_num(rs->block_mask, 7, "three block lists");
  test_num(rs->main_mask, 1, "one main list");
  test_str(rs->rules[3].name, "PTRNUL HELO_NOTFQDN", "name as written");
  test_str(rs->rules[3].text, "5.7.1  go away", "text kept, ends trimmed");
  test_str(rs->rules[14].name, "cop !MAIN", "negation kept in the name");
  test_num(rs->lists[2].nspans, 2, "two answer specs");
  test_num(rs->lists[2].spans[1].hi, 0x7f0001ffLL, "cidr upper end");
  rules_unref(rs);
}

/* --- the engine: a table of requests --- */

enum { U = L_UNKNOWN, Y = L_LISTED, N = L_CLEAR, F = L_FAILED };

struct evalcase {
  const char *what;
  unsigned bits;
  unsigned char zen, cop, bar, wl;
  int defer;                 /* DNS_FAIL_DEFER */
  int how;
  const char *rule;          /* NULL: none */
  uint32_t need;             /* rules_needed() for these bits */
};

static const struct evalcase evalcases[] = {
  { "clean client, nothing listed", 0, N, N, N, N, 0, EVAL_NOMATCH, NULL,
    15 },
  { "clean client waits for the allow-list", 0, N, N, N, U, 0, EVAL_WAIT,
    "wl", 15 },
  { "allow-list passes a client", P | HI, Y, Y, Y, Y, 0, EVAL_MATCH, "wl",
    8 },
  { "PTRNUL HELO_IP", P | HI, U, U, U, N, 0, EVAL_MATCH, "PTRNUL HELO_IP",
    8 },
  { "PTRNUL HELO_ACCNET", P | HA, U, U, U, N, 0, EVAL_MATCH,
    "PTRNUL HELO_ACCNET", 8 },
  { "PTRNUL HELO_NOTFQDN", P | HN, U, U, U, N, 0, EVAL_MATCH,
    "PTRNUL HELO_NOTFQDN", 8 },
  { "PTR_ACCNET HELO_IP", PA | HI, U, U, U, N, 0, EVAL_MATCH,
    "PTR_ACCNET HELO_IP", 8 },
  { "PTR_ACCNET HELO_NOTFQDN", PA | HN, U, U, U, N, 0, EVAL_MATCH,
    "PTR_ACCNET HELO_NOTFQDN", 8 },
  { "PTR_ACCNET HELO_ACCNET", PA | HA, U, U, U, N, 0, EVAL_MATCH,
    "PTR_ACCNET HELO_ACCNET", 8 },
  { "RBL PTRNUL", P, N, Y, N, N, 0, EVAL_MATCH, "RBL PTRNUL", 15 },
  { "RBL PTRNUL decided on the first hit", P, U, Y, U, N, 0, EVAL_MATCH,
    "RBL PTRNUL", 15 },
  { "RBL PTR_ACCNET", PA, N, N, Y, N, 0, EVAL_MATCH, "RBL PTR_ACCNET", 15 },
  { "RBL HELO_IP", HI, Y, N, N, N, 0, EVAL_MATCH, "RBL HELO_IP", 15 },
  { "RBL HELO_ACCNET", HA, Y, N, N, N, 0, EVAL_MATCH, "RBL HELO_ACCNET",
    15 },
  { "RBL HELO_NOTFQDN", HN, Y, N, N, N, 0, EVAL_MATCH, "RBL HELO_NOTFQDN",
    15 },
  { "RBL MULTIPLE MAIN", 0, Y, Y, N, N, 0, EVAL_MATCH, "RBL MULTIPLE MAIN",
    15 },
  { "RBL MULTIPLE", 0, N, Y, Y, N, 0, EVAL_MATCH, "RBL MULTIPLE", 15 },
  { "one hit, others pending: wait", 0, N, Y, U, N, 0, EVAL_WAIT,
    "RBL MULTIPLE", 15 },
  { "main alone is no rule", 0, Y, N, N, N, 0, EVAL_NOMATCH, NULL, 15 },
  { "spamcop only: warn", 0, N, Y, N, N, 0, EVAL_MATCH, "cop !MAIN", 15 },
  { "timeout: lists false, no reject", P, F, F, F, N, 0, EVAL_NOMATCH,
    NULL, 15 },
  { "timeout of the allow-list alone", P | HI, U, U, U, F, 0, EVAL_MATCH,
    "PTRNUL HELO_IP", 8 },
  { "timeout: defer when asked to", P, F, F, F, N, 1, EVAL_DNSFAIL,
    "RBL PTRNUL", 15 },
  { "a hit beats a failure", P, F, Y, F, N, 1, EVAL_MATCH, "RBL PTRNUL",
    15 },
  { "one hit, one failure: MULTIPLE false", 0, N, Y, F, N, 0, EVAL_MATCH,
    "cop !MAIN", 15 },
  { "failed MAIN: negation false too", 0, F, Y, N, N, 0, EVAL_NOMATCH,
    NULL, 15 },
};

static struct evalstate state_of(const struct evalcase *c)
{
  struct evalstate st;

  memset(&st, 0, sizeof st);
  st.classbits = c->bits;
  st.list[0] = c->zen;
  st.list[1] = c->cop;
  st.list[2] = c->bar;
  st.list[3] = c->wl;
  return st;
}

static void test_eval(void)
{
  char why[256], name[160];
  unsigned long line;
  struct ruleset *rs = parse(rules_text, &line, why, sizeof why);
  size_t i;

  if (!rs) return;
  for (i = 0; i < sizeof evalcases / sizeof evalcases[0]; i++) {
    const struct evalcase *c = &evalcases[i];
    struct evalstate st = state_of(c);
    unsigned ri = 99;
    int how = rules_eval(rs, &st, c->defer, &ri);

    snprintf(name, sizeof name, "eval %s: outcome", c->what);
    test_num(how, c->how, name);
    snprintf(name, sizeof name, "eval %s: rule", c->what);
    test_str(how == EVAL_NOMATCH ? NULL : rs->rules[ri].name, c->rule, name);
    snprintf(name, sizeof name, "eval %s: lists asked", c->what);
    test_num(rules_needed(rs, c->bits), c->need, name);
  }
  rules_unref(rs);
}

static void test_conds(void)
{
  char why[256], out[256];
  unsigned long line;
  struct ruleset *rs = parse(rules_text, &line, why, sizeof why);
  struct evalcase c = { "", P | HI, Y, Y, N, N, 0, 0, NULL, 0 };
  struct evalstate st = state_of(&c);

  if (!rs) return;
  rules_conds(rs, &st, out, sizeof out);
  test_str(out, "PTRNUL,HELO_IP,RBL,MULTIPLE,MAIN,zen,cop", "conds held");
  rules_unref(rs);
}

/* --- which answers count --- */

static void test_answers(void)
{
  static const struct { uint32_t a; int zen, cop, bar; const char *bad; }
  cases[] = {
    { 0x7f000002, 1, 1, 0, NULL },
    { 0x7f00000b, 1, 1, 0, NULL },
    { 0x7f00000c, 0, 1, 1, NULL },        /* bar: bit 4 */
    { 0x7f000004, 1, 1, 1, NULL },
    { 0x7f0001fe, 0, 1, 1, NULL },        /* bar: 127.0.1.0/24 */
    { 0x7f000001, 0, 0, 0, "loopback_host" },
    { 0x7fffff01, 0, 0, 0, "error_code" },
    { 0x7fffff0a, 0, 0, 0, "error_code" },
    { 0x0a000002, 0, 0, 0, "not_loopback" },
    { 0xc0000204, 0, 0, 0, "not_loopback" },
  };
  char why[256], name[96];
  unsigned long line;
  struct ruleset *rs = parse(rules_text, &line, why, sizeof why);
  size_t i;

  if (!rs) return;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    snprintf(name, sizeof name, "answer %08x counts", cases[i].a);
    test_num(dnslist_counts(&rs->lists[0], cases[i].a) * 100
             + dnslist_counts(&rs->lists[1], cases[i].a) * 10
             + dnslist_counts(&rs->lists[2], cases[i].a),
             cases[i].zen * 100 + cases[i].cop * 10 + cases[i].bar, name);
    snprintf(name, sizeof name, "answer %08x invalid", cases[i].a);
    test_str(answer_invalid(cases[i].a), cases[i].bad, name);
  }
  rules_unref(rs);
}

/* --- query names --- */

static void test_qname(void)
{
  static const struct { const char *addr, *want; } cases[] = {
    { "192.0.2.1", "1.2.0.192.zen.test" },
    { "203.0.113.77", "77.113.0.203.zen.test" },
    { "2001:db8::1",
      "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"
      ".zen.test" },
    { "::ffff:192.0.2.9", "9.2.0.192.zen.test" },
    { "unknown", "" },
    { "192.0.2.1x", "" },
    { "", "" },
  };
  char out[DNS_NAME_MAX], name[96];
  size_t i;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t n = dns_qname(cases[i].addr, "zen.test", out, sizeof out);

    if (!n) out[0] = 0;
    snprintf(name, sizeof name, "qname of %s", cases[i].addr);
    test_str(out, cases[i].want, name);
  }
  test_num(dns_qname("2001:db8::1", "zen.test", out, 60), 0,
           "qname: too small a buffer");
}

/* --- the DNS setting --- */

static void test_servers(void)
{
  static const struct { const char *csv, *bad; } cases[] = {
    { "system", NULL },
    { "127.0.0.1", NULL },
    { "127.0.0.1:53", NULL },
    { "127.0.0.1:1,127.0.0.2:65535", NULL },
    { "[::1]:5353", NULL },
    { "[::1]", NULL },
    { "::1", NULL },
    { "2001:db8::53,127.0.0.1:53", NULL },
    { "127.0.0.1:99999", "127.0.0.1:99999" },
    { "127.0.0.1:65536", "127.0.0.1:65536" },
    { "127.0.0.1:0", "127.0.0.1:0" },
    { "127.0.0.1:", "127.0.0.1:" },
    { "127.0.0.1:053x", "127.0.0.1:053x" },
    { "127.0.0.1:-1", "127.0.0.1:-1" },
    { "127.0.0.1:5300000", "127.0.0.1:5300000" },
    { "127.0.0.1:53,127.0.0.1:99999", "127.0.0.1:99999" },
    { "127.0.0.256:53", "127.0.0.256:53" },
    { "127.0.0:53", "127.0.0:53" },
    { "127.0.0.1.5:53", "127.0.0.1.5:53" },
    { "localhost:53", "localhost:53" },
    { "[::1]:0", "[::1]:0" },
    { "[::1]:70000", "[::1]:70000" },
    { "[::1", "[::1" },
    { "[]:53", "[]:53" },
    { "[127.0.0.1]:53", "[127.0.0.1]:53" },
    { "[::1]x", "[::1]x" },
    { "::1:53:zz", "::1:53:zz" },
    { "", "" },
    { "127.0.0.1:53,", "" },
    { ",127.0.0.1:53", "" },
    { "127.0.0.1 53", "127.0.0.1 53" },
    { "system,127.0.0.1", "system" },
  };
  char name[96], got[96];
  size_t i, len;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *bad = dns_servers_bad(cases[i].csv, &len);

    snprintf(name, sizeof name, "DNS=%s", cases[i].csv);
    if (bad) snprintf(got, sizeof got, "%.*s", (int)len, bad);
    test_str(bad ? got : "(good)", cases[i].bad ? cases[i].bad
                                                  : "(good)", name);
  }
}

/* --- replies --- */

static size_t put(unsigned char *b, size_t n, const void *p, size_t len)
{
  memcpy(b + n, p, len);
  return n + len;
}

/* header + question "2.0.0.127.t" A IN */
static size_t reply_head(unsigned char *b, unsigned flags2, unsigned rcode,
                         unsigned an, unsigned ns)
{
  static const unsigned char q[] = "\0012\0010\0010\003127\001t\0\0\001\0\001";
  unsigned char h[12] = { 0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0 };

  h[2] |= (unsigned char)flags2;
  h[3] = (unsigned char)(0x80 | rcode);
  h[7] = (unsigned char)an;
  h[9] = (unsigned char)ns;
  put(b, 0, h, 12);
  return put(b, 12, q, sizeof q - 1);
}

static size_t rr_a(unsigned char *b, size_t n, unsigned ttl, unsigned last)
{
  unsigned char rr[] = { 0xc0, 12, 0, 1, 0, 1, (unsigned char)(ttl >> 24),
                         (unsigned char)(ttl >> 16), (unsigned char)(ttl >> 8),
                         (unsigned char)ttl, 0, 4, 127, 0, 0,
                         (unsigned char)last };

  return put(b, n, rr, sizeof rr);
}

static size_t rr_soa(unsigned char *b, size_t n, unsigned ttl, unsigned min)
{
  unsigned char rr[] = { 0xc0, 22, 0, 6, 0, 1, 0, 0, (unsigned char)(ttl >> 8),
                         (unsigned char)ttl, 0, 24, 0xc0, 22, 0xc0, 22,
                         0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4,
                         0, 0, (unsigned char)(min >> 8), (unsigned char)min };

  return put(b, n, rr, sizeof rr);
}

static void test_replies(void)
{
  unsigned char b[512];
  struct dns_reply r;
  size_t n;

  n = reply_head(b, 0, 0, 2, 0);
  n = rr_a(b, n, 900, 2);
  n = rr_a(b, n, 300, 4);
  test_num(dns_parse_reply(b, n, 77, &r), 0, "reply with two A parses");
  test_num(r.naddr, 2, "two addresses");
  test_num(r.addr[1], 0x7f000004, "second address");
  test_num((long long)r.ttl, 300, "least TTL");
  n = reply_head(b, 0, 3, 0, 1);
  n = rr_soa(b, n, 600, 120);
  test_num(dns_parse_reply(b, n, 77, &r), 0, "NXDOMAIN with SOA parses");
  test_num(r.rcode, 3, "rcode 3");
  test_num((long long)r.ttl, 120, "negative TTL: SOA minimum");
  n = reply_head(b, 0, 3, 0, 1);
  n = rr_soa(b, n, 60, 120);
  dns_parse_reply(b, n, 77, &r);
  test_num((long long)r.ttl, 60, "negative TTL: SOA's own TTL if less");
  n = reply_head(b, 0, 3, 0, 0);
  dns_parse_reply(b, n, 77, &r);
  test_num((long long)r.ttl, 77, "negative TTL without SOA: the setting");
  n = reply_head(b, 0x02, 0, 0, 0);
  dns_parse_reply(b, n, 77, &r);
  test_num(r.tc, 1, "TC bit seen");
  n = reply_head(b, 0, 0, 1, 0);
  n = rr_a(b, n, 900, 2);
  test_num(dns_parse_reply(b, n - 1, 77, &r), -1, "cut record refused");
  test_num(dns_parse_reply(b, 11, 77, &r), -1, "short header refused");
  b[12] = 0x80;
  test_num(dns_parse_reply(b, n, 77, &r), -1, "bad label type refused");
}

/* --- hostile input: mutated replies and rules, bounded, seeded --- */

static unsigned long long rng = 88172645463325252ULL;

static unsigned rnd(unsigned n)
{
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (unsigned)(rng % n);
}

static void test_fuzz_replies(void)
{
  unsigned char base[512], b[512];
  size_t n, len;
  struct dns_reply r;
  unsigned i, k, bad = 0, ok = 0;

  n = reply_head(base, 0, 0, 3, 1);
  n = rr_a(base, n, 900, 2);
  n = rr_a(base, n, 300, 4);
  n = rr_a(base, n, 60, 9);
  n = rr_soa(base, n, 600, 120);
  for (i = 0; i < 20000; i++) {
    memcpy(b, base, n);
    len = n;
    for (k = rnd(6) + 1; k; k--) b[rnd((unsigned)n)] = (unsigned char)rnd(256);
    if (rnd(4) == 0) len = rnd((unsigned)n + 1);
    k = (unsigned)dns_parse_reply(b, len, 77, &r) == 0;
    if (r.naddr > DNS_MAX_ADDRS) bad++;
    ok += k;
  }
  test_num(bad, 0, "fuzz: 20000 mutated replies, never too many addresses");
  test_ok(ok > 0 && ok < 20000, "fuzz: some parse, some are refused");
}

/* --- the circuit breaker: a script of events, clock in seconds --- */

static void test_breaker(void)
{
  /* ev: 'o' ok answer, 't' timeout, 's' servfail, 'p' probe due?,
   * 'P' probe ok, 'F' probe failed; want: the call's result, and the
   * state after (down, back-off seconds) */
  static const struct { unsigned at; char ev; int ret, down;
                        unsigned backoff; const char *what; } steps[] = {
    { 0, 't', 0, 0, 0, "1st timeout: up" },
    { 1, 'o', 0, 0, 0, "an answer resets the run" },
    { 2, 't', 0, 0, 0, "run 1" },
    { 3, 's', 0, 0, 0, "run 2 (servfail counts too)" },
    { 100, 't', 0, 0, 0, "outside the window: a new run" },
    { 101, 't', 0, 0, 0, "run 2" },
    { 102, 't', 1, 1, 10, "run 3: down, first back-off" },
    { 103, 'o', 0, 1, 10, "down: a straggler answer changes nothing" },
    { 105, 'p', 0, 1, 10, "no probe before the back-off" },
    { 112, 'p', 1, 1, 10, "probe due after it" },
    { 112, 'p', 0, 1, 10, "one probe at a time" },
    { 113, 'F', 0, 1, 20, "failed probe doubles it" },
    { 120, 'p', 0, 1, 20, "not due yet" },
    { 133, 'p', 1, 1, 20, "due" },
    { 134, 'F', 0, 1, 40, "40" },
    { 174, 'p', 1, 1, 40, "due" },
    { 175, 'F', 0, 1, 60, "capped at the maximum" },
    { 235, 'p', 1, 1, 60, "due" },
    { 236, 'F', 0, 1, 60, "stays capped" },
    { 296, 'p', 1, 1, 60, "due" },
    { 297, 'P', 1, 0, 60, "probe answered: up" },
    { 298, 't', 0, 0, 60, "a new run starts from zero" },
    { 299, 't', 0, 0, 60, "run 2" },
    { 300, 't', 1, 1, 10, "down again: back-off starts over" },
  };
  static struct { struct breaker b; char zone[8]; } mem;
  struct breaker *b = &mem.b;
  struct breaker_config c = { 3, 30000000ULL, 10000000ULL, 60000000ULL };
  struct breaker_config off = { 0, 30000000ULL, 10000000ULL, 60000000ULL };
  unsigned i;

  for (i = 0; i < sizeof steps / sizeof steps[0]; i++) {
    unsigned long long now = steps[i].at * 1000000ULL;
    int ret = 0;

    switch (steps[i].ev) {
    case 'o': ret = breaker_note(b, &c, DNS_OK, now); break;
    case 't': ret = breaker_note(b, &c, DNS_TIMEOUT, now); break;
    case 's': ret = breaker_note(b, &c, DNS_SERVFAIL, now); break;
    case 'p': ret = breaker_probe_due(b, now); break;
    case 'P': ret = breaker_probed(b, &c, DNS_OK, now); break;
    case 'F': ret = breaker_probed(b, &c, DNS_TIMEOUT, now); break;
    }
    test_num(ret, steps[i].ret, steps[i].what);
    test_num(b->down, steps[i].down, steps[i].what);
    if (b->down || steps[i].ev == 'P')
      test_num((long long)(b->backoff / 1000000ULL), steps[i].backoff,
               steps[i].what);
  }
  test_num(b->last, DNS_TIMEOUT, "the last failure kept");
  memset(&mem, 0, sizeof mem);
  for (i = 0; i < 100; i++) breaker_note(b, &off, DNS_TIMEOUT, i);
  test_num(b->down, 0, "DNS_DOWN_FAILURES=0: never down");
  c.backoff = 90000000ULL;
  for (i = 0; i < 3; i++) breaker_note(b, &c, DNS_TRUNCATED, i);
  test_num((long long)b->backoff, 60000000LL,
           "a first back-off above the maximum is capped");
}

static void test_fuzz_rules(void)
{
  static const char *const words[] = {
    "dnsbl", "dnswl", "a", "b", "a.test", "b.test", "main", "listed=",
    "listed=127.0.0.2", "listed=&4", "listed=127.0.0.0/24,127.0.1.1",
    "PTRNUL", "!PTRNUL", "HELO_IP", "RBL", "!RBL", "MULTIPLE", "MAIN",
    "reject", "defer", "ok", "dunno", "warn", "5.7.1", "#", "\t", "x\xff",
    "listed=127.0.0.9-127.0.0.2", "!", "a..b", "",
  };
  char text[2048], why[256];
  unsigned i, k, parsed = 0;
  unsigned long line;

  for (i = 0; i < 5000; i++) {
    size_t n = 0;
    struct ruleset *rs;

    for (k = rnd(40); k && n < sizeof text - 64; k--) {
      const char *w = words[rnd(sizeof words / sizeof words[0])];

      n += (size_t)snprintf(text + n, sizeof text - n, "%s%s", w,
                            rnd(4) ? " " : "\n");
    }
    rs = rules_parse(text, n, &line, why, sizeof why);
    if (rs) parsed++;
    else if (line == 0 && n) { test_ok(0, "fuzz: a refusal names a line"); }
    rules_unref(rs);
  }
  test_ok(parsed > 0 && parsed < 5000, "fuzz: 5000 rule soups, no crash");
}

int main(void)
{
  test_errors();
  test_parse_good();
  test_eval();
  test_conds();
  test_answers();
  test_qname();
  test_servers();
  test_replies();
  test_fuzz_replies();
  test_breaker();
  test_fuzz_rules();
  return test_done();
}
