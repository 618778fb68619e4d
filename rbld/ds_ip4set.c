/* ds_ip4set.c - rbldnsd's classic ip4set.
 *
 * Every entry is cut into /32, /24, /16 and /8 pieces, one array each
 * (a /26 becomes 64 /32 entries, a /12 sixteen /16 ones).  A query looks
 * in the /32 array, then /24, /16, /8; the first array that holds the
 * address decides, with every entry it holds answering, and an exclusion
 * there wins.  That is rbldnsd's rule and answers must follow it, so this
 * is NOT a longest-prefix match: a /32 hides a covering /24, while a /26
 * and a /28 over the same address both answer.
 * An entry is one 64-bit word: address << 32 | value index (0 =
 * exclusion, which therefore sorts first). */
#include <stdlib.h>
#include <string.h>
#include "rbld.h"

struct ip4set {
  struct vec64 b[4];          /* while loading: /32, /24, /16, /8 */
  struct ktab k[4];           /* then */
  struct rrtab rr;
  unsigned char live[4];      /* the tables not empty, in order */
  unsigned nlive;
};

static int start(struct dataset *ds, struct dsctx *c)
{
  (void)c;
  if (!ds->d) ds->d = calloc(1, sizeof(struct ip4set));
  return ds->d != NULL;
}

static int add(struct ip4set *s, int i, uint32_t a, uint32_t count,
               uint32_t v)
{
  uint32_t step = i == 0 ? 1 : 1u << (i * 8);

  if (i > 3) { i = 3; a = 0; count = 256; step = 1u << 24; }
  for (; count; count--, a += step)
    if (!vec64_push(&s->b[i], (uint64_t)a << 32 | v)) return 0;
  return 1;
}

/* rbldnsd's split of a..b into whole-octet pieces */
static int expand(struct ip4set *s, uint32_t a, uint32_t b, uint32_t v)
{
  int bits;

  for (bits = 0; bits < 24; bits += 8) {
    int i = bits / 8;
    if ((a | 255u) >= b) {
      if (b - a == 255u) return add(s, i + 1, a << bits, 1, v);
      return add(s, i, a << bits, b - a + 1, v);
    }
    if (a & 255u) {
      if (!add(s, i, a << bits, 256u - (a & 255u), v)) return 0;
      a = (a >> 8) + 1;
    } else a >>= 8;
    if ((b & 255u) != 255u) {
      if (!add(s, i, (b & ~255u) << bits, (b & 255u) + 1, v)) return 0;
      b = (b >> 8) - 1;
    } else b >>= 8;
  }
  return add(s, 3, a << 24, b - a + 1, v);
}

/* Shared with the other IPv4 types: the address part of a line. */
int ip4_entry(struct dsctx *c, char **sp, uint32_t *a, uint32_t *b)
{
  const char *e;
  int bits = ip4range(*sp, a, b, &e);

  if (bits < 0 || (*e && !ISSPACE(*e) && !ISCOMMENT(*e) && *e != ':')) {
    ds_warn(c, "invalid address");
    return 0;
  }
  if (bits < 32 && (*a & ~(bits ? ~(0xffffffffu >> bits) : 0u))) {
    if (!g_opts.accept_host_bits) {
      ds_warn(c, "invalid address (host bits set; -e accepts them)");
      return 0;
    }
    *a &= bits ? ~(0xffffffffu >> bits) : 0u;
  }
  if (c->maxrange4 && *b - *a >= c->maxrange4) {
    ds_warn(c, "range too large for $MAXRANGE4, ignored");
    return 0;
  }
  *sp = skipspace((char *)e);
  return 1;
}

/* The value after the key: default, per-entry, or none (exclusion). */
int entry_value(struct dsctx *c, char *s, int excl, const uint8_t **rr)
{
  uint8_t *v;

  if (excl) { *rr = NULL; return 1; }
  if (!*s || ISCOMMENT(*s)) { *rr = c->def_rr; return 1; }
  if (!parse_a_txt(s, c->def_rr, c, &v)) return 0;
  *rr = v;
  return 1;
}

/* A line starting with ':' sets the default value for the file. */
int default_line(struct dsctx *c, char *s)
{
  uint8_t *v;

  if (parse_a_txt(s, c->def_rr, c, &v)) c->def_rr = v;
  return !c->fatal;
}

/* "a.b.c.d" and nothing else, by far the commonest line: read in one
 * go.  0 for anything else (which the general parser then reads, and
 * reads the same way where both apply). */
static int bare_addr(const char *s, uint32_t *a)
{
  uint32_t x = 0, o;
  int i;

  for (i = 0; i < 4; i++) {
    if (*s < '0' || *s > '9') return 0;
    o = (uint32_t)(*s++ - '0');
    while (*s >= '0' && *s <= '9') {
      o = o * 10 + (uint32_t)(*s++ - '0');
      if (o > 255) return 0;
    }
    x = x << 8 | o;
    if (*s++ != (i < 3 ? '.' : 0)) return 0;
  }
  *a = x;
  return 1;
}

static int line(struct dataset *ds, char *s, struct dsctx *c)
{
  struct ip4set *set = ds->d;
  const uint8_t *rr;
  uint32_t a, b, v;
  int excl = 0;

  if (*s == ':') return default_line(c, s);
  if (*s == '!') { excl = 1; s = skipspace(s + 1); }
  if (bare_addr(s, &a)) {
    struct vec64 *b0 = &set->b[0];
    v = 0;
    if (!excl) {
      if (set->rr.n && c->def_rr == set->rr.last) v = set->rr.lasti;
      else if (!(v = rrtab_add(&set->rr, c->def_rr))) return 0;
    }
    if (b0->n < b0->a) { b0->v[b0->n++] = (uint64_t)a << 32 | v; return 1; }
    return vec64_push(b0, (uint64_t)a << 32 | v);
  }
  if (!ip4_entry(c, &s, &a, &b)) return 1;
  if (!entry_value(c, s, excl, &rr)) return !c->fatal;
  v = 0;
  if (rr && !(v = rrtab_add(&set->rr, rr))) return 0;
  return expand(set, a, b, v);
}

#ifdef RBLD_SSE2
/* One "a.b.c.d\n" line among the 16 bytes at s: its length, and the
 * address in *x; 0 if it is not such a line.  The non-digits' places
 * come from one vector compare: the first three must be dots, the
 * fourth the newline, and every octet 1 to 3 digits long (longer ones,
 * "0001", are the byte-wise reader's to judge). */
static inline unsigned line16(const char *s, uint32_t *x)
{
  const __m128i b = _mm_loadu_si128((const __m128i *)(const void *)s);
  uint8_t dd[16 + 4];
  unsigned nd = ~digits16(b, dd) & 0xffffu;
  unsigned dots = (unsigned)_mm_movemask_epi8(
                    _mm_cmpeq_epi8(b, _mm_set1_epi8('.')));
  unsigned nl = (unsigned)_mm_movemask_epi8(
                  _mm_cmpeq_epi8(b, _mm_set1_epi8('\n')));
  unsigned p1, p2, p3, p4, ok;
  uint32_t o1, o2, o3, o4;

  p1 = (unsigned)__builtin_ctz(nd | 0x10000u); nd &= nd - 1;
  p2 = (unsigned)__builtin_ctz(nd | 0x10000u); nd &= nd - 1;
  p3 = (unsigned)__builtin_ctz(nd | 0x10000u); nd &= nd - 1;
  p4 = (unsigned)__builtin_ctz(nd | 0x10000u);
  ok = (dots >> p1) & (dots >> p2) & (dots >> p3) & (nl >> p4) & 1;
  ok &= (p1 - 1 <= 2) & (p2 - p1 - 2 <= 2) & (p3 - p2 - 2 <= 2) &
        (p4 - p3 - 2 <= 2);
  if (!ok) return 0;
  o1 = octet_value(dd, p1);
  o2 = octet_value(dd + p1 + 1, p2 - p1 - 1);
  o3 = octet_value(dd + p2 + 1, p3 - p2 - 1);
  o4 = octet_value(dd + p3 + 1, p4 - p3 - 1);
  if ((o1 | o2 | o3 | o4) > 255) return 0;
  *x = o1 << 24 | o2 << 16 | o3 << 8 | o4;
  return p4 + 1;
}
#endif

/* Lines that are "a.b.c.d" and a newline, one after another, as long as
 * they come: the bulk of a big list, read here without a call or a
 * copy each.  Anything else (a value, a comment, a CR, a line cut by
 * the end of the buffer) stops it, and line() reads that line. */
static size_t bulk(struct dataset *ds, struct dsctx *c, const char *p,
                   const char *end)
{
  struct ip4set *set = ds->d;
  struct vec64 *b0 = &set->b[0];
  const char *s = p, *q;
  uint32_t x, o, v = 0;
  int i;

  for (;; s = q) {
#ifdef RBLD_SSE2
    unsigned n;
    if (end - s >= 16 && (n = line16(s, &x))) q = s + n;
    else
#endif
    for (q = s, x = 0, i = 0; i < 4; i++) {
      if (q >= end || *q < '0' || *q > '9') return (size_t)(s - p);
      o = (uint32_t)(*q++ - '0');
      while (q < end && *q >= '0' && *q <= '9') {
        o = o * 10 + (uint32_t)(*q++ - '0');
        if (o > 255) return (size_t)(s - p);
      }
      x = x << 8 | o;
      if (q >= end || *q++ != (i < 3 ? '.' : '\n')) return (size_t)(s - p);
    }
    if (!v && !(v = rrtab_add(&set->rr, c->def_rr))) break;
    if (b0->n < b0->a) b0->v[b0->n++] = (uint64_t)x << 32 | v;
    else if (!vec64_push(b0, (uint64_t)x << 32 | v)) break;
    c->line++;
  }
  c->fatal = 1;
  return (size_t)(s - p);
}

static int finish(struct dataset *ds, struct dsctx *c)
{
  struct ip4set *s = ds->d;
  int i;

  (void)c;
  ds->entries = 0;
  for (i = 0; i < 4; i++) {
    if (!ktab_build(&s->k[i], s->b[i].v, s->b[i].n)) return 0;
    s->b[i].v = NULL;
    ds->entries += s->k[i].n;
  }
  for (s->nlive = 0, i = 0; i < 4; i++)
    if (s->k[i].n) s->live[s->nlive++] = (unsigned char)i;
  return 1;
}

static const uint32_t mask[4] =
  { 0xffffffffu, 0xffffff00u, 0xffff0000u, 0xff000000u };

static void prefetch(const struct dataset *ds, struct qinfo *qi, int step)
{
  const struct ip4set *s = ds->d;
  unsigned i;

  if (!qi->ip4ok) return;
  for (i = 0; i < s->nlive; i++) {
    const struct ktab *t = &s->k[s->live[i]];
    if (step == 0) ktab_prefetch(t, qi->ip4 & mask[s->live[i]]);
    else ktab_prefetch_keys(t, qi->ip4 & mask[s->live[i]]);
  }
}

static int query(const struct dataset *ds, const struct qinfo *qi,
                 struct answer *a)
{
  const struct ip4set *s = ds->d;
  char ip[16];
  unsigned i;

  if (!qi->ip4ok) return 0;
  /* the tables' misses in parallel rather than one after another (a
   * batch's queries have had theirs asked for already) */
  if (!qi->prefetched) {
    for (i = 0; i < s->nlive; i++)
      ktab_prefetch(&s->k[s->live[i]], qi->ip4 & mask[s->live[i]]);
    for (i = 0; i < s->nlive; i++)
      ktab_prefetch_keys(&s->k[s->live[i]], qi->ip4 & mask[s->live[i]]);
  }
  for (i = 0; i < s->nlive; i++) {
    const struct ktab *t = &s->k[s->live[i]];
    uint32_t k = qi->ip4 & mask[s->live[i]];
    size_t p = ktab_find(t, k);
    if (p == t->n) continue;
    if (ktab_val(t, p) == 0) return 0;          /* excluded here */
    if (qi->tflag & QT_TXT) ip4_text(qi->ip4, ip);
    for (; ktab_key(t, p, k); p++)
      ans_a_txt(a, qi->tflag, s->rr.v[ktab_val(t, p)], ip, ds);
    return Q_FOUND;
  }
  return 0;
}

static void release(struct dataset *ds)
{
  struct ip4set *s = ds->d;
  int i;

  for (i = 0; i < 4; i++) { free(s->b[i].v); ktab_free(&s->k[i]); }
  rrtab_free(&s->rr);
  free(s);
  ds->d = NULL;
}

const struct dstype dst_ip4set = {
  "ip4set", DSTF_IP4REV, start, line, finish, query, release, bulk,
  prefetch
};
