/* ds_ip6trie.c - IPv6 CIDR entries ("::" allowed, trailing zero groups
 * may be left out) with values and exclusions; longest prefix wins. */
#include <stdlib.h>
#include <string.h>
#include "rbld.h"

struct trie { struct ptab t; struct rrtab rr; };

static int start(struct dataset *ds, struct dsctx *c)
{
  (void)c;
  if (!ds->d) ds->d = calloc(1, sizeof(struct trie));
  return ds->d != NULL;
}

int ip6trie_key(struct dsctx *c, char **sp, uint8_t key[16], int *bits)
{
  const char *e;

  *bits = ip6cidr(*sp, key, &e);
  if (*bits < 0 || (*e && !ISSPACE(*e) && !ISCOMMENT(*e) && *e != ':')) {
    ds_warn(c, "invalid address");
    return 0;
  }
  *sp = skipspace((char *)e);
  return 1;
}

static int line(struct dataset *ds, char *s, struct dsctx *c)
{
  struct trie *t = ds->d;
  const uint8_t *rr;
  uint8_t key[16];
  uint32_t v = 0;
  int excl = 0, bits;

  if (*s == ':' && s[1] != ':') return default_line(c, s);
  if (*s == '!') { excl = 1; s = skipspace(s + 1); }
  if (!ip6trie_key(c, &s, key, &bits)) return 1;
  if (!entry_value(c, s, excl, &rr)) return !c->fatal;
  if (rr && !(v = rrtab_add(&t->rr, rr))) return 0;
  return ptab_add(&t->t, key, bits, v);
}

static int finish(struct dataset *ds, struct dsctx *c)
{
  struct trie *t = ds->d;

  (void)c;
  ds->entries = ptab_finish(&t->t);
  return 1;
}

static int query(const struct dataset *ds, const struct qinfo *qi,
                 struct answer *a)
{
  const struct trie *t = ds->d;
  const struct pent *e;
  char ip[48];

  if (!qi->ip6ok) return 0;
  if (!(e = ptab_find(&t->t, qi->ip6, 128)) || !e->v) return 0;
  ans_a_txt(a, qi->tflag, t->rr.v[e->v], ip6_text(qi->ip6, ip), ds);
  return Q_FOUND;
}

static void release(struct dataset *ds)
{
  struct trie *t = ds->d;

  ptab_free(&t->t);
  rrtab_free(&t->rr);
  free(t);
  ds->d = NULL;
}

const struct dstype dst_ip6trie = {
  "ip6trie", DSTF_IP6REV, start, line, finish, query, release, NULL
};
