/* ds_ip4trie.c - IPv4 CIDR entries with values and exclusions; the
 * longest matching prefix answers (ptab.c). */
#include <stdlib.h>
#include <string.h>
#include "rbld.h"

/* "a.b.c.d/n" (or a prefix): shared with acl */
int ip4trie_key(struct dsctx *c, char **sp, uint8_t key[16], int *bits)
{
  const char *e;
  uint32_t a, m;

  *bits = ip4cidr(*sp, &a, &e);
  if (*bits < 0 || (*e && !ISSPACE(*e) && !ISCOMMENT(*e) && *e != ':')) {
    ds_warn(c, "invalid address");
    return 0;
  }
  m = *bits >= 32 ? 0xffffffffu : *bits ? ~(0xffffffffu >> *bits) : 0;
  if (a & ~m) {
    if (!g_opts.accept_host_bits) {
      ds_warn(c, "invalid address (host bits set; -e accepts them)");
      return 0;
    }
    a &= m;
  }
  memset(key, 0, 16);
  key[0] = (uint8_t)(a >> 24); key[1] = (uint8_t)(a >> 16);
  key[2] = (uint8_t)(a >> 8); key[3] = (uint8_t)a;
  *sp = skipspace((char *)e);
  return 1;
}

static int line(struct dataset *ds, char *s, struct dsctx *c)
{
  if (*s == ':') return default_line(c, s);
  return trie_entry(ds, s, c, ip4trie_key);
}

static int query(const struct dataset *ds, const struct qinfo *qi,
                 struct answer *a)
{
  const struct trie *t = ds->d;
  const struct pent *e;
  uint8_t key[16] = { 0 };
  char ip[16];

  if (!qi->ip4ok) return 0;
  key[0] = (uint8_t)(qi->ip4 >> 24); key[1] = (uint8_t)(qi->ip4 >> 16);
  key[2] = (uint8_t)(qi->ip4 >> 8); key[3] = (uint8_t)qi->ip4;
  if (!(e = ptab_find(&t->t, key, 32)) || !e->v) return 0;
  ans_a_txt(a, qi->tflag, t->rr.v[e->v], ip4_text(qi->ip4, ip), ds);
  return Q_FOUND;
}

const struct dstype dst_ip4trie = {
  "ip4trie", DSTF_IP4REV, trie_start, line, trie_finish, query,
  trie_release, NULL, NULL
};
