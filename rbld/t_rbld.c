/* t_rbld.c - unit tests: the parsers of rbldnsd's data syntax, TXT
 * templates, and reply() on well-formed and malformed packets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "rbld.h"
#include "test.h"
#include "zone.h"

struct opts g_opts = { 2100, 0, 0, 0, 0, 0 };

static void t_ip4range(void)
{
  static const struct { const char *s; int bits; uint32_t a, b; } c[] = {
    { "127.0.0.0/24", 24, 0x7f000000, 0x7f0000ff },
    { "127.0.0", 24, 0x7f000000, 0x7f0000ff },
    { "127/24", 24, 0x7f000000, 0x7f0000ff },
    { "127.0.0.0-127.0.0.255", 32, 0x7f000000, 0x7f0000ff },
    { "127.0.0.1-255", 32, 0x7f000001, 0x7f0000ff },
    { "127.16.0.0-127.31.255.255", 32, 0x7f100000, 0x7f1fffff },
    { "127.16.0-127.31.255", 32, 0x7f100000, 0x7f1fffff },
    { "127.16-127.31", 32, 0x7f100000, 0x7f1fffff },
    { "127.16-31", 32, 0x7f100000, 0x7f1fffff },
    { "127.16.0.0/12", 12, 0x7f100000, 0x7f1fffff },
    { "127.16/12", 12, 0x7f100000, 0x7f1fffff },
    { "127.16.0-31", 32, 0x7f100000, 0x7f101fff },
    { "1.2.3.4", 32, 0x01020304, 0x01020304 },
    { "001.002.003.004", 32, 0x01020304, 0x01020304 },
    { "127", -1, 0, 0 }, { "1.2.3.256", -1, 0, 0 }, { "1.2/33", -1, 0, 0 },
    { "1.2.3.5-1.2.3.4", -1, 0, 0 }, { "1.2-1.2.3.4", -1, 0, 0 },
    { "x", -1, 0, 0 },
  };
  unsigned i;

  for (i = 0; i < sizeof c / sizeof *c; i++) {
    uint32_t a = 0, b = 0;
    const char *e;
    char name[64];
    int bits = ip4range(c[i].s, &a, &b, &e);
    snprintf(name, sizeof name, "ip4range %s", c[i].s);
    if (c[i].bits < 0) { test_ok(bits < 0 || *e, name); continue; }
    test_ok(bits == c[i].bits && (a & (bits == 32 ? ~0u : ~(~0u >> bits))) ==
            c[i].a && b == c[i].b && !*e, name);
  }
}

static void t_ip6(void)
{
  static const struct { const char *s; int bits; const char *text; } c[] = {
    { "2001:db8::/32", 32, "2001:db8::" },
    { "2001:21ab:c000/36", 36, "2001:21ab:c000::" },
    { "2001:21ab:def7:4242", 64, "2001:21ab:def7:4242::" },
    { "::1", 128, "::1" },
    { "2605:6001:42::bead", 128, "2605:6001:42::bead" },
    { "1:2:3:4:5:6:7:8", 128, "1:2:3:4:5:6:7:8" },
    { "1::2::3", -1, "" }, { "12345::", -1, "" }, { "::/129", -1, "" },
  };
  unsigned i;

  for (i = 0; i < sizeof c / sizeof *c; i++) {
    uint8_t a[16];
    char buf[64], name[64];
    const char *e = "";
    int bits = ip6cidr(c[i].s, a, &e);
    snprintf(name, sizeof name, "ip6cidr %s", c[i].s);
    if (c[i].bits < 0) { test_ok(bits < 0 || *e, name); continue; }
    test_ok(bits == c[i].bits && !*e, name);
    test_str(ip6_text(a, buf), c[i].text, name);
  }
}

static void t_time(void)
{
  static const struct { const char *s; uint32_t t; } c[] = {
    { "35m", 2100 }, { "10", 10 }, { "2h", 7200 }, { "1d", 86400 },
    { "1w", 604800 }, { "5s", 5 }, { "0", 0 },
  };
  unsigned i;

  for (i = 0; i < sizeof c / sizeof *c; i++) {
    char buf[32];
    uint32_t t = 99;
    strcpy(buf, c[i].s);
    test_ok(parse_time(buf, &t) && t == c[i].t, c[i].s);
  }
}

/* TXT templates against a dataset with $1 and optionally $= */
static void t_subst(void)
{
  static const struct { const char *base, *tmpl, *sub, *want; } c[] = {
    { NULL, "listed $", "1.2.3.4", "listed 1.2.3.4" },
    { NULL, "$1/x/$ $2", "1.2.3.4", "See http://e/x/1.2.3.4 for details" },
    { NULL, "wants $$$$. $1/$", "9.9.9.9", "wants $$. See http://e/9.9.9.9" },
    { NULL, "undefined $5 stays", "x", "undefined $5 stays" },
    { NULL, "no base: $= is the text", "x", "no base: no base: $= is the text "
      "is the text" },
    { "See ?$= ($) ok", "r123", "127.0.0.2", "See ?r123 (127.0.0.2) ok" },
    { "See ?$= ($) ok", "", "127.0.0.3", "See ?127.0.0.3 (127.0.0.3) ok" },
    { "See ?$= ($) ok", "=Other $", "127.0.0.4", "Other 127.0.0.4" },
  };
  struct dataset ds;
  char out[TXT_MAX + 1];
  unsigned i, n;

  for (i = 0; i < sizeof c / sizeof *c; i++) {
    memset(&ds, 0, sizeof ds);
    ds.subst[1] = "See http://e";
    ds.subst[2] = "for details";
    ds.subst[SUBST_BASE] = (char *)c[i].base;
    n = txt_subst(out, c[i].tmpl, c[i].sub, &ds);
    out[n] = 0;
    test_str(out, c[i].want, c[i].tmpl);
  }
  memset(&ds, 0, sizeof ds);
  {
    char big[600];
    memset(big, 'x', 599);
    big[599] = 0;
    n = txt_subst(out, big, "", &ds);
    test_num(n, TXT_MAX, "TXT cut at 254 bytes");
    strcpy(big + TXT_MAX - 1, "$$ and more");
    n = txt_subst(out, big, "", &ds);
    test_ok(n == TXT_MAX && out[n - 1] == '$', "$$ as the 254th byte");
    strcpy(big + TXT_MAX - 1, "$ and more");
    n = txt_subst(out, big, "1.2.3.4", &ds);
    test_ok(n == TXT_MAX && out[n - 2] == 'x' && out[n - 1] == '1',
            "$ cut after its first byte at 254");
  }
}

/* every byte value at every place of the word-at-a-time copy, against
 * the byte-at-a-time rule */
static void t_lower(void)
{
  uint8_t in[24], out[24];
  unsigned b, i, n, bad = 0;

  for (n = 0; n <= sizeof in; n++)
    for (i = 0; i < n; i++)
      for (b = 0; b < 256; b++) {
        memset(in, 'Q', sizeof in);
        in[i] = (uint8_t)b;
        memset(out, 0, sizeof out);
        lower_copy(out, in, n);
        if (out[i] != (b >= 'A' && b <= 'Z' ? b + 32 : b) ||
            (i > 0 && out[0] != 'q') || (n < sizeof out && out[n])) bad++;
      }
  test_num(bad, 0, "lower_copy: A-Z only, every byte, every place");
}

/* ip4_text against printf, every octet value in every place */
static void t_ip4_text(void)
{
  char got[16], want[16];
  unsigned o, i, bad = 0;

  for (i = 0; i < 4; i++)
    for (o = 0; o < 256; o++) {
      uint32_t a = 0x01020304u & ~(0xffu << (8 * i)), x;
      a |= o << (8 * i);
      x = a;
      snprintf(want, sizeof want, "%u.%u.%u.%u", x >> 24, (x >> 16) & 255,
               (x >> 8) & 255, x & 255);
      if (strcmp(ip4_text(a, got), want)) bad++;
    }
  test_str(ip4_text(0xffffffffu, got), "255.255.255.255",
           "ip4_text: the longest form");
  test_str(ip4_text(0, got), "0.0.0.0", "ip4_text: the shortest");
  test_num(bad, 0, "ip4_text: every octet in every place as printf");
}

/* the plain reading of one label of a reversed address: 1 to 3 digits,
 * at most 255 */
static int ref_octet(const char *s, uint32_t *o)
{
  size_t n = strlen(s), i;

  if (n < 1 || n > 3) return 0;
  for (*o = 0, i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return 0;
    *o = *o * 10 + (uint32_t)(s[i] - '0');
  }
  return *o <= 255;
}

/* qinfo_ip against that reading, for names of four labels taken from
 * edge cases (lengths 1 to 4, leading zeros, 255/256, a letter or a
 * byte just outside the digits in each place) */
static void t_qinfo_ip(void)
{
  static const char *lab[] = {
    "0", "1", "9", "10", "99", "100", "199", "255", "256", "300", "999",
    "01", "001", "000", "0000", "1a", "a1", "a", "1/", ":1", "25:",
    "2555", "12345", "/", "x", "1.", "9:9" };
  const unsigned nl = sizeof lab / sizeof *lab;
  unsigned a, b, c, d, bad = 0, ok = 0;

  for (a = 0; a < nl; a++) for (b = 0; b < nl; b += 3)
  for (c = 0; c < nl; c += 2) for (d = 0; d < nl; d++) {
    const char *l[4] = { lab[a], lab[b], lab[c], lab[d] };
    uint8_t dn[DN_MAX + 4];
    struct qinfo qi;
    uint32_t want = 0, o = 0;
    unsigned i, n = 0;
    int good = 1;

    memset(dn, 0x35, sizeof dn);      /* junk after the name: digits */
    for (i = 0; i < 4; i++) {
      size_t len = strlen(l[i]);
      dn[n++] = (uint8_t)len;
      memcpy(dn + n, l[i], len);
      n += (unsigned)len;
      if (!ref_octet(l[i], &o)) good = 0;
      want |= o << (8 * i);
    }
    dn[n] = 0;
    memset(&qi, 0, sizeof qi);
    qi.dn = dn;
    qi.dnlen = n + 1;
    qi.nlab = 4;
    qinfo_ip(&qi, DSTF_IP4REV);
    if (qi.ip4ok != good || (good && qi.ip4 != want)) bad++;
    ok += good;
  }
  test_ok(ok > 1000, "qinfo_ip: enough good addresses among the cases");
  test_num(bad, 0, "qinfo_ip: four labels read as the plain rule says");
}

static void t_a_txt(void)
{
  static const struct { const char *s; int ok; const char *a, *txt; } c[] = {
    { ":127.0.0.2:Listed $", 1, "127.0.0.2", "Listed $" },
    { ":3", 1, "127.0.0.3", "default" },
    { ":4:", 1, "127.0.0.4", "" },
    { "plain text", 1, "127.0.0.9", "plain text" },
    { ":10.1.2.3:x", 1, "10.1.2.3", "x" },
    { ":0:x", 0, "", "" }, { ":a:x", 0, "", "" }, { ":2 junk", 0, "", "" },
  };
  static const uint8_t def[] = { 127, 0, 0, 9, 'd', 'e', 'f', 'a', 'u', 'l',
                                 't', 0 };
  struct dataset ds;
  struct dsctx cx;
  unsigned i;

  memset(&ds, 0, sizeof ds);
  memset(&cx, 0, sizeof cx);
  cx.ds = &ds;
  cx.warns = 1000;                     /* keep the output quiet */
  for (i = 0; i < sizeof c / sizeof *c; i++) {
    char buf[64], a[16];
    uint8_t *rr = NULL;
    int ok;
    strcpy(buf, c[i].s);
    ok = parse_a_txt(buf, def, &cx, &rr);
    test_num(ok, c[i].ok, c[i].s);
    if (!ok || !rr) continue;
    snprintf(a, sizeof a, "%u.%u.%u.%u", rr[0], rr[1], rr[2], rr[3]);
    test_str(a, c[i].a, c[i].s);
    test_str((char *)rr + 4, c[i].txt, c[i].s);
  }
  {   /* a value like the one before is that one; any difference is not */
    static const char *const v[] = { ":5:abc", ":5:abc", ":5:ab", ":6:ab",
                                      ":6:ab", ":6:abd" };
    static const int same[] = { 0, 1, 0, 0, 1, 0 };
    uint8_t *rr, *prev = NULL;
    char buf[64];
    for (i = 0; i < sizeof v / sizeof *v; i++) {
      strcpy(buf, v[i]);
      if (!parse_a_txt(buf, def, &cx, &rr)) { test_ok(0, v[i]); continue; }
      test_num(rr == prev, same[i], v[i]);
      test_str((char *)rr + 4, v[i] + 3, v[i]);
      prev = rr;
    }
  }
  arena_free(&ds.ar);
}

/* ---- reply() ---- */

static struct zoneset *zs;
static struct config cfg;

static void setup(void)
{
  char dir[] = "/tmp/t_rbld.XXXXXX", path[128], spec[200];
  const char *err;
  FILE *f;
  int i;

  if (!mkdtemp(dir)) exit(111);
  snprintf(path, sizeof path, "%s/bl", dir);
  f = fopen(path, "w");
  fprintf(f, "$SOA 0 ns.example.net h.example.net 5 1h 1h 1w 5m\n"
          "$NS 1h ns.example.net\n:127.0.0.2:listed $\n1.2.3.4\n");
  for (i = 0; i < 40; i++)             /* one address, 40 long TXTs */
    fprintf(f, "50.0.0.1 :%d:%0100d\n", i + 1, i);
  fclose(f);
  cfg.gacl = -1;
  snprintf(spec, sizeof spec, "bl.example:ip4set:%s", path);
  if (!config_add(&cfg, spec, &err) || config_check(&cfg, 1) < 0 ||
      !(zs = snapshot_build(&cfg))) exit(111);
  unlink(path);
  rmdir(dir);
}

static size_t mkq(uint8_t *q, const char *name, unsigned type, int edns,
                  unsigned udp)
{
  size_t n = 12, l;
  const char *p = name, *dot;

  memset(q, 0, 12);
  q[0] = 0x12; q[1] = 0x34; q[2] = 0x01; q[5] = 1;
  while (*p) {
    dot = strchr(p, '.');
    l = dot ? (size_t)(dot - p) : strlen(p);
    q[n++] = (uint8_t)l;
    memcpy(q + n, p, l);
    n += l;
    p += l + (dot != NULL);
  }
  q[n++] = 0;
  q[n++] = (uint8_t)(type >> 8); q[n++] = (uint8_t)type;
  q[n++] = 0; q[n++] = 1;
  if (edns) {
    q[11] = 1;
    q[n++] = 0; q[n++] = 0; q[n++] = 41;
    q[n++] = (uint8_t)(udp >> 8); q[n++] = (uint8_t)udp;
    q[n++] = 0; q[n++] = (uint8_t)(edns - 1); q[n++] = 0; q[n++] = 0;
    q[n++] = 0; q[n++] = 0;
  }
  return n;
}

static size_t ask(const uint8_t *q, size_t n, uint8_t *out, int tcp, int *rc)
{
  int zi;

  return reply(zs, q, n, out, 65535, tcp, NULL, &zi, rc);
}

static void t_reply(void)
{
  static uint8_t q[600], out[65536];
  size_t n, len;
  int rc;

  n = mkq(q, "4.3.2.1.bl.example", 1, 0, 0);
  len = ask(q, n, out, 0, &rc);
  test_ok(len > n && rc == 0 && out[7] == 1 && (out[2] & 0x84) == 0x84,
          "listed: one A, QR+AA");
  n = mkq(q, "4.3.2.1.BL.Example", 1, 0, 0);
  len = ask(q, n, out, 0, &rc);
  test_ok(len && !memcmp(out + 12, "\0014\0013\0012\0011\002BL\007Example", 18),
          "query case echoed");
  n = mkq(q, "9.9.9.9.bl.example", 1, 0, 0);
  len = ask(q, n, out, 0, &rc);
  test_ok(rc == 3 && out[9] == 1, "NXDOMAIN with SOA in authority");
  /* the authority records are written once per snapshot; each reply
   * points their owners at its own question's zone name */
  n = mkq(q, "199.99.9.9.bl.example", 1, 0, 0);
  len = ask(q, n, out, 0, &rc);
  test_ok(rc == 3 && out[9] == 1 && out[n] == 0xc0 && out[n + 1] == 12 + 11 &&
          out[n + 3] == 6 && len == n + 12 + (out[n + 10] << 8 | out[n + 11]),
          "NXDOMAIN: SOA owned by the zone name at 23, whole");
  n = mkq(q, "4.3.2.1.bl.example", 1, 0, 0);
  len = ask(q, n, out, 0, &rc);
  test_ok(rc == 0 && out[7] == 1 && out[9] == 1 && out[n + 16] == 0xc0 &&
          out[n + 17] == 12 + 8 && out[n + 19] == 2 &&
          !memcmp(out + n + 28, "\002ns\007example\003net", 16) &&
          len == n + 16 + 12 + 16, "listed: NS owned by the zone name at 20");
  n = mkq(q, "1.0.0.50.bl.example", 16, 0, 0);
  len = ask(q, n, out, 0, &rc);
  test_ok(len <= 512 && (out[2] & 0x02), "too big for 512: TC set, fits");
  len = ask(q, n, out, 1, &rc);
  test_ok(len > 512 && !(out[2] & 0x02) && out[7] == 40,
          "TCP: all 40 TXT records");
  n = mkq(q, "1.0.0.50.bl.example", 16, 1, 4096);
  len = ask(q, n, out, 0, &rc);
  test_ok(len > 512 && len <= 4096 && out[11] == 1 && out[len - 11] == 0 &&
          out[len - 9] == 41, "EDNS 4096: big answer with OPT last");
  n = mkq(q, "4.3.2.1.bl.example", 1, 1, 1232);
  len = ask(q, n, out, 0, &rc);
  test_ok(len && out[11] == 1 && out[len - 9] == 41 &&
          out[len - 8] == 0x04 && out[len - 7] == 0xd0,
          "EDNS query: OPT in the reply (udp 1232)");
  n = mkq(q, "4.3.2.1.bl.example", 1, 2, 1232);
  len = ask(q, n, out, 0, &rc);
  test_ok(len && rc == 16 && (out[3] & 15) == 0 && out[len - 6] == 1,
          "EDNS version 1: BADVERS");
  n = mkq(q, "4.3.2.1.bl.example", 1, 1, 1232);
  memcpy(q + n, q + n - 11, 11);                /* a second OPT */
  q[11] = 2;
  len = ask(q, n + 11, out, 0, &rc);
  test_ok(len && rc == 1 && (out[3] & 15) == 1 && out[7] == 0 &&
          out[11] == 0, "two OPT RRs: FORMERR, no OPT back");
  n = mkq(q, "4.3.2.1.bl.example", 1, 1, 1232);
  q[n - 1] = 4;                                 /* RDLENGTH past the end */
  len = ask(q, n, out, 0, &rc);
  test_ok(len && rc == 1 && out[7] == 0 && out[11] == 0,
          "OPT RDLENGTH past the packet: FORMERR, no OPT back");
  n = mkq(q, "4.3.2.1.bl.example", 1, 1, 1232);
  len = ask(q, n - 3, out, 0, &rc);
  test_ok(len && rc == 1 && out[11] == 0, "OPT RR cut off: FORMERR");
  q[11] = 2;                                    /* ARCOUNT 2, one RR */
  len = ask(q, n, out, 0, &rc);
  test_ok(len && rc == 1 && out[11] == 0, "ARCOUNT past the RRs: FORMERR");
  n = mkq(q, "4.3.2.1.bl.example", 1, 1, 1232);
  q[n - 1] = 4; memcpy(q + n, "\0\12\0\4", 4); /* EDNS option in RDATA */
  len = ask(q, n + 4, out, 0, &rc);
  test_ok(len && rc == 0 && out[7] == 1 && out[11] == 1,
          "OPT with an option inside its RDLENGTH: answered");
  n = mkq(q, "1.0.0.50.bl.example", 16, 1, 100);
  len = ask(q, n, out, 0, &rc);
  test_ok(len <= 512 && (out[2] & 0x02), "EDNS size below 512 counts as 512");
  n = mkq(q, "4.3.2.1.bl.example", 1, 0, 0);
  q[2] |= 0x28;                                  /* opcode 5 */
  len = ask(q, n, out, 0, &rc);
  test_ok(len && rc == 4 && out[2] == 0xa9,
          "opcode UPDATE: NOTIMP, opcode and RD echoed");
  n = mkq(q, "4.3.2.1.bl.example", 1, 0, 0);
  q[2] |= 0x02;                                  /* TC in a query */
  len = ask(q, n, out, 0, &rc);
  test_ok(len && rc == 4 && out[2] == 0x81, "TC in a query: NOTIMP");
  n = mkq(q, "4.3.2.1.bl.example", 252, 0, 0);
  len = ask(q, n, out, 0, &rc);
  test_ok(len && rc == 4, "AXFR: NOTIMP");
  n = mkq(q, "4.3.2.1.other.example", 1, 0, 0);
  len = ask(q, n, out, 0, &rc);
  test_ok(len && rc == 5 && !(out[2] & 0x04), "out of zone: REFUSED, no AA");
}

/* A batch (every query prepared, then every prefetch step, then every
 * answer) gives each query the bytes reply() gives it alone. */
static void t_batch(void)
{
  static const struct { const char *name; unsigned type; int edns; } c[] = {
    { "4.3.2.1.bl.example", 1, 0 }, { "4.3.2.1.BL.EXAMPLE", 16, 0 },
    { "9.9.9.9.bl.example", 1, 1 }, { "1.0.0.50.bl.example", 16, 1 },
    { "1.0.0.50.bl.example", 16, 0 }, { "bl.example", 6, 0 },
    { "x.4.3.2.1.bl.example", 1, 0 }, { "4.3.2.1.other.example", 1, 0 },
    { "04.003.2.1.bl.example", 255, 0 }, { "4.3.2.256.bl.example", 1, 0 },
    { "4.3.2.1.bl.example", 2, 2 }, { "4.3.2.1.bl.example", 99, 0 },
  };
  enum { N = sizeof c / sizeof *c };
  static uint8_t q[N][600], out[65536], one[65536];
  static struct query k[N];
  size_t n[N], len, len1;
  unsigned i, bad = 0;
  int zi, rc, zi1, rc1;

  for (i = 0; i < N; i++)
    n[i] = mkq(q[i], c[i].name, c[i].type, c[i].edns, 1232);
  q[N - 1][2] |= 0x80;                      /* a response: no reply */
  for (i = 0; i < N; i++) reply_prepare(zs, q[i], n[i], &k[i]);
  for (i = 0; i < N; i++) reply_prefetch(&k[i]);
  for (i = 0; i < N; i++) {
    len = reply_answer(zs, &k[i], q[i], out, 4096, 0, NULL, &zi, &rc);
    len1 = reply(zs, q[i], n[i], one, 4096, 0, NULL, &zi1, &rc1);
    if (len != len1 || memcmp(out, one, len) || zi != zi1 || rc != rc1)
      bad++;
  }
  test_num(bad, 0, "batched replies equal single ones, 12 kinds of query");
}

/* malformed packets: no reply, never a crash */
static void t_malformed(void)
{
  static uint8_t q[600], out[65536];
  size_t n;
  int rc;
  unsigned i, j;

  n = mkq(q, "4.3.2.1.bl.example", 1, 0, 0);
  test_num((long long)ask(q, 11, out, 0, &rc), 0, "short header");
  test_num((long long)ask(q, n - 1, out, 0, &rc), 0, "qclass cut off");
  q[2] |= 0x80;
  test_num((long long)ask(q, n, out, 0, &rc), 0, "a response: ignored");
  q[2] &= 0x7f; q[5] = 2;
  test_num((long long)ask(q, n, out, 0, &rc), 0, "two questions");
  q[5] = 1; q[12] = 64;
  test_num((long long)ask(q, n, out, 0, &rc), 0, "label longer than 63");
  q[12] = 0xc0;
  test_num((long long)ask(q, n, out, 0, &rc), 0, "compression in question");
  q[12] = 200 & 63;
  test_num((long long)ask(q, n, out, 0, &rc), 0, "label past the end");
  /* random packets: a reply is never bigger than 512 bytes over UDP */
  srand(7);
  for (i = 0; i < 200000; i++) {
    size_t len;
    n = 12 + (size_t)rand() % 80;
    for (j = 0; j < n; j++) q[j] = (uint8_t)rand();
    if (i & 1) { q[2] &= 0x01; q[4] = 0; q[5] = 1; q[6] = q[7] = q[8] = 0; }
    len = reply(zs, q, n, out, 65535, 0, NULL, (int *)&j, &rc);
    if (len > 512) break;
  }
  test_ok(i == 200000, "200000 random packets: no reply above 512 bytes");
}

/* a table big enough for the packed 16-bit index (kv cells), checked
 * against the rule it encodes: address i*7 listed with value 2 + i%3 */
static void t_bigtable(void)
{
  struct config bcfg;
  struct zoneset *big;
  char dir[] = "/tmp/t_rbld_big.XXXXXX", path[128], spec[200];
  static uint8_t q[600], out[4096];
  const char *err;
  unsigned i, bad = 0;
  FILE *f;

  memset(&bcfg, 0, sizeof bcfg);
  if (!mkdtemp(dir)) exit(111);
  snprintf(path, sizeof path, "%s/big", dir);
  f = fopen(path, "w");
  for (i = 0; i < 400000; i++) {
    uint32_t a = 0x0a000000u + i * 7;
    fprintf(f, "%u.%u.%u.%u :%u:\n", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
            a & 255, 2 + i % 3);
  }
  fprintf(f, "!10.0.0.7\n");
  fclose(f);
  bcfg.gacl = -1;
  snprintf(spec, sizeof spec, "big.example:ip4set:%s", path);
  if (!config_add(&bcfg, spec, &err) || config_check(&bcfg, 1) < 0 ||
      !(big = snapshot_build(&bcfg))) exit(111);
  unlink(path);
  rmdir(dir);
  for (i = 0; i < 20000; i++) {
    uint32_t a = 0x0a000000u + i * 3;
    char name[80];
    size_t n, len;
    int zi, rc, listed = (a - 0x0a000000u) % 7 == 0 && a != 0x0a000007u;
    snprintf(name, sizeof name, "%u.%u.%u.%u.big.example", a & 255,
             (a >> 8) & 255, (a >> 16) & 255, a >> 24);
    n = mkq(q, name, 1, 0, 0);
    len = reply(big, q, n, out, sizeof out, 0, NULL, &zi, &rc);
    if (listed ? (rc != 0 || out[len - 1] != 2 + ((a - 0x0a000000u) / 7) % 3)
               : rc != 3) {
      if (!bad) printf("# first wrong: %s listed=%d rc=%d last=%u\n", name,
                       listed, rc, out[len - 1]);
      bad++;
    }
  }
  test_num(bad, 0, "400000-entry ip4set: 20000 lookups right");
  snapshot_free(big);
  config_free(&bcfg);
}

/* the bulk reader of bare addresses, over more than one read buffer:
 * address 10.0.0.0 + 3i on line i, bare, except that every 1000th line
 * carries a value (:3:), every 1000th + 1 is excluded instead, every
 * 1000th + 2 has a CR before its newline and every 1000th + 3 leading
 * zeros; a line "300.1.1.1" in between is refused, not read as 44.1.1.1 */
static void t_bulk(void)
{
  struct config bcfg;
  struct zoneset *big;
  char dir[] = "/tmp/t_rbld_bulk.XXXXXX", path[128], spec[200];
  static uint8_t q[600], out[4096];
  const char *err;
  unsigned i, bad = 0, n = 150000;
  FILE *f;

  memset(&bcfg, 0, sizeof bcfg);
  if (!mkdtemp(dir)) exit(111);
  snprintf(path, sizeof path, "%s/bulk", dir);
  f = fopen(path, "w");
  for (i = 0; i < n; i++) {
    uint32_t a = 0x0a000000u + i * 3;
    unsigned k = i % 1000;
    fprintf(f, k == 1 ? "!" : "");
    fprintf(f, k == 3 ? "%03u.%03u.%03u.%03u" : "%u.%u.%u.%u", a >> 24,
            (a >> 16) & 255, (a >> 8) & 255, a & 255);
    fprintf(f, k == 0 ? " :3:\n" : k == 2 ? "\r\n" : "\n");
    if (i == 77777) fprintf(f, "300.1.1.1\n");
  }
  fclose(f);
  bcfg.gacl = -1;
  snprintf(spec, sizeof spec, "bulk.example:ip4set:%s", path);
  if (!config_add(&bcfg, spec, &err) || config_check(&bcfg, 1) < 0 ||
      !(big = snapshot_build(&bcfg))) exit(111);
  unlink(path);
  rmdir(dir);
  for (i = 0; i < n + 10; i++) {
    uint32_t a = 0x0a000000u + i * 3 + (i % 7 == 6);
    char name[80];
    size_t len;
    int zi, rc, want = i < n && i % 7 != 6 ? (i % 1000 == 1 ? 3 : 0) : 3;
    snprintf(name, sizeof name, "%u.%u.%u.%u.bulk.example", a & 255,
             (a >> 8) & 255, (a >> 16) & 255, a >> 24);
    len = mkq(q, name, 1, 0, 0);
    len = reply(big, q, len, out, sizeof out, 0, NULL, &zi, &rc);
    if (rc != want || (!rc && out[len - 1] != (i % 1000 == 0 ? 3 : 2))) {
      if (!bad) printf("# first wrong: %s rc=%d\n", name, rc);
      bad++;
    }
  }
  snprintf(spec, sizeof spec, "1.1.1.44.bulk.example");
  i = (unsigned)mkq(q, spec, 1, 0, 0);
  reply(big, q, i, out, sizeof out, 0, NULL, &(int){0}, &(int){0});
  test_num(bad, 0, "bare addresses in bulk: 150010 lookups right");
  test_num(out[3] & 15, 3, "bulk: 300.1.1.1 refused");
  snapshot_free(big);
  config_free(&bcfg);
}

/* a line of 65536 bytes or more is ignored wherever it lies: here
 * "3.3.3.3" and spaces, 70,000 bytes, once where the first read holds
 * all of it and once where that read ends inside it (it was listed in
 * the first case and ignored in the second); the lines after it load */
static void t_longline(void)
{
  static const unsigned at[2] = { 500000, 1048104 };
  struct config bcfg;
  struct zoneset *lz;
  char dir[] = "/tmp/t_rbld_long.XXXXXX", path[2][128], spec[300];
  static uint8_t q[600], out[4096];
  const char *err;
  unsigned i, j;
  FILE *f;

  memset(&bcfg, 0, sizeof bcfg);
  if (!mkdtemp(dir)) exit(111);
  bcfg.gacl = -1;
  for (j = 0; j < 2; j++) {
    snprintf(path[j], sizeof path[j], "%s/long%u", dir, j);
    if (!(f = fopen(path[j], "w"))) exit(111);
    fprintf(f, "1.1.1.1\n");
    for (i = 0; i < at[j] / 8; i++) fprintf(f, "4.4.4.4\n");
    fprintf(f, "3.3.3.3%69993s\n2.2.2.2\n", "");
    fclose(f);
    snprintf(spec, sizeof spec, "l%u.example:ip4set:%s", j, path[j]);
    if (!config_add(&bcfg, spec, &err)) exit(111);
  }
  if (config_check(&bcfg, 1) < 0 || !(lz = snapshot_build(&bcfg)))
    exit(111);
  for (j = 0; j < 2; j++) {
    int rc3, rc2;
    size_t n;
    unlink(path[j]);
    snprintf(spec, sizeof spec, "3.3.3.3.l%u.example", j);
    n = mkq(q, spec, 1, 0, 0);
    reply(lz, q, n, out, sizeof out, 0, NULL, &(int){0}, &rc3);
    snprintf(spec, sizeof spec, "2.2.2.2.l%u.example", j);
    n = mkq(q, spec, 1, 0, 0);
    reply(lz, q, n, out, sizeof out, 0, NULL, &(int){0}, &rc2);
    test_num((unsigned)rc3, 3, j ? "long line cut by a read: ignored"
                                 : "long line whole in a read: ignored");
    test_num((unsigned)rc2, 0, "the line after a long line: listed");
  }
  rmdir(dir);
  snapshot_free(lz);
  config_free(&bcfg);
}

/* one line of t_bulk_forms: an address in one of 15 spellings, good
 * and bad, bare ones for the vector reader and its edges, the rest
 * for the byte-wise reader and line(); o holds the octets meant */
static void bulk_form(FILE *f, unsigned k, const unsigned o[4], int pad)
{
  static const char *const fmt[] = {
    "%u.%u.%u.%u", "%u.%u.%u.%u", "%u.%u.%u.%u", "%u.%u.%u.%u",
    "%03u.%u.%02u.%03u", "%04u.%u.%u.%u", "%u.%u.%u.%u9", "%u.%u.%u",
    "%u.%u.%u.%u.1", "%u..%u.%u.%u", "%u.%ux.%u.%u", "!%u.%u.%u.%u",
    "%ux%u.%u.%u", "%u.%ux%u.%u", "%u.%u.%ux%u" };

  fprintf(f, fmt[k % 15], o[0], o[1], o[2], o[3]);
  fprintf(f, pad ? " \n" : "\n");
}

/* The bulk readers against line(): the same lines, bare in one zone
 * and each with a trailing blank (so only line() reads them) in the
 * other, must list the same addresses.  Octets of 1 to 3 digits, some
 * 256 to 999, some with leading zeros or 4 digits, and lines of 3 or 5
 * octets, an empty octet, a letter, an exclusion, at every offset of
 * the 16-byte window the vector reader takes. */
static void t_bulk_forms(void)
{
  struct config bcfg;
  struct zoneset *two;
  char dir[] = "/tmp/t_rbld_forms.XXXXXX", pa[128], pb[128], spec[200];
  static uint8_t q[600], oa[4096], ob[4096];
  static unsigned oct[40000][4];
  const char *err;
  unsigned i, j, bad = 0, listed = 0, n = 40000;
  uint32_t r = 12345;
  FILE *fa, *fb;

  memset(&bcfg, 0, sizeof bcfg);
  if (!mkdtemp(dir)) exit(111);
  snprintf(pa, sizeof pa, "%s/a", dir);
  snprintf(pb, sizeof pb, "%s/b", dir);
  fa = fopen(pa, "w");
  fb = fopen(pb, "w");
  for (i = 0; i < n; i++) {
    for (j = 0; j < 4; j++) {
      r = r * 1103515245u + 12345u;
      oct[i][j] = (r >> 16) % (i % 50 == 7 ? 1000 : (r >> 8) % 3 ? 256 : 10);
    }
    r = r * 1103515245u + 12345u;
    bulk_form(fa, (i % 5 ? 0 : (r >> 16)), oct[i], 0);
    bulk_form(fb, (i % 5 ? 0 : (r >> 16)), oct[i], 1);
  }
  fclose(fa);
  fclose(fb);
  bcfg.gacl = -1;
  snprintf(spec, sizeof spec, "a.example:ip4set:%s", pa);
  if (!config_add(&bcfg, spec, &err)) exit(111);
  snprintf(spec, sizeof spec, "b.example:ip4set:%s", pb);
  if (!config_add(&bcfg, spec, &err) || config_check(&bcfg, 1) < 0 ||
      !(two = snapshot_build(&bcfg))) exit(111);
  unlink(pa);
  unlink(pb);
  rmdir(dir);
  for (i = 0; i < n; i++) {
    char name[80];
    size_t la, lb;
    int zi, ra, rb;
    snprintf(name, sizeof name, "%u.%u.%u.%u.a.example", oct[i][3] & 255,
             oct[i][2] & 255, oct[i][1] & 255, oct[i][0] & 255);
    la = reply(two, q, mkq(q, name, 1, 0, 0), oa, sizeof oa, 0, NULL, &zi,
               &ra);
    name[strlen(name) - 9] = 'b';
    lb = reply(two, q, mkq(q, name, 1, 0, 0), ob, sizeof ob, 0, NULL, &zi,
               &rb);
    listed += ra == 0;
    if (ra != rb || la != lb || (ra == 0 && memcmp(oa + la - 4, ob + lb - 4,
                                                   4))) {
      if (!bad) printf("# first differing: %s rc %d/%d\n", name, ra, rb);
      bad++;
    }
  }
  test_num(bad, 0, "bulk readers agree with line() on 40000 lines");
  test_num(listed > 30000 && listed < 38000, 1,
           "bulk forms: most, not all, listed");
  snapshot_free(two);
  config_free(&bcfg);
}

/* ktab against a plain scan, for each index width and cell layout:
 * sparse keys (small index), keys crowded into one /16 (the top bits
 * alone would leave long slots), values of 1, 2 and 4 bytes, repeated
 * keys with several values */
static void t_ktab(void)
{
  static const struct { uint32_t base, step; unsigned n; uint32_t maxv;
                        const char *name; } c[] = {
    { 0x0a000000u, 0x00010003u, 500, 200, "sparse, 1-byte values" },
    { 0xc0a80000u, 1, 3000, 250, "one /16, 1-byte values" },
    { 0xc0a80000u, 3, 3000, 3000, "one /16, 2-byte values" },
    { 0x01000000u, 0x3f1u, 200000, 70000, "200000 keys, 4-byte values" },
    { 0xe0000000u, 256, 5000, 5000, "/24 steps, 2-byte values" },
  };
  unsigned i, j, bad;

  for (i = 0; i < sizeof c / sizeof c[0]; i++) {
    struct ktab t;
    uint64_t *v = malloc((c[i].n + 1) * sizeof *v);
    size_t p;
    if (!v) { test_ok(0, "ktab: memory"); return; }
    for (j = 0; j < c[i].n; j++)
      v[j] = (uint64_t)(c[i].base + j * c[i].step) << 32 |
             (1 + j % c[i].maxv);
    v[c[i].n] = (uint64_t)c[i].base << 32 | c[i].maxv;   /* 2nd value */
    if (!test_ok(ktab_build(&t, v, c[i].n + 1), c[i].name)) continue;
    bad = 0;
    for (j = 0; j < c[i].n; j++) {
      uint32_t k = c[i].base + j * c[i].step;
      ktab_prefetch(&t, k);
      ktab_prefetch_keys(&t, k);
      p = ktab_find(&t, k);
      if (p == t.n || ktab_val(&t, p) != 1 + j % c[i].maxv ||
          ktab_key(&t, p + 1, k) != (j == 0)) bad++;
      if (j == 0 && ktab_val(&t, p + 1) != c[i].maxv) bad++;
      if (c[i].step > 1 && ktab_find(&t, k + 1) != t.n) bad++;
    }
    if (ktab_find(&t, c[i].base - 1) != t.n) bad++;
    test_num(bad, 0, c[i].name);
    ktab_free(&t);
  }
}

static int cmp_u64(const void *a, const void *b)
{
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

  return x < y ? -1 : x > y;
}

/* the big-table build (counted into slots, each slot sorted alone)
 * against qsort: random keys in random order, one /16 crowded with
 * 3000 keys (a slot sorted by qsort), repeated keys with several values
 * and exact duplicates, exclusions (value 0) that must come first */
static void t_ktab_big(void)
{
  const size_t n = 700000;
  uint64_t *v = malloc(n * sizeof *v), *ref = malloc(n * sizeof *ref);
  uint32_t x = 12345;
  size_t i, m, p, bad = 0;
  struct ktab t;

  if (!v || !ref) { test_ok(0, "ktab big: memory"); return; }
  v[0] = (uint64_t)x << 32 | 1;      /* the rules below copy earlier keys */
  for (i = 1; i < n; i++) {
    x = x * 1103515245u + 12345u;
    if (i % 200 == 0) v[i] = v[i / 2] ^ 1;           /* same key, new value */
    else if (i % 301 == 0) v[i] = v[i / 3];          /* exact duplicate */
    else if (i % 233 == 0) v[i] = (v[i - 1] >> 32) << 32;   /* exclusion */
    else if (i % 5 == 0 && i < 15000)
      v[i] = (uint64_t)(0xc0a80000u | (x >> 16)) << 32 | (x & 0xffff);
    else v[i] = (uint64_t)(x ^ (x >> 13) * 77u) << 32 | (1 + x % 70000);
  }
  memcpy(ref, v, n * sizeof *v);
  qsort(ref, n, sizeof *ref, cmp_u64);
  for (i = 0, m = 0; i < n; i++)
    if (!m || ref[m - 1] != ref[i]) ref[m++] = ref[i];
  if (!test_ok(ktab_build(&t, v, n), "ktab big: built")) return;
  test_num(t.n, m, "ktab big: duplicates dropped");
  for (i = 0; i < m; i++) {
    uint32_t k = (uint32_t)(ref[i] >> 32);
    size_t first = i;
    if (i && (ref[i - 1] >> 32) == k) continue;
    ktab_prefetch(&t, k);
    ktab_prefetch_keys(&t, k);
    p = ktab_find(&t, k);
    for (; i < m && (uint32_t)(ref[i] >> 32) == k; i++, p++)
      if (p >= t.n || !ktab_key(&t, p, k) ||
          ktab_val(&t, p) != (uint32_t)ref[i]) bad++;
    if (ktab_key(&t, p, k)) bad++;
    if ((i >= m || (uint32_t)(ref[i] >> 32) != k + 1) &&
        ktab_find(&t, k + 1) != t.n) bad++;
    if ((first == 0 || (uint32_t)(ref[first - 1] >> 32) != k - 1) &&
        ktab_find(&t, k - 1) != t.n) bad++;        /* misses either side */
    i--;
  }
  test_num(bad, 0, "ktab big: every key, every value, in order");
  ktab_free(&t);
  free(ref);
}

int main(void)
{
  t_ktab();
  t_ktab_big();
  t_ip4range();
  t_ip6();
  t_time();
  t_subst();
  t_lower();
  t_ip4_text();
  t_qinfo_ip();
  t_a_txt();
  setup();
  t_reply();
  t_batch();
  t_malformed();
  t_bigtable();
  t_bulk();
  t_bulk_forms();
  t_longline();
  snapshot_free(zs);
  config_free(&cfg);
  return test_done();
}
