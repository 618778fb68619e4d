/* ds_ip6tset.c - "trivial" IPv6 set: /64 prefixes written as four
 * groups, one value for the dataset, and single-address (/128)
 * exclusions.  Two sorted arrays. */
#include <stdlib.h>
#include <string.h>
#include "rbld.h"

struct x128 { uint64_t hi, lo; };
struct tset {
  struct vec64 p;              /* /64 prefixes */
  struct x128 *x;              /* exclusions */
  size_t nx, ax;
  const uint8_t *rr;
};

static uint64_t be64(const uint8_t *p)
{
  uint64_t v = 0;
  int i;

  for (i = 0; i < 8; i++) v = v << 8 | p[i];
  return v;
}

static int start(struct dataset *ds, struct dsctx *c)
{
  (void)c;
  if (!ds->d) ds->d = calloc(1, sizeof(struct tset));
  return ds->d != NULL;
}

static int line(struct dataset *ds, char *s, struct dsctx *c)
{
  struct tset *t = ds->d;
  uint8_t a[16];
  const char *e;
  uint8_t *v;
  int bits;

  if (*s == ':' && s[1] != ':') {
    if (!t->rr && parse_a_txt(s, rr_default, c, &v)) t->rr = v;
    return !c->fatal;
  }
  if (*s == '!') {
    bits = ip6cidr(skipspace(s + 1), a, &e);
    if (bits != 128 || (*e && !ISSPACE(*e) && !ISCOMMENT(*e))) {
      ds_warn(c, "invalid address (exclusions are single addresses)");
      return 1;
    }
    if (t->nx == t->ax) {
      size_t na = t->ax ? t->ax * 2 : 16;
      struct x128 *nx = xrealloc(t->x, na * sizeof *nx);
      if (!nx) return 0;
      t->x = nx;
      t->ax = na;
    }
    t->x[t->nx].hi = be64(a);
    t->x[t->nx++].lo = be64(a + 8);
    return 1;
  }
  bits = ip6cidr(s, a, &e);
  if (bits != 64 || (*e && !ISSPACE(*e) && !ISCOMMENT(*e))) {
    ds_warn(c, "invalid address (want a /64 as four groups)");
    return 1;
  }
  return vec64_push(&t->p, be64(a));
}

static int cmpx(const void *x, const void *y)
{
  const struct x128 *a = x, *b = y;

  if (a->hi != b->hi) return a->hi < b->hi ? -1 : 1;
  return a->lo < b->lo ? -1 : a->lo > b->lo;
}

static int finish(struct dataset *ds, struct dsctx *c)
{
  struct tset *t = ds->d;

  (void)c;
  if (!t->rr) t->rr = rr_default;
  sort64(t->p.v, t->p.n);
  t->p.n = uniq64(t->p.v, t->p.n);
  if (t->nx > 1) qsort(t->x, t->nx, sizeof *t->x, cmpx);
  ds->entries = t->p.n + t->nx;
  return 1;
}

static int has64(const struct vec64 *v, uint64_t k)
{
  size_t lo = 0, hi = v->n;

  while (lo < hi) {
    size_t m = (lo + hi) / 2;
    if (v->v[m] < k) lo = m + 1; else hi = m;
  }
  return lo < v->n && v->v[lo] == k;
}

static int query(const struct dataset *ds, const struct qinfo *qi,
                 struct answer *a)
{
  const struct tset *t = ds->d;
  struct x128 k;
  char ip[48];

  if (!qi->ip6ok) return 0;
  k.hi = be64(qi->ip6);
  k.lo = be64(qi->ip6 + 8);
  if (!has64(&t->p, k.hi)) return 0;
  if (t->nx && bsearch(&k, t->x, t->nx, sizeof k, cmpx)) return 0;
  ans_a_txt(a, qi->tflag, t->rr, ip6_text(qi->ip6, ip), ds);
  return Q_FOUND;
}

static void release(struct dataset *ds)
{
  struct tset *t = ds->d;

  free(t->p.v);
  free(t->x);
  free(t);
  ds->d = NULL;
}

const struct dstype dst_ip6tset = {
  "ip6tset", DSTF_IP6REV, start, line, finish, query, release, NULL, NULL
};
