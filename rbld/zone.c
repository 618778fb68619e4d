/* zone.c - zones from the command line, one dataset per distinct spec
 * (shared by every zone naming it), reload checks, and snapshots: an
 * immutable view of every zone with its current datasets, SOA and NS,
 * which the workers read while the next one is being built. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "log.h"
#include "zone.h"


static int slot_for(struct config *c, const char *dsspec)
{
  struct slot *ns;
  unsigned i;

  for (i = 0; i < c->ns; i++)
    if (!strcmp(c->s[i].proto->spec, dsspec)) return (int)i;
  ns = xrealloc(c->s, (c->ns + 1) * sizeof *ns);
  if (!ns) return -1;
  c->s = ns;
  memset(&c->s[c->ns], 0, sizeof *c->s);
  if (!(c->s[c->ns].proto = ds_new(dsspec))) return -2;
  c->s[c->ns].is_acl = c->s[c->ns].proto->type == &dst_acl;
  return (int)c->ns++;
}

static int zone_for(struct config *c, const uint8_t *dn, unsigned len,
                    const char *name)
{
  unsigned i;

  for (i = 0; i < c->nz; i++)
    if (c->z[i].dnlen == len && !memcmp(c->z[i].dn, dn, len)) return (int)i;
  c->z = xrealloc(c->z, (c->nz + 1) * sizeof *c->z);
  c->zslot = xrealloc(c->zslot, (c->nz + 1) * sizeof *c->zslot);
  c->nzslot = xrealloc(c->nzslot, (c->nz + 1) * sizeof *c->nzslot);
  c->zacl = xrealloc(c->zacl, (c->nz + 1) * sizeof *c->zacl);
  if (!c->z || !c->zslot || !c->nzslot || !c->zacl) return -1;
  memset(&c->z[c->nz], 0, sizeof *c->z);
  memcpy(c->z[c->nz].dn, dn, len);
  c->z[c->nz].dnlen = len;
  c->z[c->nz].nlab = dn_labels(dn);
  c->z[c->nz].name = strdup(*name ? name : ".");
  c->zslot[c->nz] = NULL;
  c->nzslot[c->nz] = 0;
  c->zacl[c->nz] = -1;
  return (int)c->nz++;
}

int config_add(struct config *c, const char *spec, const char **err)
{
  const char *colon = strchr(spec, ':');
  uint8_t dn[DN_MAX + 1];
  int len, s, z;
  unsigned *v;

  *err = "invalid zone spec (zone:type:file,...)";
  if (!colon || !strchr(colon + 1, ':')) return 0;
  if (!(len = dn_from_text(spec, (size_t)(colon - spec), dn))) return 0;
  dn_lower(dn);
  s = slot_for(c, colon + 1);
  *err = "unknown dataset type or missing file names";
  if (s < 0) return 0;
  if (!dn[0]) {
    *err = "an empty zone name is only for a global acl";
    if (!c->s[s].is_acl || c->gacl >= 0) return 0;
    c->gacl = s;
    return 1;
  }
  char name[DN_MAX + 2];
  memcpy(name, spec, (size_t)(colon - spec));
  name[colon - spec] = 0;
  if ((z = zone_for(c, dn, (unsigned)len, name)) < 0) return 0;
  if (c->s[s].is_acl) {
    *err = "repeated acl for a zone";
    if (c->zacl[z] >= 0) return 0;
    c->zacl[z] = s;
    return 1;
  }
  v = xrealloc(c->zslot[z], (c->nzslot[z] + 1) * sizeof *v);
  if (!v) return 0;
  v[c->nzslot[z]++] = (unsigned)s;
  c->zslot[z] = v;
  return 1;
}

/* Same files as at the last failed attempt: nothing new to try. */
static int same_failure(const struct slot *sl)
{
  const struct dataset *p = sl->proto;
  struct stat st;
  unsigned i;

  if (!sl->failed) return 0;
  for (i = 0; i < p->nfile; i++) {
    int ok = stat(p->file[i], &st) == 0;
    if (ok != sl->failed[i].ok) return 0;
    if (ok && !fstamp_same(&sl->failed[i], &st)) return 0;
  }
  return 1;
}

static void remember_failure(struct slot *sl)
{
  const struct dataset *p = sl->proto;
  struct stat st;
  unsigned i;

  if (!sl->failed) sl->failed = calloc(p->nfile, sizeof *sl->failed);
  if (!sl->failed) return;
  for (i = 0; i < p->nfile; i++) {
    sl->failed[i].ok = stat(p->file[i], &st) == 0;
    if (!sl->failed[i].ok) continue;
    fstamp_set(&sl->failed[i], &st);
  }
}

static void retire(struct config *c, struct dataset *ds)
{
  struct dataset **r = xrealloc(c->retired, (c->nretired + 1) * sizeof *r);

  if (!r) return;          /* XXX leaks one dataset when out of memory */
  c->retired = r;
  c->retired[c->nretired++] = ds;
}

int config_check(struct config *c, int first)
{
  unsigned i;
  int n = 0, bad = 0;

  for (i = 0; i < c->ns; i++) {
    struct slot *sl = &c->s[i];
    struct dataset *nd;
    if (sl->cur && !ds_changed(sl->cur)) continue;
    if (!first && same_failure(sl)) continue;
    if (!(nd = ds_reload(sl->proto))) {
      remember_failure(sl);
      bad++;
      if (sl->cur) {
        struct logline l;
        log_start(&l, "warning", "keeping");
        log_str(&l, "dataset", sl->proto->spec);
        log_str(&l, "reason", "reload failed, serving the data loaded before");
        log_end(&l);
      }
      continue;
    }
    free(sl->failed);
    sl->failed = NULL;
    if (sl->cur) retire(c, sl->cur);
    sl->cur = nd;
    n++;
  }
  return first && bad ? -1 : n;
}

void config_free_retired(struct config *c)
{
  unsigned i;

  for (i = 0; i < c->nretired; i++) ds_free(c->retired[i]);
  c->nretired = 0;
}

static void zone_meta(struct zone *z, time_t now)
{
  time_t stamp = 0;
  unsigned i;

  z->loaded = 1;
  for (i = 0; i < z->nds; i++) {
    const struct dataset *ds = z->ds[i];
    if (!ds || (ds->expires && ds->expires < now)) { z->loaded = 0; continue; }
    z->flags |= ds->type->flags;
    if (ds->stamp > stamp) stamp = ds->stamp;
    if (!z->soa && ds->soa) { z->soa = ds->soa; z->soa_ttl = ds->soa->ttl; }
    if (!z->nns && ds->nns) {
      z->ns = ds->ns; z->nns = ds->nns; z->nsttl = ds->nsttl;
    }
  }
  if (z->soa) z->serial = z->soa->serial ? z->soa->serial : (uint32_t)stamp;
}

struct zoneset *snapshot_build(const struct config *c)
{
  struct zoneset *zs = calloc(1, sizeof *zs);
  unsigned i, j;

  if (!zs || !(zs->z = calloc(c->nz ? c->nz : 1, sizeof *zs->z))) {
    free(zs);
    return NULL;
  }
  zs->nz = c->nz;
  zs->now = time(NULL);
  for (i = 0; i < c->nz; i++) {
    struct zone *z = &zs->z[i];
    *z = c->z[i];
    z->nds = c->nzslot[i];
    z->ds = calloc(z->nds ? z->nds : 1, sizeof *z->ds);
    if (!z->ds) { snapshot_free(zs); return NULL; }
    for (j = 0; j < z->nds; j++) z->ds[j] = c->s[c->zslot[i][j]].cur;
    z->acl = c->zacl[i] >= 0 ? c->s[c->zacl[i]].cur : NULL;
    zone_meta(z, zs->now);
    if (!zone_auth_build(z)) { snapshot_free(zs); return NULL; }
  }
  zs->gacl = c->gacl >= 0 ? c->s[c->gacl].cur : NULL;
  return zs;
}

void snapshot_free(struct zoneset *zs)
{
  unsigned i;

  if (!zs) return;
  for (i = 0; i < zs->nz; i++) { free(zs->z[i].ds); free(zs->z[i].auth); }
  free(zs->z);
  free(zs);
}

void config_free(struct config *c)
{
  unsigned i;

  config_free_retired(c);
  free(c->retired);
  for (i = 0; i < c->ns; i++) {
    ds_free(c->s[i].cur);
    ds_free(c->s[i].proto);
    free(c->s[i].failed);
  }
  for (i = 0; i < c->nz; i++) { free(c->zslot[i]); free(c->z[i].name); }
  free(c->s);
  free(c->z);
  free(c->zslot);
  free(c->nzslot);
  free(c->zacl);
  memset(c, 0, sizeof *c);
}
