/* ds_dnset.c - domain names with values.  "name" lists the name only,
 * "*.name" its subdomains only, ".name" both.  Two sorted arrays (plain
 * and wildcard); a query tries the exact name first (which decides, even
 * when it is an exclusion), then the longest listed wildcard parent.
 * TXT "$" is the listed entry's name, as rbldnsd does. */
#include <stdlib.h>
#include <string.h>
#include "rbld.h"

struct dnent {
  const uint8_t *ldn;         /* [length without the final 0][labels] */
  uint32_t v;
};

struct dnarr {
  struct dnent *e;
  size_t n, a;
  unsigned minlab, maxlab;
};

struct dnset {
  struct dnarr p, w;
  struct rrtab rr;
};

static int start(struct dataset *ds, struct dsctx *c)
{
  struct dnset *s;

  (void)c;
  if (ds->d) return 1;
  if (!(s = ds->d = calloc(1, sizeof *s))) return 0;
  s->p.minlab = s->w.minlab = LAB_MAX;
  return 1;
}

static int push(struct dnarr *r, const uint8_t *ldn, uint32_t v,
                unsigned nlab)
{
  if (r->n == r->a) {
    size_t na = r->a ? r->a * 2 : 256;
    struct dnent *ne = xrealloc(r->e, na * sizeof *ne);
    if (!ne) return 0;
    r->e = ne;
    r->a = na;
  }
  r->e[r->n].ldn = ldn;
  r->e[r->n++].v = v;
  if (nlab > r->maxlab) r->maxlab = nlab;
  if (nlab < r->minlab) r->minlab = nlab;
  return 1;
}

static int line(struct dataset *ds, char *s, struct dsctx *c)
{
  struct dnset *set = ds->d;
  uint8_t dn[DN_MAX + 1], *ldn;
  const uint8_t *rr;
  unsigned len, nlab;
  int excl = 0, wild, plain;
  uint32_t v = 0;

  if (*s == ':') return default_line(c, s);
  if (*s == '!') { excl = 1; s = skipspace(s + 1); }
  if (*s == '.') { wild = plain = 1; s++; }
  else if (s[0] == '*' && s[1] == '.') { wild = 1; plain = 0; s += 2; }
  else { wild = 0; plain = 1; }
  if (!(s = parse_dn(s, dn, &len)) || len == 1) {
    ds_warn(c, "invalid domain name");
    return 1;
  }
  dn_lower(dn);
  if (!entry_value(c, s, excl, &rr)) return !c->fatal;
  if (rr && !(v = rrtab_add(&set->rr, rr))) return 0;
  if (!(ldn = arena_alloc(&ds->ar, len + 1))) return 0;
  ldn[0] = (uint8_t)(len - 1);
  memcpy(ldn + 1, dn, len);
  nlab = dn_labels(dn);
  if (plain && !push(&set->p, ldn, v, nlab)) return 0;
  if (wild && !push(&set->w, ldn, v, nlab)) return 0;
  return 1;
}

static int cmp(const void *x, const void *y)
{
  const struct dnent *a = x, *b = y;
  int r;

  if (a->ldn[0] != b->ldn[0]) return a->ldn[0] < b->ldn[0] ? -1 : 1;
  if ((r = memcmp(a->ldn + 1, b->ldn + 1, a->ldn[0]))) return r;
  return a->v < b->v ? -1 : a->v > b->v;
}

static void sort_arr(struct dnarr *r)
{
  size_t i, o = 0;

  if (r->n > 1) qsort(r->e, r->n, sizeof *r->e, cmp);
  for (i = 0; i < r->n; i++)
    if (!o || cmp(&r->e[o - 1], &r->e[i])) r->e[o++] = r->e[i];
  r->n = o;
}

static int finish(struct dataset *ds, struct dsctx *c)
{
  struct dnset *s = ds->d;

  (void)c;
  sort_arr(&s->p);
  sort_arr(&s->w);
  ds->entries = s->p.n + s->w.n;
  return 1;
}

static const struct dnent *find(const struct dnarr *r, const uint8_t *dn,
                                unsigned len0)
{
  size_t lo = 0, hi = r->n;

  while (lo < hi) {               /* first entry >= (len0, dn) */
    size_t m = (lo + hi) / 2;
    const uint8_t *k = r->e[m].ldn;
    int d = k[0] != len0 ? (k[0] < len0 ? -1 : 1) : memcmp(k + 1, dn, len0);
    if (d < 0) lo = m + 1;
    else hi = m;
  }
  if (lo < r->n && r->e[lo].ldn[0] == len0 &&
      !memcmp(r->e[lo].ldn + 1, dn, len0))
    return &r->e[lo];
  return NULL;
}

static int answer_all(const struct dataset *ds, const struct dnarr *r,
                      const struct dnent *e, const struct qinfo *qi,
                      struct answer *a)
{
  const struct dnset *s = ds->d;
  const struct dnent *end = r->e + r->n;
  const uint8_t *k = e->ldn;
  char name[DN_MAX + 2];

  if (!e->v) return 0;                      /* excluded */
  dn_to_text(k + 1, name, sizeof name);
  for (; e < end && e->ldn[0] == k[0] && !memcmp(e->ldn + 1, k + 1, k[0]);
       e++)
    ans_a_txt(a, qi->tflag, s->rr.v[e->v], name, ds);
  return Q_FOUND;
}

static int query(const struct dataset *ds, const struct qinfo *qi,
                 struct answer *a)
{
  const struct dnset *s = ds->d;
  const uint8_t *dn = qi->dn;
  unsigned len0 = qi->dnlen - 1, nlab = qi->nlab;
  const struct dnent *e;

  if (!nlab) return 0;
  if (nlab <= s->p.maxlab && nlab >= s->p.minlab &&
      (e = find(&s->p, dn, len0)))
    return answer_all(ds, &s->p, e, qi, a);
  if (!s->w.n) return 0;
  do { len0 -= *dn + 1u; dn += *dn + 1; nlab--; }
  while (nlab > s->w.maxlab);
  for (; nlab >= s->w.minlab && nlab > 0; nlab--) {
    if ((e = find(&s->w, dn, len0)))
      return answer_all(ds, &s->w, e, qi, a);
    len0 -= *dn + 1u;
    dn += *dn + 1;
  }
  return 0;
}

static void release(struct dataset *ds)
{
  struct dnset *s = ds->d;

  free(s->p.e);
  free(s->w.e);
  rrtab_free(&s->rr);
  free(s);
  ds->d = NULL;
}

const struct dstype dst_dnset = {
  "dnset", 0, start, line, finish, query, release
};
