/*
 * t_reportd - unit tests of reportd's parts, table-driven: time stamps,
 * key=value values, networks, the bounded counters, the classification
 * of each kind of line, and the reader under rotation, truncation,
 * partial and over-long lines.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parse.h"
#include "source.h"
#include "stamp.h"
#include "status.h"
#include "test.h"
#include "topn.h"

/* 2026-01-01 00:00:00 UTC */
#define NY 1767225600LL

static void t_tai64n(void)
{
  static const struct { const char *in; size_t took; long long t; } c[] = {
    { "@400000000000000a00000000 x", 25, 0 },
    { "@40000000695a3a8a0b2d3c1c greyd", 25, 0x695a3a80LL },
    { "@4000000065f1c2a80b2d3c1", 0, 0 },    /* one digit short */
    { "@4000000065f1c2a80b2d3cxy", 0, 0 },
    { "4000000065f1c2a80b2d3c1c0", 0, 0 },
    /* no time: nanoseconds past 999999999, a label reserved by TAI64 */
    { "@40000000695a3a803b9aca00 greyd", 0, 0 },
    { "@40000000695a3a803b9ac9ff greyd", 25, 0x695a3a80LL - 10 },
    { "@c0000000695a3a8a00000000 greyd", 0, 0 },
    { "@800000000000000000000000 greyd", 0, 0 },
  };
  unsigned i;

  for (i = 0; i < sizeof c / sizeof *c; i++) {
    long long t = -1;
    size_t k = stamp_tai64n(c[i].in, strlen(c[i].in), &t);
    char name[80];

    snprintf(name, sizeof name, "tai64n %u takes %zu", i, c[i].took);
    test_num((long long)k, (long long)c[i].took, name);
    if (k) {
      snprintf(name, sizeof name, "tai64n %u time", i);
      test_num(t, c[i].t, name);
    }
  }
}

static void t_syslog(void)
{
  static const struct {
    long long ref; const char *in; size_t took; long long t;
  } c[] = {
    /* read on New Year's morning: December is last year */
    { NY + 3600, "Dec 31 23:59:58 mx postfix/smtpd", 15, NY - 2 },
    { NY + 3600, "Jan  1 00:00:05 mx postfix/smtpd", 15, NY + 5 },
    { NY + 3600, "Jan 01 00:00:05 mx postfix/smtpd", 15, NY + 5 },
    /* a day of slack: clocks and mtimes are not exact */
    { NY + 3600, "Jan  2 00:30:00 mx x", 15, NY + 86400 + 1800 },
    { NY + 3600, "Jan  3 00:30:00 mx x", 15,
      NY - 365 * 86400 + 2 * 86400 + 1800 },
    { NY + 3600, "Jan  1 00:00:05.123456 mx x", 22, NY + 5 },
    /* dates no calendar has are no stamps (Feb 30 was taken as Mar 2) */
    { NY, "Feb 30 00:00:00 x y", 0, 0 },
    { NY, "Feb 31 00:00:00 x y", 0, 0 },
    { NY, "Apr 31 00:00:00 x y", 0, 0 },
    { NY, "Jun 31 00:00:00 x y", 0, 0 },
    { NY, "Sep 31 00:00:00 x y", 0, 0 },
    { NY, "Nov 31 00:00:00 x y", 0, 0 },
    { NY, "Jan 32 00:00:00 x y", 0, 0 },
    { NY, "Dec  0 00:00:00 x y", 0, 0 },
    { NY, "Dec 31 00:00:00 x y", 15, NY - 86400 },
    /* Feb 29: read in 2026, 2025 is no leap year; 2024 and 2028 are */
    { NY, "Feb 29 12:00:00 x y", 0, 0 },
    { NY + 200 * 86400, "Feb 29 12:00:00 x y", 0, 0 },
    { 1709208000LL + 86400, "Feb 29 12:00:00 x y", 15, 1709208000LL },
    { NY + 365 * 86400 + 40 * 86400, "Feb 29 00:00:00 x y", 0, 0 },
    { 1835395200LL + 7 * 86400, "Feb 29 00:00:00 x y", 15, 1835395200LL },
    /* read in January 2025: Feb 29 is 2024's */
    { NY - 350 * 86400, "Feb 29 12:00:00 x y", 15, 1709208000LL },
    { NY, "Foo  1 00:00:00 x y", 0, 0 },
    { NY, "Jan  1 24:00:00 x y", 0, 0 },
    { NY, "Jan  1 23:60:00 x y", 0, 0 },
    { NY, "Jan  1 23:59:61 x y", 0, 0 },
    { NY, "Jan  1 23:59:60 x y", 15, NY + 86400 },   /* a leap second */
    { NY, "Jan  1 00:00", 0, 0 },
  };
  unsigned i;

  for (i = 0; i < sizeof c / sizeof *c; i++) {
    struct yearref y;
    long long t = -1;
    size_t k;
    char name[80];

    yearref_init(&y, c[i].ref);
    k = stamp_syslog(&y, c[i].in, strlen(c[i].in), &t);
    snprintf(name, sizeof name, "syslog %u takes %zu", i, c[i].took);
    test_num((long long)k, (long long)c[i].took, name);
    if (k) {
      snprintf(name, sizeof name, "syslog %u time", i);
      test_num(t, c[i].t, name);
    }
  }
}

static void t_rfc3339(void)
{
  static const struct { const char *in; size_t took; long long t; } c[] = {
    { "2026-01-01T00:00:00+00:00 mx", 25, NY },
    { "2026-01-01T01:00:00.123456+01:00 mx", 32, NY },
    { "2025-12-31T19:00:00-05:00 mx", 25, NY },
    { "2026-01-01T00:00:00Z mx", 20, NY },
    { "2026-01-01T00:00:00 mx", 0, 0 },
    { "2026-13-01T00:00:00Z", 0, 0 },
    /* dates and offsets no calendar or clock has */
    { "2026-02-30T00:00:00Z mx", 0, 0 },
    { "2026-04-31T00:00:00Z mx", 0, 0 },
    { "2026-02-29T00:00:00Z mx", 0, 0 },
    { "2100-02-29T00:00:00Z mx", 0, 0 },
    { "2024-02-29T00:00:00Z mx", 20, 1709164800LL },
    { "2000-02-29T00:00:00Z mx", 20, 951782400LL },
    { "2026-01-01T24:00:00Z mx", 0, 0 },
    { "2026-01-01T00:60:00Z mx", 0, 0 },
    { "2026-01-01T00:00:61Z mx", 0, 0 },
    { "2026-01-01T00:00:00+24:00 mx", 0, 0 },
    { "2026-01-01T00:00:00+01:60 mx", 0, 0 },
    { "2026-01-01T00:00:00-23:59 mx", 25, NY + 23 * 3600 + 59 * 60 },
  };
  unsigned i;

  for (i = 0; i < sizeof c / sizeof *c; i++) {
    long long t = -1;
    size_t k = stamp_rfc3339(c[i].in, strlen(c[i].in), &t);
    char name[80];

    snprintf(name, sizeof name, "rfc3339 %u takes %zu", i, c[i].took);
    test_num((long long)k, (long long)c[i].took, name);
    if (k) {
      snprintf(name, sizeof name, "rfc3339 %u time", i);
      test_num(t, c[i].t, name);
    }
  }
}

static void t_arg(void)
{
  static const struct { const char *in; int rc; long long t; } c[] = {
    { "now", 0, NY }, { "@1767225600", 0, NY }, { "-24h", 0, NY - 86400 },
    { "-7d", 0, NY - 7 * 86400 }, { "24h", 0, NY - 86400 },
    { "90", 0, NY - 90 }, { "2026-01-01", 0, NY },
    { "2026-01-01 00:00", 0, NY }, { "2026-01-01T00:00:01", 0, NY + 1 },
    { "2026-1-1", -1, 0 }, { "-1x", -1, 0 }, { "@", -1, 0 },
    { "yesterday", -1, 0 }, { "2026-01-01T25:00", -1, 0 },
    { "2026-02-30", -1, 0 }, { "2026-04-31 12:00", -1, 0 },
    { "2026-02-29", -1, 0 }, { "2024-02-29", 0, 1709164800LL },
  };
  unsigned i;

  for (i = 0; i < sizeof c / sizeof *c; i++) {
    long long t = -1;
    int rc = stamp_arg(c[i].in, NY, &t);
    char name[80];

    snprintf(name, sizeof name, "time argument %s", c[i].in);
    test_num(rc, c[i].rc, name);
    if (!rc) test_num(t, c[i].t, name);
  }
}

static void t_kv(void)
{
  static const char line[] = "action=defer reason=\"Reject new triplet\""
    " client=192.0.2.7 helo=\"a \\\"b\\\" \\x41\" empty= rule=-";
  static const struct { const char *key; long len; const char *v; } c[] = {
    { "action", 5, "defer" }, { "reason", 18, "Reject new triplet" },
    { "client", 9, "192.0.2.7" }, { "helo", 7, "a \"b\" A" },
    { "empty", 0, "" }, { "rule", 1, "-" }, { "missing", -1, NULL },
    { "actio", -1, NULL },
  };
  unsigned i;

  for (i = 0; i < sizeof c / sizeof *c; i++) {
    char out[64];
    long n = kv_get(line, sizeof line - 1, c[i].key, out, sizeof out);
    char name[80];

    snprintf(name, sizeof name, "key %s", c[i].key);
    test_num(n, c[i].len, name);
    if (n >= 0) test_str(out, c[i].v, name);
  }
}

static void t_net(void)
{
  static const struct { const char *ip, *net; } c[] = {
    { "192.0.2.7", "192.0.2.0/24" }, { "10.1.2.3", "10.1.2.0/24" },
    { "2001:db8:1:2::7", "2001:db8:1::/48" },
    { "2001:db8::7", "2001:db8::/48" }, { "::1", "::/48" },
    { "unknown", "" }, { "1.2.3", "" },
  };
  unsigned i;

  for (i = 0; i < sizeof c / sizeof *c; i++) {
    char out[64] = "";
    size_t n = net_of(c[i].ip, strlen(c[i].ip), out);

    out[n] = 0;
    test_str(out, c[i].net, c[i].ip);
  }
}

static void t_topn(void)
{
  struct topn *t = topn_new(4);
  const struct topn_item *top[8];
  unsigned n, i;
  char k[8];

  /* exact while there is room */
  topn_add(t, "a", 1, 3); topn_add(t, "b", 1, 1); topn_add(t, "a", 1, 2);
  test_num((long long)topn_get(t, "a", 1)->n, 5, "topn exact count");
  test_num(t->evicted, 0, "topn nothing evicted");
  /* a heavy key survives a stream of 1000 distinct light ones */
  for (i = 0; i < 1000; i++) {
    snprintf(k, sizeof k, "x%u", i);
    topn_add(t, k, strlen(k), 1);
    topn_add(t, "heavy", 5, 1);
  }
  n = topn_top(t, top, 8);
  test_num(n, 4, "topn holds cap keys");
  test_str(top[0]->key, "heavy", "topn heavy hitter first");
  test_ok(top[0]->n >= 1000 && top[0]->n - top[0]->err <= 1000,
          "topn count bounds the true count");
  test_num((long long)t->total, 2006, "topn total");
  topn_free(t);
}

/* The guarantees of space-saving on a skewed stream with evictions. */
static void t_topn_bounds(void)
{
  static unsigned truth[2000];
  struct topn *t = topn_new(100);
  unsigned long long total = 0, x = 12345;
  unsigned i, bad_bound = 0, missing = 0;
  char k[16];

  for (i = 0; i < 200000; i++) {
    unsigned key;

    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    /* a few heavy keys, a long tail */
    key = (unsigned)((x >> 33) % 1000) < 300 ? (unsigned)(x >> 20) % 10
          : (unsigned)(x >> 20) % 2000;
    truth[key]++;
    total++;
    snprintf(k, sizeof k, "k%u", key);
    topn_add(t, k, strlen(k), 1);
  }
  for (i = 0; i < 2000; i++) {
    const struct topn_item *it;

    snprintf(k, sizeof k, "k%u", i);
    it = topn_get(t, k, strlen(k));
    if (it && (it->n < truth[i] || it->n - it->err > truth[i])) bad_bound++;
    if (!it && truth[i] > total / 100) missing++;
  }
  test_num(bad_bound, 0, "space-saving: true count within [n - err, n]");
  test_num(missing, 0, "space-saving: every key above total/cap is kept");
  test_ok(t->evicted > 0, "space-saving: evictions happened");
  test_num((long long)t->total, 200000, "space-saving: total");
  topn_free(t);
}

/* --- lines ----------------------------------------------------------- */

#define F(x) offsetof(struct stats, x)

static void t_lines(void)
{
  static const struct { const char *line; size_t field; } c[] = {
    { "@400000006956a2020000000a greyd: info: decision action=defer"
      " reason=\"Reject new triplet\" client=192.0.2.7 net=192.0.2.0/24",
      F(grey[GR_REJECT_NEW]) },
    { "@400000006956a2020000000a greyd: info: decision action=pass"
      " reason=\"Pass retry\" client=192.0.2.7 age=300",
      F(grey[GR_PASS_RETRY]) },
    { "@400000006956a2020000000a greyd: info: decision action=pass"
      " reason=\"Pass sideways\"", F(unknown) },
    /* damaged decision lines: not understood, never counted (a tester's
     * inputs, once all counted as decisions) */
#define GD "@400000006956a2020000000a greyd: info: decision "
    { GD "action=bogus reason=\"Reject new triplet\" client=192.0.2.7",
      F(unknown) },
    { GD "action=pass reason=\"Reject new triplet\" client=192.0.2.7",
      F(unknown) },
    { GD "action=defer reason=\"Reject new triplet\" client=192.0.2.7"
      " sender=a b", F(unknown) },
    { GD "action=defer reason=\"Reject new triplet\" client=192.0.2.7"
      " sender=a\001b", F(unknown) },
    { GD "action=defer reason=\"Reject new triplet\" client=notanip",
      F(unknown) },
    { GD "action=defer reason=\"Reject new triplet\"", F(unknown) },
    { GD "action=defer reason=\"Reject new triplet\" client=192.0.2.7"
      " reason=\"Pass retry\"", F(unknown) },
    { GD "action=defer reason=\"Reject new\" triplet\" client=192.0.2.7",
      F(unknown) },
    { "@400000006956a2020000000a policyd: info: decision action=bogus"
      " rule=\"RBL\" client=192.0.2.8", F(unknown) },
    { GD "action=defer reason=\"Reject new triplet\" client=2001:db8::7"
      " sender=\"a b\\x22\"", F(grey[GR_REJECT_NEW]) },
#undef GD
    { "@400000006956a2020000000a policyd: info: decision action=reject"
      " rule=\"RBL MULTIPLE MAIN\" client=192.0.2.8", F(pol_rejected) },
    { "@400000006956a2020000000a acctd: warning: lookup proto=tcp"
      " result=temp reason=x key=k conn=1", F(warnings) },
    /* a warning, and acctd's temporary failure (once counted nowhere) */
    { "@400000006956a2020000000a acctd: warning: lookup proto=tcp"
      " result=temp reason=x key=k conn=1", F(acct_temp) },
    { "@400000006956a2020000000a acctd: warning: bad_request proto=tcp"
      " reason=no_get conn=5", F(acct_bad) },
    { "@400000006956a2020000000a acctd: info: lookup proto=tcp"
      " result=notfound key=k conn=1", F(acct_notfound) },
    { "@400000006956a2020000000a greyd: fatal: unable to open x: y",
      F(fatals) },
    { "@400000006956a2020000000a <5>(01234-01) Blocked SPAM {Discarded"
      "Inbound}, [192.0.2.9]:1 [192.0.2.9] <a@b> -> <c@d>, Hits: 9",
      F(av_blocked) },
    { "Jan  1 10:00:00 mx postfix/smtpd[1]: connect from x[192.0.2.1]",
      F(connects) },
    { "Jan  1 10:00:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from"
      " x[192.0.2.1]: 550 5.1.1 <u@example.com>: Recipient address"
      " rejected: User unknown in relay recipient table; from=<a@b>"
      " to=<u@example.com> proto=ESMTP helo=<x>", F(rcpt_unknown) },
    { "Jan  1 10:00:00 mx postfix/smtpd[1]: NOQUEUE: reject:"
      " RCPT from x[192.0.2.1]: 451 4.3.0 <u@example.com>: Temporary lookup"
      " failure; from=<a@b> to=<u@example.com>", F(rcpt_temp) },
    { "Jan  1 10:00:00 mx postfix/reinject/smtpd[1]: connect from"
      " localhost[127.0.0.1]", F(other_connects) },
    { "Jan  1 10:00:00 mx postfix/submission/smtpd[1]: connect from"
      " x[192.0.2.1]", F(other_connects) },
    { "Jan  1 10:00:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from"
      " x[192.0.2.1]: 450 4.7.1 <u@example.com>: Recipient address"
      " rejected: Greylisted; from=<a@b>", F(rcpt_other) },
    { "2026-01-01T10:00:00.5+00:00 mx amavis[3]: (03-01) Passed CLEAN"
      " {RelayedInbound}, [192.0.2.1]:5 <a@b> -> <c@d>,<e@f>, Hits: 1",
      F(av_rcpts) },
    { "Jan  1 10:00:00 mx kernel: something", F(other) },
    { "@400000006956a2020000000a foo: info: bar", F(other) },
    { "garbage without a stamp", F(unknown) },
    /* impossible stamps: not understood (they were counted outside the
     * window, or in a day of the next month) */
    { "Feb 30 12:00:00 mx postfix/smtpd[1]: connect from x[192.0.2.1]",
      F(unknown) },
    { "Jan 32 12:00:00 mx postfix/smtpd[1]: connect from x[192.0.2.1]",
      F(unknown) },
    { "2026-02-29T12:00:00Z mx postfix/smtpd[1]: connect from"
      " x[192.0.2.1]", F(unknown) },
    { "@400000006956a202ffffffff greyd: info: reload result=ok",
      F(unknown) },
    { "@400000006956a2020000000a Feb 30 12:00:00 mx postfix/smtpd[1]:"
      " connect from x[192.0.2.1]", F(unknown) },
    { "@400000006956a2020000000a", F(unknown) },
    { "Dec  1 10:00:00 mx postfix/smtpd[1]: connect from x[1.2.3.4]",
      F(outside) },
  };
  unsigned i;

  for (i = 0; i < sizeof c / sizeof *c; i++) {
    struct stats st;
    struct yearref y;
    unsigned long long before, after;
    char name[64];

    stats_init(&st, NY, NY + 86400);
    yearref_init(&y, NY + 86400);
    memcpy(&before, (char *)&st + c[i].field, sizeof before);
    stats_line(&st, &y, c[i].line, strlen(c[i].line));
    memcpy(&after, (char *)&st + c[i].field, sizeof after);
    snprintf(name, sizeof name, "line %u counted where expected", i);
    test_ok(after > before, name);
    if (c[i].field != F(unknown)) {
      snprintf(name, sizeof name, "line %u understood", i);
      test_num((long long)st.unknown, 0, name);
    }
    stats_free(&st);
  }
}

/* RCPT TO:<"john doe"@example.com>: Postfix asks acctd the quoted form,
 * which is not found on purpose, then the unquoted one.  The first
 * answer is no rejection (it was counted as an unknown recipient). */
static void t_acct_quoted(void)
{
  static const char *const l[] = {
    "@400000006956a2020000000a acctd: info: lookup proto=socketmap"
    " result=notfound reason=quoted key=\"\\\"john doe\\\"@example.com\""
    " conn=8",
    "@400000006956a2020000000a acctd: info: lookup proto=socketmap"
    " result=notfound key=nobody@example.com conn=8",
    "@400000006956a2020000000a acctd: info: lookup proto=tcp"
    " result=notfound reason=not_an_address key=x conn=9",
    "@400000006956a2020000000a acctd: info: lookup proto=tcp"
    " result=notfound reason=quotedx key=x conn=9",
  };
  struct stats st;
  struct yearref y;
  unsigned i;

  stats_init(&st, NY, NY + 86400);
  yearref_init(&y, NY + 86400);
  for (i = 0; i < sizeof l / sizeof *l; i++)
    stats_line(&st, &y, l[i], strlen(l[i]));
  test_num((long long)st.acct_notfound, 3, "acctd: quoted form not unknown");
  test_num((long long)st.unknown, 0, "acctd: quoted form understood");
  test_num((long long)st.seen_acct, 1, "acctd: quoted form seen");
  stats_free(&st);
}

/* Only the inbound smtpd's lines count (--inbound), and only its mail
 * is queued mail of the funnel: not amavis's re-injected copy, not a
 * deferred message that qmgr takes again. */
static void t_inbound(void)
{
  static const char *const l[] = {
    "Jan  1 10:00:00 mx postfix/smtpd[1]: connect from x[192.0.2.1]",
    "Jan  1 10:00:00 mx postfix/smtpd[1]: 37EF9A723EB: client=x[192.0.2.1]",
    "Jan  1 10:00:01 mx postfix/qmgr[2]: 37EF9A723EB: from=<b@x>,"
    " size=424, nrcpt=3 (queue active)",
    "Jan  1 10:00:02 mx postfix/reinject/smtpd[3]: connect from"
    " localhost[127.0.0.1]",
    "Jan  1 10:00:02 mx postfix/reinject/smtpd[3]: 4A1B2C3D4E: client="
    "localhost[127.0.0.1], orig_queue_id=37EF9A723EB",
    "Jan  1 10:00:02 mx postfix/qmgr[2]: 4A1B2C3D4E: from=<b@x>,"
    " size=900, nrcpt=3 (queue active)",
    "Jan  1 10:00:02 mx postfix/reinject/smtpd[3]: disconnect from"
    " localhost[127.0.0.1] ehlo=1 mail=1 rcpt=3 data=1 quit=1 commands=7",
    "Jan  1 10:00:03 mx postfix-in/smtpd[4]: connect from y[192.0.2.2]",
    "Jan  1 10:00:03 mx postfix-in/smtpd[4]: NOQUEUE: reject: RCPT from"
    " y[192.0.2.2]: 550 5.1.1 <u@example.com>: Recipient address"
    " rejected: User unknown in relay recipient table; from=<a@b>",
    "Jan  1 11:00:01 mx postfix/qmgr[2]: 37EF9A723EB: from=<b@x>,"
    " size=424, nrcpt=3 (queue active)",
  };
  static const struct {
    const char *names;
    int rc;
    unsigned long long connects, other, unknown, queued;
  } c[] = {
    { NULL, 0, 1, 2, 0, 3 },
    { "postfix/smtpd", 0, 1, 2, 0, 3 },
    { "postfix/smtpd,postfix-in/smtpd", 0, 2, 1, 1, 3 },
    { " postfix-in/smtpd , postfix/smtpd ", 0, 2, 1, 1, 3 },
    { "postfix-in/smtpd", 0, 1, 2, 1, 0 },
    { "", -1, 1, 2, 0, 3 },
    { " , ", -1, 1, 2, 0, 3 },
    { "a,b,c,d,e,f,g,h,i", -1, 1, 2, 0, 3 },
  };
  unsigned i, j;

  for (i = 0; i < sizeof c / sizeof *c; i++) {
    struct stats st;
    struct yearref y;
    char name[80];

    stats_init(&st, NY, NY + 86400);
    yearref_init(&y, NY + 86400);
    if (c[i].names) {
      snprintf(name, sizeof name, "inbound %u: \"%s\" taken or refused",
               i, c[i].names);
      test_num(stats_inbound(&st, c[i].names), c[i].rc, name);
    }
    for (j = 0; j < sizeof l / sizeof *l; j++)
      stats_line(&st, &y, l[j], strlen(l[j]));
    snprintf(name, sizeof name, "inbound %u: connections", i);
    test_num((long long)st.connects, (long long)c[i].connects, name);
    snprintf(name, sizeof name, "inbound %u: other smtpd connections", i);
    test_num((long long)st.other_connects, (long long)c[i].other, name);
    snprintf(name, sizeof name, "inbound %u: unknown recipients", i);
    test_num((long long)st.rcpt_unknown, (long long)c[i].unknown, name);
    snprintf(name, sizeof name, "inbound %u: queued recipients", i);
    test_num((long long)st.queued_rcpts, (long long)c[i].queued, name);
    snprintf(name, sizeof name, "inbound %u: every line understood", i);
    test_num((long long)st.unknown, 0, name);
    stats_free(&st);
  }
}

static void t_virus(void)
{
  static const char l[] = "Jan  1 10:00:00 mx amavis[3]: (03-01) Blocked"
    " INFECTED (Eicar-Signature, Win.Test.EICAR_HDB-1) {DiscardedInbound,"
    "Quarantined}, [192.0.2.1]:5 [192.0.2.1] <a@b> -> <c@d>, Hits: -";
  static const char l2[] = "Jan  1 10:00:00 mx amavis[3]: (03-02) Blocked"
    " INFECTED (Eicar-Signature,Win.Test.EICAR_HDB-1) {DiscardedInbound},"
    " [192.0.2.1]:5 [192.0.2.1] <a@b> -> <c@d>, Hits: -";
  struct stats st;
  struct yearref y;

  stats_init(&st, NY, NY + 86400);
  yearref_init(&y, NY + 86400);
  stats_line(&st, &y, l, sizeof l - 1);
  test_num(st.virus->used, 2, "two virus names");
  test_ok(topn_get(st.virus, "Win.Test.EICAR_HDB-1", 20) != NULL,
          "second virus name");
  test_ok(topn_get(st.av_cat, "Blocked INFECTED", 16) != NULL,
          "category Blocked INFECTED");
  test_num((long long)topn_get(st.clients, "192.0.2.1", 9)->n, 1,
           "client of a blocked message");
  stats_free(&st);
  /* the names with no space after the comma (a tester's line, once
   * counted as one name "Eicar-Signature,Win.Test.EICAR_HDB-1") */
  stats_init(&st, NY, NY + 86400);
  stats_line(&st, &y, l2, sizeof l2 - 1);
  test_num(st.virus->used, 2, "two virus names, comma without space");
  test_ok(topn_get(st.virus, "Eicar-Signature", 15) != NULL
          && topn_get(st.virus, "Win.Test.EICAR_HDB-1", 20) != NULL,
          "both names, comma without space");
  stats_free(&st);
}

/* Every prefix of each kind of line, and random bytes written into
 * them, each in a buffer of its exact size: under ASan a read past the
 * end of a line is caught.  Nothing may crash; counts do not matter. */
static void t_fuzz(void)
{
  static const char *const seed[] = {
    "@400000006956a2020000000a greyd: info: decision action=defer"
    " reason=\"Reject new triplet\" client=192.0.2.7 net=192.0.2.0/24",
    "@400000006956a2020000000a policyd: info: decision action=reject"
    " rule=\"RBL \\\"MAIN\\x41\" client=2001:db8::1",
    "@400000006956a2020000000a <5>(01234-01) Blocked INFECTED (a, b)"
    " {DiscardedInbound}, LOCAL [192.0.2.9]:1 <a@b> -> <c@d>,<e@f>, x",
    "Jan  1 10:00:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from"
    " x[192.0.2.1]: 550 5.1.1 <u@example.com>: Recipient address"
    " rejected: User unknown in relay recipient table; from=<a@b>",
    "Jan  1 10:00:00 mx postfix/smtpd[1]: disconnect from x[1.2.3.4]"
    " ehlo=1 mail=1 rcpt=1/2 data=1 quit=1 commands=5",
    "Jan  1 10:00:00 mx postfix/qmgr[2]: 37EF9A723EB: from=<b@x>,"
    " size=424, nrcpt=3 (queue active)",
    "2026-01-01T10:00:00.5+00:00 mx amavis[3]: (03-01) Passed CLEAN"
    " {RelayedInbound}, [192.0.2.1]:5 <a@b> -> <c@d>, Hits: 1",
    "2026-01-01T10:00:00Z mx greyd: greyd: info: decision action=pass",
  };
  struct stats st;
  struct yearref y;
  unsigned long long x = 42;
  unsigned i, k, runs = 0;

  stats_init(&st, NY, NY + 86400);
  yearref_init(&y, NY + 86400);
  for (i = 0; i < sizeof seed / sizeof *seed; i++) {
    size_t len = strlen(seed[i]), n;

    for (n = 0; n <= len; n++) {
      char *b = malloc(n ? n : 1);

      memcpy(b, seed[i], n);
      stats_line(&st, &y, b, n);
      for (k = 0; k < 20 && n; k++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        b[(x >> 33) % n] = (char)(x >> 25);
        stats_line(&st, &y, b, n);
        runs++;
      }
      free(b);
    }
  }
  test_ok(runs > 10000 && st.lines == st.in_window + st.outside, "fuzzed"
          " lines: no crash, every line counted once");
  stats_free(&st);
}

/* --- the reader ------------------------------------------------------ */

struct hook {
  const char *dir;
  unsigned long long at;
  int what;       /* 1: rotate current, 2: truncate and rewrite */
  int done;
};

static void write_file(const char *path, const char *text, int append)
{
  int fd = open(path, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC),
                0644);

  if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
    perror(path);
  close(fd);
}

#define G(r) "@400000006956a2020000000a greyd: info: decision action=" \
  r "\n"
#define NEW G("defer reason=\"Reject new triplet\" client=192.0.2.7")
#define RETRY G("pass reason=\"Pass retry\" client=192.0.2.7")

static void on_line(void *arg, const char *path, unsigned long long n)
{
  struct hook *h = arg;
  char a[300], b[300];

  (void)path;
  if (h->done || n != h->at) return;
  h->done = 1;
  snprintf(a, sizeof a, "%s/current", h->dir);
  if (h->what == 1) {
    /* multilog's rotation: rename, then a new current gets lines */
    snprintf(b, sizeof b, "%s/@400000006956a2030000000a.s", h->dir);
    rename(a, b);
    write_file(a, RETRY RETRY, 0);
  } else {
    /* truncated under the reader, then written again */
    if (truncate(a, 0) < 0) perror(a);
    write_file(a, RETRY, 1);
  }
}

static void reader_case(int what, const char *name, unsigned long long want_new,
                        unsigned long long want_retry,
                        unsigned long long want_event)
{
  char dir[] = "/tmp/t_reportd.XXXXXX", p[300];
  struct stats st;
  struct reader r;
  struct hook h = { dir, 2, what, 0 };

  if (!mkdtemp(dir)) { perror("mkdtemp"); return; }
  snprintf(p, sizeof p, "%s/current", dir);
  write_file(p, NEW NEW NEW, 0);
  stats_init(&st, NY, NY + 86400);
  reader_init(&r, &st);
  r.hook = on_line;
  r.hook_arg = &h;
  read_log(&r, dir);
  test_num((long long)st.grey[GR_REJECT_NEW], (long long)want_new, name);
  test_num((long long)st.grey[GR_PASS_RETRY], (long long)want_retry, name);
  test_num((long long)(what == 1 ? st.rotated : st.truncated),
           (long long)want_event, name);
  test_num((long long)st.unknown, 0, name);
  reader_free(&r);
  stats_free(&st);
  snprintf(p, sizeof p, "rm -rf %s", dir);
  if (system(p)) perror(p);
}

static void t_reader_edges(void)
{
  char dir[] = "/tmp/t_reportd.XXXXXX", p[300], *big;
  struct stats st;
  struct reader r;

  if (!mkdtemp(dir)) return;
  snprintf(p, sizeof p, "%s/log", dir);
  big = malloc(LINE_MAX_BYTES * 3);
  memset(big, 'x', LINE_MAX_BYTES * 3 - 2);
  big[LINE_MAX_BYTES * 3 - 2] = '\n';
  big[LINE_MAX_BYTES * 3 - 1] = 0;
  write_file(p, NEW, 0);
  write_file(p, big, 1);
  write_file(p, NEW "@400000006956a2020000000a greyd: info: decision", 1);
  free(big);
  stats_init(&st, NY, NY + 86400);
  reader_init(&r, &st);
  test_num(read_log(&r, p), 0, "read a file");
  test_num((long long)st.grey[GR_REJECT_NEW], 2, "lines around a long one");
  test_num((long long)st.too_long, 1, "one line too long");
  test_num((long long)st.partial, 1, "one partial last line");
  test_num((long long)st.unknown, 2, "long and cut lines not understood");
  test_num((long long)st.lines, 4, "four lines");
  snprintf(p, sizeof p, "%s/none", dir);
  test_num(read_log(&r, p), -1, "a missing log is an error");
  test_num((long long)r.unreadable, 1, "counted unreadable");
  reader_free(&r);
  stats_free(&st);
  snprintf(p, sizeof p, "rm -rf %s", dir);
  if (system(p)) perror(p);
}

/* When the status page needs a password: any listener off loopback. */
static void t_listen_local(void)
{
  static const struct { const char *specs; int want; } t[] = {
    { "inet:127.0.0.1:9025", 1 }, { "127.0.0.1:9025", 1 },
    { "inet:[::1]:9025", 1 }, { "unix:/run/imgate/status.sock", 1 },
    { "/run/imgate/status.sock", 1 }, { "127.0.0.1:1, unix:/x", 1 },
    { "127.0.0.1:1,[::1]:2", 1 }, { "0.0.0.0:9025", 0 },
    { "127.0.0.1:1, 192.0.2.1:2", 0 }, { "inet:[::]:9025", 0 },
    { "127.evil.example:9025", 0 }, { "127.0.0.1", 0 },
  };
  char name[96];

  for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
    snprintf(name, sizeof name, "listen_is_local %s", t[i].specs);
    test_num(listen_is_local(t[i].specs), t[i].want, name);
  }
}

int main(void)
{
  setenv("TZ", "UTC", 1);
  t_listen_local();
  t_tai64n();
  t_syslog();
  t_rfc3339();
  t_arg();
  t_kv();
  t_net();
  t_topn();
  t_topn_bounds();
  t_lines();
  t_acct_quoted();
  t_inbound();
  t_virus();
  t_fuzz();
  reader_case(1, "rotation while reading current", 3, 2, 1);
  /* lines read before the truncation stay counted */
  reader_case(2, "truncation while reading", 3, 1, 1);
  t_reader_edges();
  return test_done();
}
