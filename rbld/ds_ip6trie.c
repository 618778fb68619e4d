/* ds_ip6trie.c - IPv6 CIDR entries ("::" allowed, trailing zero groups
 * may be left out) with values and exclusions; longest prefix wins. */
#include <stdlib.h>
#include <string.h>
#include "rbld.h"

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
  if (*s == ':' && s[1] != ':') return default_line(c, s);   /* "::1" */
  return trie_entry(ds, s, c, ip6trie_key);
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

const struct dstype dst_ip6trie = {
  "ip6trie", DSTF_IP6REV, trie_start, line, trie_finish, query,
  trie_release, NULL, NULL
};
