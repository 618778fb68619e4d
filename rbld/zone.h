/* zone.h - the configured zones and their datasets, and the snapshots
 * the workers answer from.  Only the main thread calls these. */
#ifndef RBLD_ZONE_H
#define RBLD_ZONE_H

#include "rbld.h"

struct slot {                  /* one distinct "type:files" spec */
  struct dataset *cur;         /* loaded data, or NULL */
  struct dataset *proto;       /* identity only, never loaded */
  struct fstamp *failed;       /* files as they were at the last failure */
  int is_acl;
};

struct config {
  struct zone *z;              /* zone templates: name and slot numbers */
  unsigned **zslot, *nzslot;
  int *zacl;                   /* slot of the zone's acl, or -1 */
  unsigned nz;
  struct slot *s;
  unsigned ns;
  int gacl;                    /* slot of the global acl, or -1 */
  struct dataset **retired;
  unsigned nretired;
};

/* "zone:type:file,file"; 0 and a message on a bad spec. */
int config_add(struct config *c, const char *spec, const char **err);
/* Loads what changed (all, the first time); returns the number of
 * datasets replaced, -1 if nothing could be read the first time. */
int config_check(struct config *c, int first);
struct zoneset *snapshot_build(const struct config *c);
void snapshot_free(struct zoneset *zs);
void config_free_retired(struct config *c);
/* everything, at exit (for leak checkers) */
void config_free(struct config *c);

#endif
