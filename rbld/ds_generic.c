/* ds_generic.c - simplified bind format: "name [ttl] [IN] TYPE value",
 * one record a line, names relative to the zone ("@" is the apex),
 * values absolute.  A, TXT and MX, as rbldnsd knows them.  A name that
 * exists answers NODATA for the other types. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "rbld.h"

enum { T_A = 1, T_MX = 15, T_TXT = 16 };

struct gent {
  const uint8_t *ldn;          /* [length without the final 0][labels] */
  unsigned qt, type, rdlen;
  uint32_t ttl, seq;
  const uint8_t *rd;
};

struct generic { struct gent *e; size_t n, a; };

static int start(struct dataset *ds, struct dsctx *c)
{
  (void)c;
  if (!ds->d) ds->d = calloc(1, sizeof(struct generic));
  return ds->d != NULL;
}

static int value(char *s, char *t, uint8_t *rd, unsigned *len, unsigned *qt,
                 unsigned *type, struct dsctx *c)
{
  uint32_t a, pri;
  const char *e;
  unsigned l;

  if (!strcasecmp(t, "a")) {
    if (ip4addr(s, &a, &e) < 0 || (*e && !ISSPACE(*e))) return -1;
    rd[0] = (uint8_t)(a >> 24); rd[1] = (uint8_t)(a >> 16);
    rd[2] = (uint8_t)(a >> 8); rd[3] = (uint8_t)a;
    *len = 4; *qt = QT_A; *type = T_A;
  } else if (!strcasecmp(t, "txt")) {
    l = (unsigned)strlen(s);
    if (l >= 2 && s[0] == '"' && s[l - 1] == '"') { s++; l -= 2; }
    if (l > 255) { ds_warn(c, "TXT RR truncated to 255 bytes"); l = 255; }
    rd[0] = (uint8_t)l;
    memcpy(rd + 1, s, l);
    *len = l + 1; *qt = QT_TXT; *type = T_TXT;
  } else if (!strcasecmp(t, "mx")) {
    if (!(s = parse_uint(s, &pri)) || pri > 65535) return -1;
    rd[0] = (uint8_t)(pri >> 8); rd[1] = (uint8_t)pri;
    if (!(s = parse_dn(s, rd + 2, &l)) || *s) return -1;
    *len = l + 2; *qt = QT_MX; *type = T_MX;
  } else return -1;
  return 1;
}

static int parse(struct dataset *ds, char *s, struct dsctx *c)
{
  struct generic *g = ds->d;
  uint8_t dn[DN_MAX + 1], rd[DN_MAX + 300];
  unsigned len, rdlen, qt, type;
  uint32_t ttl = ds->ttl;
  struct gent *e;
  char *t;

  if (s[0] == '@' && ISSPACE(s[1])) {
    dn[0] = 0;
    len = 1;
    s = skipspace(s + 1);
  }
  else if (!(s = parse_dn(s, dn, &len)) || len == 1) return -1;
  dn_lower(dn);
  if (*s >= '0' && *s <= '9' && !(s = parse_ttl(s, &ttl, ds->ttl)))
    return -1;
  if ((s[0] == 'i' || s[0] == 'I') && (s[1] == 'n' || s[1] == 'N') &&
      ISSPACE(s[2])) s = skipspace(s + 2);
  for (t = s; *s && !ISSPACE(*s); s++) ;
  if (!*s) return -1;
  *s = 0;
  s = skipspace(s + 1);
  if (value(s, t, rd, &rdlen, &qt, &type, c) < 0) return -1;
  if (g->n == g->a) {
    size_t na = g->a ? g->a * 2 : 16;
    struct gent *ne = xrealloc(g->e, na * sizeof *ne);
    if (!ne) return 0;
    g->e = ne;
    g->a = na;
  }
  e = &g->e[g->n];
  {
    uint8_t *ldn = arena_alloc(&ds->ar, len + 1);
    if (!ldn || !(e->rd = arena_memdup(&ds->ar, rd, rdlen))) return 0;
    ldn[0] = (uint8_t)(len - 1);
    memcpy(ldn + 1, dn, len);
    e->ldn = ldn;
  }
  e->qt = qt; e->type = type; e->rdlen = rdlen; e->ttl = ttl;
  e->seq = (uint32_t)g->n++;
  return 1;
}

static int line(struct dataset *ds, char *s, struct dsctx *c)
{
  int r = parse(ds, s, c);

  if (r < 0) ds_warn(c, "invalid/unrecognized entry");
  return r != 0;
}

static int cmp(const void *x, const void *y)
{
  const struct gent *a = x, *b = y;
  int r;

  if (a->ldn[0] != b->ldn[0]) return a->ldn[0] < b->ldn[0] ? -1 : 1;
  if ((r = memcmp(a->ldn + 1, b->ldn + 1, a->ldn[0]))) return r;
  if (a->qt != b->qt) return a->qt < b->qt ? -1 : 1;
  return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int finish(struct dataset *ds, struct dsctx *c)
{
  struct generic *g = ds->d;

  (void)c;
  if (g->n > 1) qsort(g->e, g->n, sizeof *g->e, cmp);
  ds->entries = g->n;
  return 1;
}

static int query(const struct dataset *ds, const struct qinfo *qi,
                 struct answer *a)
{
  const struct generic *g = ds->d;
  unsigned len0 = qi->dnlen - 1;
  size_t lo = 0, hi = g->n;

  while (lo < hi) {
    size_t m = (lo + hi) / 2;
    const uint8_t *k = g->e[m].ldn;
    int d = k[0] != len0 ? (k[0] < len0 ? -1 : 1) : memcmp(k + 1, qi->dn, len0);
    if (d < 0) lo = m + 1; else hi = m;
  }
  if (lo >= g->n || g->e[lo].ldn[0] != len0 ||
      memcmp(g->e[lo].ldn + 1, qi->dn, len0)) return 0;
  for (; lo < g->n && g->e[lo].ldn[0] == len0 &&
         !memcmp(g->e[lo].ldn + 1, qi->dn, len0); lo++)
    if (g->e[lo].qt & qi->tflag)
      ans_rr(a, g->e[lo].type, g->e[lo].rd, g->e[lo].rdlen, g->e[lo].ttl);
  return Q_FOUND;
}

static void release(struct dataset *ds)
{
  struct generic *g = ds->d;

  free(g->e);
  free(g);
  ds->d = NULL;
}

const struct dstype dst_generic = {
  "generic", 0, start, line, finish, query, release, NULL, NULL
};
