/* ds_dnset.c - domain names with values.  "name" lists the name only,
 * "*.name" its subdomains only, ".name" both.  Two hash tables (plain
 * and wildcard) over records packed in one blob; a query tries the
 * exact name first (which decides, even when it is an exclusion), then
 * the longest listed wildcard parent.  TXT "$" is the listed entry's
 * name, as rbldnsd does. */
#include <stdlib.h>
#include <string.h>
#include "rbld.h"

/* record in the blob: value u32, next u32 (offset + 1 of the next record
 * for the same name, 0 = last), length u8, name (wire form, no final 0) */
#define R_V 0
#define R_NEXT 4
#define R_LEN 8
#define R_NAME 9

struct offs { uint32_t *v; size_t n, a; };
struct dnhash {
  uint32_t *slot;             /* tag << obits | offset + 1 of a name's
                                 first record */
  uint32_t mask;
  uint32_t omask;             /* the offset bits of a slot */
  unsigned obits;             /* how many; the rest is a tag from the
                                 hash, so a probe of another name's slot
                                 rarely has to read the record */
  unsigned minlab, maxlab;
};
struct dnset {
  uint8_t *blob;
  size_t bn, ba;
  struct offs lp, lw;         /* records, while loading */
  struct dnhash p, w;
  struct rrtab rr;
};

static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4);
                                          return v; }
static void set32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

/* Eight bytes a step (a byte at a time was a chain of multiplies as
 * long as the name, the dearest part of a lookup); the last word is
 * zero-padded, and the length is in the seed so padding cannot make
 * two names alike. */
static uint32_t hash(const uint8_t *s, unsigned n)
{
  const uint64_t m = 0x9e3779b97f4a7c15ull;
  uint64_t h = (n + 1) * m, w;
  unsigned i;

  for (; n >= 8; n -= 8, s += 8) {
    memcpy(&w, s, 8);
    h = (h ^ w) * m;
    h ^= h >> 29;
  }
  if (n) {
    for (w = 0, i = 0; i < n; i++) w |= (uint64_t)s[i] << (8 * i);
    h = (h ^ w) * m;
  }
  h ^= h >> 32;
  h *= m;
  return (uint32_t)(h >> 32);
}

static int start(struct dataset *ds, struct dsctx *c)
{
  struct dnset *s;

  (void)c;
  if (ds->d) return 1;
  if (!(s = ds->d = calloc(1, sizeof *s))) return 0;
  s->p.minlab = s->w.minlab = LAB_MAX;
  return 1;
}

static int push(struct offs *o, uint32_t off)
{
  if (o->n == o->a) {
    size_t na = o->a ? o->a * 2 : 1024;
    uint32_t *nv = xrealloc(o->v, na * sizeof *nv);
    if (!nv) return 0;
    o->v = nv;
    o->a = na;
  }
  o->v[o->n++] = off;
  return 1;
}

static long record(struct dnset *s, const uint8_t *dn, unsigned len0,
                   uint32_t v)
{
  size_t need = R_NAME + len0, off = s->bn;

  if (off + need > 0xfffffff0u) return -1;
  if (s->bn + need > s->ba) {
    size_t na = s->ba ? s->ba * 2 : 65536;
    uint8_t *nb;
    while (na < s->bn + need) na *= 2;
    if (!(nb = xrealloc(s->blob, na))) return -1;
    s->blob = nb;
    s->ba = na;
  }
  set32(s->blob + off + R_V, v);
  set32(s->blob + off + R_NEXT, 0);
  s->blob[off + R_LEN] = (uint8_t)len0;
  memcpy(s->blob + off + R_NAME, dn, len0);
  s->bn += need;
  return (long)off;
}

static void labels(struct dnhash *h, unsigned nlab)
{
  if (nlab > h->maxlab) h->maxlab = nlab;
  if (nlab < h->minlab) h->minlab = nlab;
}

/* parse_dn, dn_lower and dn_labels in one pass (the names are most of
 * the load): the name at s to lowercased wire form; NULL when it is not
 * a valid name, else what follows it.  A name that would not fit stops
 * being copied as soon as it is known not to. */
static char *name_lower(char *s, uint8_t *dn, unsigned *len,
                        unsigned *nlab)
{
  size_t lab = 0, o = 1, l;
  unsigned n = 0;
  char *p;

  for (p = s; ; p++) {
    uint8_t ch = (uint8_t)*p;
    if (ch == '.' || ch == 0 || ISSPACE(ch)) {
      l = o - lab - 1;
      if (ch != '.' && l == 0) break;          /* after a final dot */
      if (l == 0 || l > 63 || lab + l + 2 > DN_MAX) return NULL;
      dn[lab] = (uint8_t)l;
      lab = o++;
      n++;
      if (ch != '.') break;
      continue;
    }
    if (o >= DN_MAX) return NULL;
    dn[o++] = (ch >= 'A' && ch <= 'Z') ? (uint8_t)(ch + 32) : ch;
  }
  if (!n) return NULL;
  dn[lab] = 0;
  *len = (unsigned)lab + 1;
  *nlab = n;
  return skipspace(p);
}

static int line(struct dataset *ds, char *s, struct dsctx *c)
{
  struct dnset *set = ds->d;
  uint8_t dn[DN_MAX + 1];
  const uint8_t *rr;
  unsigned len, nlab;
  int excl = 0, wild, plain;
  uint32_t v = 0;
  long off;

  if (*s == ':') return default_line(c, s);
  if (*s == '!') { excl = 1; s = skipspace(s + 1); }
  if (*s == '.') { wild = plain = 1; s++; }
  else if (s[0] == '*' && s[1] == '.') { wild = 1; plain = 0; s += 2; }
  else { wild = 0; plain = 1; }
  if (!(s = name_lower(s, dn, &len, &nlab))) {
    ds_warn(c, "invalid domain name");
    return 1;
  }
  if (!entry_value(c, s, excl, &rr)) return !c->fatal;
  if (rr && !(v = rrtab_add(&set->rr, rr))) return 0;
  if (plain) {
    if ((off = record(set, dn, len - 1, v)) < 0 ||
        !push(&set->lp, (uint32_t)off)) return 0;
    labels(&set->p, nlab);
  }
  if (wild) {
    if ((off = record(set, dn, len - 1, v)) < 0 ||
        !push(&set->lw, (uint32_t)off)) return 0;
    labels(&set->w, nlab);
  }
  return 1;
}

static int same_name(const uint8_t *r, const uint8_t *dn, unsigned len0)
{
  return r[R_LEN] == len0 && !memcmp(r + R_NAME, dn, len0);
}

static uint32_t tag(const struct dnhash *h, uint32_t hv)
{
  return h->obits >= 32 ? 0 : (hv >> h->obits) << h->obits;
}

static void insert(struct dnset *s, struct dnhash *h, uint32_t off,
                   uint32_t hv)
{
  uint8_t *r = s->blob + off, *q;
  uint32_t k = hv & h->mask;

  for (;; k = (k + 1) & h->mask) {
    if (!h->slot[k]) { h->slot[k] = tag(h, hv) | (off + 1); return; }
    if ((h->slot[k] & ~h->omask) != tag(h, hv)) continue;
    q = s->blob + (h->slot[k] & h->omask) - 1;
    if (!same_name(q, r + R_NAME, r[R_LEN])) continue;
    for (;;) {                         /* walk the chain, then append */
      if (get32(q + R_V) == get32(r + R_V)) return;
      if (!get32(q + R_NEXT)) { set32(q + R_NEXT, off + 1); return; }
      q = s->blob + get32(q + R_NEXT) - 1;
    }
  }
}

#define AHEAD 16

/* Every record of the list into the table; a repeated name is chained
 * behind its first record, an identical (name, value) dropped.  The
 * slots are random reads: each is asked for AHEAD records early. */
static int build(struct dnset *s, struct dnhash *h, struct offs *o)
{
  size_t size = 16, i;
  uint32_t hv[AHEAD];

  while (size < o->n * 2) size *= 2;
  if (!(h->slot = big_alloc(size * sizeof *h->slot))) return 0;
  memset(h->slot, 0, size * sizeof *h->slot);
  h->mask = (uint32_t)size - 1;
  for (h->obits = 1; h->obits < 32 && (s->bn + 1) >> h->obits; h->obits++) ;
  h->omask = h->obits >= 32 ? 0xffffffffu : (1u << h->obits) - 1;
  for (i = 0; i < o->n + AHEAD; i++) {
    if (i >= AHEAD)
      insert(s, h, o->v[i - AHEAD], hv[(i - AHEAD) % AHEAD]);
    if (i < o->n) {
      const uint8_t *r = s->blob + o->v[i];
      hv[i % AHEAD] = hash(r + R_NAME, r[R_LEN]);
      __builtin_prefetch(&h->slot[hv[i % AHEAD] & h->mask]);
    }
  }
  free(o->v);
  memset(o, 0, sizeof *o);
  return 1;
}

static int finish(struct dataset *ds, struct dsctx *c)
{
  struct dnset *s = ds->d;

  (void)c;
  ds->entries = s->lp.n + s->lw.n;
  if (s->bn && s->bn < s->ba) {
    uint8_t *nb = realloc(s->blob, s->bn);
    if (nb) { s->blob = nb; s->ba = s->bn; }
  }
  return build(s, &s->p, &s->lp) && build(s, &s->w, &s->lw);
}

static const uint8_t *find(const struct dnset *s, const struct dnhash *h,
                           const uint8_t *dn, unsigned len0, uint32_t hv)
{
  uint32_t k, x, t = tag(h, hv);

  for (k = hv & h->mask; (x = h->slot[k]); k = (k + 1) & h->mask) {
    const uint8_t *r;
    if ((x & ~h->omask) != t) continue;
    r = s->blob + (x & h->omask) - 1;
    if (same_name(r, dn, len0)) return r;
  }
  return NULL;
}

static int answer_all(const struct dataset *ds, const uint8_t *r,
                      const struct qinfo *qi, struct answer *a)
{
  const struct dnset *s = ds->d;
  const uint8_t *q;
  uint8_t name0[DN_MAX + 1];
  char name[DN_MAX + 2];

  for (q = r; ; q = s->blob + get32(q + R_NEXT) - 1) {
    if (!get32(q + R_V)) return 0;            /* excluded */
    if (!get32(q + R_NEXT)) break;
  }
  memcpy(name0, r + R_NAME, r[R_LEN]);
  name0[r[R_LEN]] = 0;
  dn_to_text(name0, name, sizeof name);
  for (q = r; ; q = s->blob + get32(q + R_NEXT) - 1) {
    ans_a_txt(a, qi->tflag, s->rr.v[get32(q + R_V)], name, ds);
    if (!get32(q + R_NEXT)) break;
  }
  return Q_FOUND;
}

/* step 0: the exact name's slot; step 1: the record that slot points
 * to, when its tag says it may be the name (the wildcard parents' slots
 * are left to query(), which asks for them all before reading any) */
static void prefetch(const struct dataset *ds, struct qinfo *qi, int step)
{
  const struct dnset *s = ds->d;
  uint32_t hv, x;

  if (!s->p.slot || !qi->nlab || qi->nlab > s->p.maxlab ||
      qi->nlab < s->p.minlab) return;
  if (!qi->dnhash_ok) {
    qi->dnhash = hash(qi->dn, qi->dnlen - 1);
    qi->dnhash_ok = 1;
  }
  hv = qi->dnhash;
  if (step == 0) {
    __builtin_prefetch(&s->p.slot[hv & s->p.mask]);
    return;
  }
  x = s->p.slot[hv & s->p.mask];
  if (x && (x & ~s->p.omask) == tag(&s->p, hv))
    __builtin_prefetch(s->blob + (x & s->p.omask) - 1);
}

static int query(const struct dataset *ds, const struct qinfo *qi,
                 struct answer *a)
{
  const struct dnset *s = ds->d;
  const uint8_t *dn = qi->dn, *r, *wdn;
  unsigned len0 = qi->dnlen - 1, nlab = qi->nlab, wlen0, wlab, i, nw = 0;
  uint32_t hp = 0, hw[LAB_MAX];
  int plain;

  if (!nlab) return 0;
  /* every slot this query may read is asked for first, so their cache
   * misses overlap instead of following one another */
  plain = s->p.slot && nlab <= s->p.maxlab && nlab >= s->p.minlab;
  if (plain) {
    hp = qi->dnhash_ok ? qi->dnhash : hash(dn, len0);
    if (!qi->prefetched) __builtin_prefetch(&s->p.slot[hp & s->p.mask]);
  }
  wdn = dn; wlen0 = len0; wlab = nlab;
  if (s->w.slot && s->w.minlab != LAB_MAX) {
    do { wlen0 -= *wdn + 1u; wdn += *wdn + 1; wlab--; }
    while (wlab > s->w.maxlab);
    for (dn = wdn, len0 = wlen0, i = wlab;
         i >= s->w.minlab && i > 0 && nw < LAB_MAX; i--, nw++) {
      hw[nw] = hash(dn, len0);
      __builtin_prefetch(&s->w.slot[hw[nw] & s->w.mask]);
      len0 -= *dn + 1u;
      dn += *dn + 1;
    }
  }
  if (plain && (r = find(s, &s->p, qi->dn, qi->dnlen - 1, hp)))
    return answer_all(ds, r, qi, a);
  for (i = 0; i < nw; i++) {
    if ((r = find(s, &s->w, wdn, wlen0, hw[i])))
      return answer_all(ds, r, qi, a);
    wlen0 -= *wdn + 1u;
    wdn += *wdn + 1;
  }
  return 0;
}

static void release(struct dataset *ds)
{
  struct dnset *s = ds->d;

  free(s->blob);
  free(s->lp.v);
  free(s->lw.v);
  free(s->p.slot);
  free(s->w.slot);
  rrtab_free(&s->rr);
  free(s);
  ds->d = NULL;
}

const struct dstype dst_dnset = {
  "dnset", 0, start, line, finish, query, release, NULL,
  prefetch
};
