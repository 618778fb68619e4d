/* ds_acl.c - access control by the client's address: ":ignore" (no
 * reply, the default), ":refuse", ":empty" (nothing is listed), ":pass",
 * or an A+TXT value with which everything is listed ("$" = the client's
 * address).  One per zone, plus one global (":acl:file"). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>
#include "rbld.h"

enum { A_IGNORE = 1, A_REFUSE, A_EMPTY, A_PASS, A_RR = 16 };

struct acl {
  struct ptab t4, t6;
  struct rrtab rr;
  uint32_t def;
};


static int start(struct dataset *ds, struct dsctx *c)
{
  (void)c;
  if (!ds->d) ds->d = calloc(1, sizeof(struct acl));
  if (ds->d) ((struct acl *)ds->d)->def = A_IGNORE;
  return ds->d != NULL;
}

/* ":word" or an A+TXT value; 0 = invalid */
static uint32_t action(struct acl *a, char *s, struct dsctx *c)
{
  static const char *const words[] = { "ignore", "refuse", "empty", "pass" };
  uint8_t *v;
  uint32_t i;

  for (i = 0; i < 4; i++)
    if (s[0] == ':' && !strncasecmp(s + 1, words[i], strlen(words[i])) &&
        !s[1 + strlen(words[i])]) return i + 1;
  if (!parse_a_txt(s, rr_default, c, &v)) return 0;
  if (!(i = rrtab_add(&a->rr, v))) return 0;
  return A_RR + i;
}

static int line(struct dataset *ds, char *s, struct dsctx *c)
{
  struct acl *a = ds->d;
  uint8_t key[16];
  int bits, v6;
  uint32_t act;
  const char *e;
  uint32_t tmp;

  if (*s == ':' && s[1] != ':') {
    if ((act = action(a, s, c))) a->def = act;
    return !c->fatal;
  }
  v6 = ip4cidr(s, &tmp, &e) < 0;
  if (v6 ? !ip6trie_key(c, &s, key, &bits) : !ip4trie_key(c, &s, key, &bits))
    return 1;
  act = (*s && !ISCOMMENT(*s)) ? action(a, s, c) : a->def;
  if (!act) return !c->fatal;
  return ptab_add(v6 ? &a->t6 : &a->t4, key, bits, act);
}

static int finish(struct dataset *ds, struct dsctx *c)
{
  struct acl *a = ds->d;

  (void)c;
  ds->entries = ptab_finish(&a->t4) + ptab_finish(&a->t6);
  return 1;
}

static int query(const struct dataset *ds, const struct qinfo *qi,
                 struct answer *a)
{
  (void)ds; (void)qi; (void)a;
  return 0;                    /* consulted through acl_check() only */
}

int acl_check(const struct dataset *ds, const struct peer *p,
              struct answer *ans)
{
  const struct acl *a = ds->d;
  const struct pent *e = NULL;
  uint8_t key[16] = { 0 };

  if (!p || !p->sa) return 0;
  if (p->sa->sa_family == AF_INET) {
    memcpy(key, &((const struct sockaddr_in *)p->sa)->sin_addr, 4);
    e = ptab_find(&a->t4, key, 32);
  } else if (p->sa->sa_family == AF_INET6) {
    const uint8_t *b = ((const struct sockaddr_in6 *)p->sa)->sin6_addr.s6_addr;
    if (!memcmp(b, "\0\0\0\0\0\0\0\0\0\0\377\377", 12)) {
      memcpy(key, b + 12, 4);
      e = ptab_find(&a->t4, key, 32);
    } else e = ptab_find(&a->t6, b, 128);
  }
  if (!e) return 0;
  switch (e->v) {
  case A_IGNORE: return Q_IGNORE;
  case A_REFUSE: return Q_REFUSE;
  case A_EMPTY: return Q_EMPTY;
  case A_PASS: return 0;
  }
  if (!ans->acl_rr) { ans->acl_rr = a->rr.v[e->v - A_RR]; ans->acl_ds = ds; }
  return Q_ADDPEER;
}

static void release(struct dataset *ds)
{
  struct acl *a = ds->d;

  ptab_free(&a->t4);
  ptab_free(&a->t6);
  rrtab_free(&a->rr);
  free(a);
  ds->d = NULL;
}

const struct dstype dst_acl = {
  "acl", 0, start, line, finish, query, release, NULL, NULL
};
