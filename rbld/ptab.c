/* ptab.c - longest-prefix match over sorted arrays, one per prefix
 * length: a lookup masks the key for each length that has entries, from
 * the longest down, and binary-searches that array.  A repeated prefix
 * keeps its first entry, as rbldnsd's trie does. */
#include <stdlib.h>
#include <string.h>
#include "rbld.h"

static uint64_t be64(const uint8_t *p)
{
  uint64_t v = 0;
  int i;

  for (i = 0; i < 8; i++) v = v << 8 | p[i];
  return v;
}

static void mask(uint64_t *hi, uint64_t *lo, int bits)
{
  if (bits <= 0) { *hi = *lo = 0; return; }
  if (bits < 64) { *hi &= ~(~0ull >> bits); *lo = 0; return; }
  if (bits == 64) { *lo = 0; return; }
  if (bits < 128) *lo &= ~(~0ull >> (bits - 64));
}

int ptab_add(struct ptab *t, const uint8_t key[16], int bits, uint32_t v)
{
  struct pent *e;

  if (bits < 0 || bits > 128) return 1;
  if (t->n[bits] == t->a[bits]) {
    size_t na = t->a[bits] ? t->a[bits] * 2 : 16;
    e = xrealloc(t->e[bits], na * sizeof *e);
    if (!e) return 0;
    t->e[bits] = e;
    t->a[bits] = na;
  }
  e = &t->e[bits][t->n[bits]++];
  e->hi = be64(key);
  e->lo = be64(key + 8);
  mask(&e->hi, &e->lo, bits);
  e->seq = t->seq++;
  e->v = v;
  return 1;
}

static int cmp(const void *x, const void *y)
{
  const struct pent *a = x, *b = y;

  if (a->hi != b->hi) return a->hi < b->hi ? -1 : 1;
  if (a->lo != b->lo) return a->lo < b->lo ? -1 : 1;
  return a->seq < b->seq ? -1 : a->seq > b->seq;
}

unsigned long ptab_finish(struct ptab *t)
{
  unsigned long total = 0;
  size_t i, o;
  int b;

  for (b = 0; b <= 128; b++) {
    struct pent *e = t->e[b];
    if (!t->n[b]) continue;
    qsort(e, t->n[b], sizeof *e, cmp);
    for (i = 0, o = 0; i < t->n[b]; i++)
      if (!o || e[o - 1].hi != e[i].hi || e[o - 1].lo != e[i].lo)
        e[o++] = e[i];
    t->n[b] = o;
    total += o;
  }
  return total;
}

const struct pent *ptab_find(const struct ptab *t, const uint8_t key[16],
                             int maxbits)
{
  uint64_t qh = be64(key), ql = be64(key + 8);
  int b;

  for (b = maxbits; b >= 0; b--) {
    uint64_t h = qh, l = ql;
    size_t lo = 0, hi = t->n[b];
    const struct pent *e = t->e[b];
    if (!hi) continue;
    mask(&h, &l, b);
    while (lo < hi) {
      size_t m = (lo + hi) / 2;
      if (e[m].hi < h || (e[m].hi == h && e[m].lo < l)) lo = m + 1;
      else hi = m;
    }
    if (lo < t->n[b] && e[lo].hi == h && e[lo].lo == l) return &e[lo];
  }
  return NULL;
}

void ptab_free(struct ptab *t)
{
  int b;

  for (b = 0; b <= 128; b++) free(t->e[b]);
  memset(t, 0, sizeof *t);
}

int trie_start(struct dataset *ds, struct dsctx *c)
{
  (void)c;
  if (!ds->d) ds->d = calloc(1, sizeof(struct trie));
  return ds->d != NULL;
}

/* "[!]prefix [value]", after the type's own check for a ':' line */
int trie_entry(struct dataset *ds, char *s, struct dsctx *c,
               trie_keyfn *key)
{
  struct trie *t = ds->d;
  const uint8_t *rr;
  uint8_t k[16];
  uint32_t v = 0;
  int excl = 0, bits;

  if (*s == '!') { excl = 1; s = skipspace(s + 1); }
  if (!key(c, &s, k, &bits)) return 1;
  if (!entry_value(c, s, excl, &rr)) return !c->fatal;
  if (rr && !(v = rrtab_add(&t->rr, rr))) return 0;
  return ptab_add(&t->t, k, bits, v);
}

int trie_finish(struct dataset *ds, struct dsctx *c)
{
  struct trie *t = ds->d;

  (void)c;
  ds->entries = ptab_finish(&t->t);
  return 1;
}

void trie_release(struct dataset *ds)
{
  struct trie *t = ds->d;

  ptab_free(&t->t);
  rrtab_free(&t->rr);
  free(t);
  ds->d = NULL;
}
