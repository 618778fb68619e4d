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

static int cmp48(const void *a, const void *b)
{
  uint64_t x = *(const uint64_t *)a & 0xffffffffffffull;
  uint64_t y = *(const uint64_t *)b & 0xffffffffffffull;

  return x < y ? -1 : x > y;
}

/* In-place MSD radix step on the top 16 bits (no second buffer, so a
 * big dataset does not need twice its memory at load), then each slot
 * is sorted on its own; the slot boundaries become the index. */
static int bucket_sort(uint64_t *v, size_t n, uint32_t *idx)
{
  uint32_t *next = malloc(65536 * sizeof *next);
  size_t i;
  uint32_t h;

  if (!next) return 0;
  memset(idx, 0, 65537 * sizeof *idx);
  for (i = 0; i < n; i++) idx[(v[i] >> 48) + 1]++;
  for (h = 0; h < 65536; h++) idx[h + 1] += idx[h];
  memcpy(next, idx, 65536 * sizeof *next);
  for (h = 0; h < 65536; h++)
    while (next[h] < idx[h + 1]) {
      uint64_t x = v[next[h]];
      uint32_t d = (uint32_t)(x >> 48);
      while (d != h) {                       /* cycle x to its slot */
        uint64_t y = v[next[d]];
        v[next[d]++] = x;
        x = y;
        d = (uint32_t)(x >> 48);
      }
      v[next[h]++] = x;
    }
  free(next);
  for (h = 0; h < 65536; h++)
    if (idx[h + 1] - idx[h] > 1)
      qsort(v + idx[h], idx[h + 1] - idx[h], sizeof *v, cmp48);
  return 1;
}

static void reindex(struct ktab *t, const uint64_t *v, size_t n)
{
  uint32_t h, sh = 64 - (uint32_t)t->bits;
  size_t k = 0;

  for (h = 0; h <= (1u << t->bits); h++) {
    while (k < n && (v[k] >> sh) < h) k++;
    t->idx[h] = (uint32_t)k;
  }
}

int ktab_build(struct ktab *t, uint64_t *v, size_t n)
{
  uint32_t maxv = 0;
  size_t i, o;
  uint32_t tmp[65537];

  memset(t, 0, sizeof *t);
  if (!n) { free(v); return 1; }
  if (!bucket_sort(v, n, tmp)) return 0;
  for (i = 0, o = 0; i < n; i++)              /* drop duplicates */
    if (!o || v[o - 1] != v[i]) v[o++] = v[i];
  n = o;
  for (t->bits = 8; t->bits < 16 && (n >> t->bits) > 8; t->bits++) ;
  if (!(t->idx = malloc(((1u << t->bits) + 1) * sizeof *t->idx))) return 0;
  reindex(t, v, n);
  for (i = 0; i < n; i++) if ((uint32_t)v[i] > maxv) maxv = (uint32_t)v[i];
  t->vw = maxv < 256 ? 1 : maxv < 65536 ? 2 : 4;
  if (t->bits == 16) t->lo16 = malloc(n * sizeof *t->lo16);
  else t->k32 = malloc(n * sizeof *t->k32);
  t->val = malloc(n * (size_t)t->vw);
  if ((!t->lo16 && !t->k32) || !t->val) return 0;
  for (i = 0; i < n; i++) {
    if (t->lo16) t->lo16[i] = (uint16_t)(v[i] >> 32);
    else t->k32[i] = (uint32_t)(v[i] >> 32);
    if (t->vw == 1) ((uint8_t *)t->val)[i] = (uint8_t)v[i];
    else if (t->vw == 2) ((uint16_t *)t->val)[i] = (uint16_t)v[i];
    else ((uint32_t *)t->val)[i] = (uint32_t)v[i];
  }
  t->n = n;
  free(v);
  return 1;
}

static uint32_t key_at(const struct ktab *t, size_t i)
{
  return t->lo16 ? t->lo16[i] : t->k32[i];
}

size_t ktab_find(const struct ktab *t, uint32_t k)
{
  size_t lo, hi, end;
  uint32_t h, want;

  if (!t->n) return t->n;
  h = k >> (32 - t->bits);
  want = t->lo16 ? (k & 0xffff) : k;
  lo = t->idx[h];
  end = hi = t->idx[h + 1];
  while (lo < hi) {
    size_t m = (lo + hi) / 2;
    if (key_at(t, m) < want) lo = m + 1; else hi = m;
  }
  return lo < end && key_at(t, lo) == want ? lo : t->n;
}

uint32_t ktab_val(const struct ktab *t, size_t i)
{
  if (t->vw == 1) return ((const uint8_t *)t->val)[i];
  if (t->vw == 2) return ((const uint16_t *)t->val)[i];
  return ((const uint32_t *)t->val)[i];
}

uint32_t ktab_key(const struct ktab *t, size_t i, uint32_t k)
{
  if (i >= t->idx[(k >> (32 - t->bits)) + 1]) return 0;
  return key_at(t, i) == (t->lo16 ? (k & 0xffff) : k);
}

void ktab_free(struct ktab *t)
{
  free(t->idx);
  free(t->lo16);
  free(t->k32);
  free(t->val);
  memset(t, 0, sizeof *t);
}
