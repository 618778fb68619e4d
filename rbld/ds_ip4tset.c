/* ds_ip4tset.c - "trivial" ip4set: single addresses only, one value for
 * the whole dataset (the first ':' line), no exclusions.  A sorted array
 * of 64-bit words (address << 32) and the 16-bit index of sort.c. */
#include <stdlib.h>
#include <string.h>
#include "rbld.h"

struct ip4tset {
  struct vec64 v;             /* while loading */
  struct ktab k;
  const uint8_t *rr;
};

static int start(struct dataset *ds, struct dsctx *c)
{
  (void)c;
  if (!ds->d) ds->d = calloc(1, sizeof(struct ip4tset));
  return ds->d != NULL;
}

static int line(struct dataset *ds, char *s, struct dsctx *c)
{
  struct ip4tset *t = ds->d;
  const char *e;
  uint32_t a;
  uint8_t *v;

  if (*s == ':') {
    if (!t->rr && parse_a_txt(s, rr_default, c, &v)) t->rr = v;
    return !c->fatal;
  }
  if (ip4prefix(s, &a, &e) != 32 || (*e && !ISSPACE(*e) && !ISCOMMENT(*e))) {
    ds_warn(c, "invalid address");
    return 1;
  }
  return vec64_push(&t->v, (uint64_t)a << 32);
}

static int finish(struct dataset *ds, struct dsctx *c)
{
  struct ip4tset *t = ds->d;

  (void)c;
  if (!t->rr) t->rr = rr_default;
  if (!ktab_build(&t->k, t->v.v, t->v.n)) return 0;
  t->v.v = NULL;
  ds->entries = t->k.n;
  return 1;
}

static int query(const struct dataset *ds, const struct qinfo *qi,
                 struct answer *a)
{
  const struct ip4tset *t = ds->d;
  char ip[16];

  if (!qi->ip4ok) return 0;
  if (ktab_find(&t->k, qi->ip4) == t->k.n) return 0;
  ans_a_txt(a, qi->tflag, t->rr, ip4_text(qi->ip4, ip), ds);
  return Q_FOUND;
}

static void release(struct dataset *ds)
{
  struct ip4tset *t = ds->d;

  free(t->v.v);
  ktab_free(&t->k);
  free(t);
  ds->d = NULL;
}

const struct dstype dst_ip4tset = {
  "ip4tset", DSTF_IP4REV, start, line, finish, query, release, NULL, NULL
};
