/* sort.c - the compact structures behind ip4set, ip4tset and ip6tset:
 * arrays of 64-bit words (key in the high bits), radix-sorted at load,
 * with a 65536-slot index on the top 16 bits so a lookup is one index
 * read and a short binary search. */
#include <stdlib.h>
#include <string.h>
#include "rbld.h"

uint32_t rrtab_add(struct rrtab *t, const uint8_t *rr)
{
  if (t->n && rr == t->last) return t->lasti;
  if (t->n == 0) t->n = 1;              /* slot 0 means "excluded" */
  if (t->n >= t->a) {
    uint32_t na = t->a ? t->a * 2 : 64;
    const uint8_t **v = xrealloc(t->v, na * sizeof *v);
    if (!v) return 0;
    t->v = v;
    t->a = na;
    t->v[0] = NULL;
  }
  t->v[t->n] = rr;
  t->last = rr;
  t->lasti = t->n;
  return t->n++;
}

void rrtab_free(struct rrtab *t) { free(t->v); memset(t, 0, sizeof *t); }

int vec64_push(struct vec64 *v, uint64_t x)
{
  if (v->n == v->a) {
    size_t na = v->a ? v->a * 2 : 1024;
    uint64_t *nv = xrealloc(v->v, na * sizeof *nv);
    if (!nv) return 0;
    v->v = nv;
    v->a = na;
  }
  v->v[v->n++] = x;
  return 1;
}

static int cmp64(const void *a, const void *b)
{
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

  return x < y ? -1 : x > y;
}

/* LSD radix sort, 16 bits a pass; passes whose digit never varies are
 * skipped (the value index often fits in a few bits). */
void sort64(uint64_t *v, size_t n)
{
  uint64_t *tmp, *src = v, *dst;
  size_t *cnt, i;
  int pass;

  if (n < 2) return;
  if (n < 4096) { qsort(v, n, sizeof *v, cmp64); return; }
  tmp = malloc(n * sizeof *tmp);
  cnt = malloc(65536 * sizeof *cnt);
  if (!tmp || !cnt) {
    free(tmp); free(cnt);
    qsort(v, n, sizeof *v, cmp64);
    return;
  }
  dst = tmp;
  for (pass = 0; pass < 4; pass++) {
    int sh = pass * 16;
    size_t sum = 0;
    memset(cnt, 0, 65536 * sizeof *cnt);
    for (i = 0; i < n; i++) cnt[(src[i] >> sh) & 0xffff]++;
    if (cnt[(src[0] >> sh) & 0xffff] == n) continue;
    for (i = 0; i < 65536; i++) { size_t c = cnt[i]; cnt[i] = sum; sum += c; }
    for (i = 0; i < n; i++) dst[cnt[(src[i] >> sh) & 0xffff]++] = src[i];
    { uint64_t *t = src; src = dst; dst = t; }
  }
  if (src != v) memcpy(v, src, n * sizeof *v);
  free(tmp);
  free(cnt);
}

size_t uniq64(uint64_t *v, size_t n)
{
  size_t i, o = 0;

  for (i = 0; i < n; i++)
    if (o == 0 || v[o - 1] != v[i]) v[o++] = v[i];
  return o;
}

uint32_t *index64(const uint64_t *v, size_t n)
{
  uint32_t *idx = malloc(65537 * sizeof *idx);
  size_t i = 0;
  uint32_t h;

  if (!idx) return NULL;
  for (h = 0; h < 65536; h++) {
    while (i < n && (v[i] >> 48) < h) i++;
    idx[h] = (uint32_t)i;
  }
  idx[65536] = (uint32_t)n;
  return idx;
}

size_t find64(const uint64_t *v, size_t n, const uint32_t *idx, uint32_t k)
{
  size_t lo, hi;

  if (!n) return n;
  lo = idx[k >> 16];
  hi = idx[(k >> 16) + 1];
  while (lo < hi) {                 /* first element with key >= k */
    size_t m = (lo + hi) / 2;
    if ((uint32_t)(v[m] >> 32) < k) lo = m + 1;
    else hi = m;
  }
  return lo < n && (uint32_t)(v[lo] >> 32) == k ? lo : n;
}
