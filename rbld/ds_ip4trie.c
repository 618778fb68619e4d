/* ds_ip4trie.c - IPv4 CIDR entries with values and exclusions; the
 * longest matching prefix answers (ptab.c). */
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
  struct trie *t = ds->d;
  const uint8_t *rr;
  uint8_t key[16];
  uint32_t v = 0;
  int excl = 0, bits;

  if (*s == ':') return default_line(c, s);
  if (*s == '!') { excl = 1; s = skipspace(s + 1); }
  if (!ip4trie_key(c, &s, key, &bits)) return 1;
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
  uint8_t key[16] = { 0 };
  char ip[16];

  if (!qi->ip4ok) return 0;
  key[0] = (uint8_t)(qi->ip4 >> 24); key[1] = (uint8_t)(qi->ip4 >> 16);
  key[2] = (uint8_t)(qi->ip4 >> 8); key[3] = (uint8_t)qi->ip4;
  if (!(e = ptab_find(&t->t, key, 32)) || !e->v) return 0;
  ans_a_txt(a, qi->tflag, t->rr.v[e->v], ip4_text(qi->ip4, ip), ds);
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

const struct dstype dst_ip4trie = {
  "ip4trie", DSTF_IP4REV, start, line, finish, query, release, NULL
};
