/* ds_combined.c - one file holding several datasets, each serving some
 * subzones of the base zone: "$DATASET type[:name] subzone... " starts
 * one ("@" is the base zone itself).  $SOA and $NS are the base zone's;
 * $TTL and $n may be set for the whole file or per nested dataset.
 * A query goes to the longest subzone that contains it. */
#include <stdlib.h>
#include <string.h>
#include "rbld.h"

struct subzone {
  uint8_t dn[DN_MAX + 1];
  unsigned dnlen, nlab, flags;
  struct dataset **ds;
  unsigned nds;
};

struct combined {
  struct subzone *z;
  unsigned nz;
  struct dataset **ds;         /* nested datasets, owned */
  unsigned nds;
};

static int start(struct dataset *ds, struct dsctx *c)
{
  (void)c;
  if (!ds->d) ds->d = calloc(1, sizeof(struct combined));
  return ds->d != NULL;
}

static int line(struct dataset *ds, char *s, struct dsctx *c)
{
  (void)ds; (void)s;
  ds_warn(c, "entry before any $DATASET line");
  return 0;
}

static int finish_sub(struct dsctx *c)
{
  struct dataset *sub = c->sub;
  const char *f = c->fname;
  unsigned long l = c->line;
  int ok = 1;

  if (!sub) return 1;
  c->fname = NULL;
  c->line = 0;
  c->sub = NULL;
  ok = !sub->type->finish || sub->type->finish(sub, c);
  c->fname = f;
  c->line = l;
  return ok;
}

static struct subzone *subzone(struct combined *cb, const uint8_t *dn,
                               unsigned len)
{
  struct subzone *z;
  unsigned i;

  for (i = 0; i < cb->nz; i++)
    if (cb->z[i].dnlen == len && !memcmp(cb->z[i].dn, dn, len))
      return &cb->z[i];
  if (!(z = xrealloc(cb->z, (cb->nz + 1) * sizeof *z))) return NULL;
  cb->z = z;
  z = &cb->z[cb->nz++];
  memset(z, 0, sizeof *z);
  memcpy(z->dn, dn, len);
  z->dnlen = len;
  z->nlab = dn_labels(dn);
  return z;
}

static int attach(struct combined *cb, struct dataset *sub, char *p,
                  struct dsctx *c)
{
  uint8_t dn[DN_MAX + 1];
  struct subzone *z;
  struct dataset **v;
  int len;

  if (p[0] == '@' && !p[1]) { dn[0] = 0; len = 1; }
  else if (!(len = dn_from_text(p, strlen(p), dn))) {
    ds_warn(c, "invalid subzone name");
    return 1;
  }
  dn_lower(dn);
  if (!(z = subzone(cb, dn, (unsigned)len))) return 0;
  if (!(v = xrealloc(z->ds, (z->nds + 1) * sizeof *v))) return 0;
  z->ds = v;
  z->ds[z->nds++] = sub;
  z->flags |= sub->type->flags;
  return 1;
}

int combined_newset(struct dataset *ds, char *w, struct dsctx *c)
{
  struct combined *cb = ds->d;
  struct dataset *sub, **v;
  char *p, *name, *save = NULL;
  const struct dstype *t;
  int any = 0;

  if (!finish_sub(c)) return -1;
  for (p = w; *p; p++)
    if (ISCOMMENT(*p) && (p == w || ISSPACE(p[-1]))) { *p = 0; break; }
  if (!(p = strtok_r(w, " \t", &save))) return 0;
  if ((name = strchr(p, ':'))) *name++ = 0;
  t = dstype_find(p);
  if (!t || t == &dst_combined || t == &dst_acl) {
    ds_warn(c, "unknown dataset type, or one that cannot be nested");
    return -1;
  }
  if (!(sub = calloc(1, sizeof *sub))) return -1;
  if (!(v = xrealloc(cb->ds, (cb->nds + 1) * sizeof *v))) { free(sub);
                                                            return -1; }
  cb->ds = v;
  cb->ds[cb->nds++] = sub;
  sub->type = t;
  sub->parent = ds;
  sub->ttl = ds->ttl;
  sub->spec = strdup(name && *name ? name : t->name);
  while ((p = strtok_r(NULL, " \t", &save))) {
    if (!attach(cb, sub, p, c)) return -1;
    any = 1;
  }
  if (!any) ds_warn(c, "no subzone given for the dataset: data ignored");
  c->sub = sub;
  c->def_rr = rr_default;
  return sub->type->start && !sub->type->start(sub, c) ? -1 : 1;
}

static int finish(struct dataset *ds, struct dsctx *c)
{
  struct combined *cb = ds->d;
  unsigned i;

  if (!finish_sub(c)) return 0;
  ds->entries = 0;
  for (i = 0; i < cb->nds; i++) ds->entries += cb->ds[i]->entries;
  return 1;
}

static int query(const struct dataset *ds, const struct qinfo *qi,
                 struct answer *a)
{
  const struct combined *cb = ds->d;
  const struct subzone *best = NULL;
  struct qinfo sq;
  uint8_t rel[DN_MAX + 4];           /* qinfo_ip reads 3 bytes past */
  unsigned i, off;
  int found = 0;

  for (i = 0; i < cb->nz; i++) {
    const struct subzone *z = &cb->z[i];
    const uint8_t *p = qi->dn;
    unsigned k;
    if (z->nlab > qi->nlab || (best && z->nlab <= best->nlab)) continue;
    for (k = 0; k < qi->nlab - z->nlab; k++) p += *p + 1;
    if (memcmp(p, z->dn, z->dnlen)) continue;
    best = z;
  }
  if (!best) return 0;
  memset(&sq, 0, sizeof sq);
  sq.tflag = qi->tflag;
  sq.nlab = qi->nlab - best->nlab;
  for (off = 0, i = 0; i < sq.nlab; i++) off += qi->dn[off] + 1u;
  memcpy(rel, qi->dn, off);
  memset(rel + off, 0, 4);
  sq.dn = rel;
  sq.dnlen = off + 1;
  if (best->flags) qinfo_ip(&sq, best->flags);
  for (i = 0; i < best->nds; i++) found |= ds_query(best->ds[i], &sq, a);
  return found | (sq.nlab ? 0 : Q_FOUND);
}

static void release(struct dataset *ds)
{
  struct combined *cb = ds->d;
  unsigned i;

  for (i = 0; i < cb->nz; i++) free(cb->z[i].ds);
  for (i = 0; i < cb->nds; i++) ds_free(cb->ds[i]);
  free(cb->z);
  free(cb->ds);
  free(cb);
  ds->d = NULL;
}

const struct dstype dst_combined = {
  "combined", 0, start, line, finish, query, release, NULL, NULL
};
