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

/* One in-place MSD radix pass on the byte at shift: 256 write heads,
 * each moving forward through its own region, so the permutation stays
 * cache-friendly.  b[0..256] gets the region bounds. */
static void flag_pass(uint64_t *v, size_t n, int shift, size_t *b)
{
  size_t next[256], i;
  unsigned d;

  memset(b, 0, 257 * sizeof *b);
  for (i = 0; i < n; i++) b[((v[i] >> shift) & 255) + 1]++;
  for (d = 0; d < 256; d++) b[d + 1] += b[d];
  memcpy(next, b, sizeof next);
  for (d = 0; d < 256; d++)
    while (next[d] < b[d + 1]) {
      uint64_t x = v[next[d]];
      unsigned e = (unsigned)(x >> shift) & 255;
      while (e != d) {                       /* carry x to its region */
        uint64_t y = v[next[e]];
        v[next[e]++] = x;
        x = y;
        e = (unsigned)(x >> shift) & 255;
      }
      v[next[d]++] = x;
    }
}

static void isort48(uint64_t *v, size_t n)
{
  size_t i, j;

  for (i = 1; i < n; i++) {
    uint64_t x = v[i], k = x & 0xffffffffffffull;
    for (j = i; j > 0 && (v[j - 1] & 0xffffffffffffull) > k; j--)
      v[j] = v[j - 1];
    v[j] = x;
  }
}

/* Sorts in place (no second buffer, so a big dataset does not need
 * twice its memory at load): two byte passes on the top 16 bits, then
 * each of the 65536 small slots; idx gets the slot bounds. */
static int bucket_sort(uint64_t *v, size_t n, uint32_t *idx)
{
  size_t b0[257], b1[257];
  unsigned t, j;

  flag_pass(v, n, 56, b0);
  for (t = 0; t < 256; t++) {
    size_t len = b0[t + 1] - b0[t];
    flag_pass(v + b0[t], len, 48, b1);
    for (j = 0; j < 256; j++) {
      size_t lo = b0[t] + b1[j], m = b1[j + 1] - b1[j];
      idx[(t << 8) | j] = (uint32_t)lo;
      if (m > 32) qsort(v + lo, m, sizeof *v, cmp48);
      else if (m > 1) isort48(v + lo, m);
    }
  }
  idx[65536] = (uint32_t)n;
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

/* whether an index on the top bits leaves short slots: about 8 keys
 * each on average and no slot over 64 (clustered data, such as ranges
 * that fill a few /8s, would otherwise make long binary searches) */
static int short_slots(const uint64_t *v, size_t n, int bits)
{
  size_t i, run = 0;
  unsigned sh = 64 - (unsigned)bits;

  if ((n >> bits) > 8) return 0;
  for (i = 0; i < n; i++) {
    run = i && (v[i] >> sh) == (v[i - 1] >> sh) ? run + 1 : 1;
    if (run > 64) return 0;
  }
  return 1;
}

static size_t up8(size_t n) { return (n + 7) & ~(size_t)7; }

static inline void put_cell(uint8_t *c, uint32_t lo, uint32_t x, int vw)
{
  c[0] = (uint8_t)lo;
  c[1] = (uint8_t)(lo >> 8);
  c[2] = (uint8_t)x;
  if (vw > 1) c[3] = (uint8_t)(x >> 8);
  if (vw > 2) { c[4] = (uint8_t)(x >> 16); c[5] = (uint8_t)(x >> 24); }
}

static inline uint64_t get_cell(const uint8_t *c, int vw)
{
  uint64_t x = c[2];

  if (vw > 1) x |= (uint64_t)c[3] << 8;
  if (vw > 2) x |= (uint64_t)c[4] << 16 | (uint64_t)c[5] << 24;
  return ((uint64_t)c[0] | (uint64_t)c[1] << 8) << 32 | x;
}

static void isort64(uint64_t *v, size_t n)
{
  size_t i, j;

  for (i = 1; i < n; i++) {
    uint64_t x = v[i];
    for (j = i; j > 0 && v[j - 1] > x; j--) v[j] = v[j - 1];
    v[j] = x;
  }
}

/* Each slot of a big table in order: its cells out, sorted (key, then
 * value, so an exclusion comes first), duplicates dropped, back in at
 * o, which never passes the slot's start; idx[h] becomes the new start.
 * Returns the number of cells kept.  VW is a constant where this is
 * inlined, so the cell loops have no branches on it. */
static inline size_t sort_slots_vw(struct ktab *t, uint64_t *tmp,
                                   const int VW)
{
  const size_t cw = 2 + (size_t)VW;
  size_t o = 0, i, m, lo, hi;
  uint32_t h;

  for (h = 0; h < 65536; h++) {
    lo = t->idx[h];
    hi = t->idx[h + 1];
    t->idx[h] = (uint32_t)o;
    for (m = 0, i = lo; i < hi; i++)
      tmp[m++] = get_cell(t->kv + cw * i, VW);
    if (m > 64) qsort(tmp, m, sizeof *tmp, cmp64);
    else isort64(tmp, m);
    for (i = 0; i < m; i++) {
      if (i && tmp[i] == tmp[i - 1]) continue;
      put_cell(t->kv + cw * o++, (uint32_t)(tmp[i] >> 32),
               (uint32_t)tmp[i], VW);
    }
  }
  t->idx[65536] = (uint32_t)o;
  return o;
}

static size_t sort_slots(struct ktab *t, uint64_t *tmp)
{
  if (t->vw == 1) return sort_slots_vw(t, tmp, 1);
  if (t->vw == 2) return sort_slots_vw(t, tmp, 2);
  return sort_slots_vw(t, tmp, 4);
}

/* A table with more than 8 keys a /16 on average always gets the 16-bit
 * index, so it is built without sorting it whole: one pass counts the
 * keys of each /16 (which is the index), one drops each key's cell in
 * its slot, then each slot, short and in cache, is sorted on its own.
 * No second copy of the keys, and about three times faster than
 * sorting them all first. */
static int build_big(struct ktab *t, uint64_t *v, size_t n)
{
  uint32_t maxv = 0, *next, h;
  size_t i, ib, kb, most = 0, k;
  uint64_t *tmp;

  if (!(next = malloc(65537 * sizeof *next))) return 0;
  memset(next, 0, 65537 * sizeof *next);
  for (i = 0; i < n; i++) {
    next[v[i] >> 48]++;
    if ((uint32_t)v[i] > maxv) maxv = (uint32_t)v[i];
  }
  for (h = 0; h < 65536; h++) if (next[h] > most) most = next[h];
  t->bits = 16;
  t->vw = maxv < 256 ? 1 : maxv < 65536 ? 2 : 4;
  t->cw = 2 + (size_t)t->vw;
  ib = up8((65537 + 1025) * sizeof *t->idx);
  kb = up8(n * t->cw + 192);
  tmp = malloc(most * sizeof *tmp);
  if (!tmp || !(t->mem = big_alloc(ib + kb))) {
    free(tmp); free(next); return 0;
  }
  t->idx = t->mem;
  t->c10 = t->idx + 65537;
  t->kv = (uint8_t *)t->mem + ib;
  for (k = 0, h = 0; h < 65536; h++) {
    uint32_t c = next[h];
    t->idx[h] = next[h] = (uint32_t)k;
    k += c;
  }
  t->idx[65536] = (uint32_t)n;
  for (i = 0; i < n; i++)
    put_cell(t->kv + t->cw * next[v[i] >> 48]++, (uint32_t)(v[i] >> 32),
             (uint32_t)v[i], t->vw);
  free(next);
  free(v);
  t->n = sort_slots(t, tmp);
  free(tmp);
  for (h = 0; h <= 1024; h++) t->c10[h] = t->idx[h << 6];
  return 1;
}

int ktab_build(struct ktab *t, uint64_t *v, size_t n)
{
  uint32_t maxv = 0;
  size_t i, o, ib, kb, vb;
  uint32_t tmp[65537];
  uint8_t *m;

  memset(t, 0, sizeof *t);
  if (!n) { free(v); return 1; }
  if ((n >> 16) > 8) return build_big(t, v, n);
  if (!bucket_sort(v, n, tmp)) return 0;
  for (i = 0, o = 0; i < n; i++)              /* drop duplicates */
    if (!o || v[o - 1] != v[i]) v[o++] = v[i];
  n = o;
  for (t->bits = 8; t->bits < 16 && !short_slots(v, n, t->bits); t->bits++) ;
  if (t->bits == 16) return build_big(t, v, n);
  for (i = 0; i < n; i++) if ((uint32_t)v[i] > maxv) maxv = (uint32_t)v[i];
  t->vw = maxv < 256 ? 1 : maxv < 65536 ? 2 : 4;
  ib = up8(((1u << t->bits) + 1) * sizeof *t->idx);
  kb = up8(n * 4);
  vb = n * (size_t)t->vw;
  if (!(m = t->mem = big_alloc(ib + kb + vb))) return 0;
  t->idx = (uint32_t *)(void *)m;
  reindex(t, v, n);
  t->k32 = (uint32_t *)(void *)(m + ib);
  t->val = m + ib + kb;
  for (i = 0; i < n; i++) {
    t->k32[i] = (uint32_t)(v[i] >> 32);
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
  if (t->kv) return (uint32_t)t->kv[t->cw * i] |
                    (uint32_t)t->kv[t->cw * i + 1] << 8;
  return t->k32[i];
}

void ktab_prefetch(const struct ktab *t, uint32_t k)
{
  uint32_t h, a = k >> 22, lo, hi;
  const uint8_t *p;
  size_t est;

  if (!t->n) return;
  h = k >> (32 - t->bits);
  __builtin_prefetch(&t->idx[h]);
  if (!t->kv) return;
  /* where the key probably is, by interpolation in its /10: the 4 KB
   * c10 index is small enough to stay in cache between queries (a finer
   * one would not, and its miss would come before the cells'), so the
   * cells are fetched along with the index slot rather than after it.
   * Five lines: the guess is off by about a line for random keys. */
  lo = t->c10[a];
  hi = t->c10[a + 1];
  est = lo + (((size_t)(hi - lo) * ((k >> 6) & 0xffff)) >> 16);
  if (est >= t->n) est = t->n - 1;     /* the block has 192 bytes spare */
  p = t->kv + t->cw * est;
  __builtin_prefetch(p - 128);
  __builtin_prefetch(p - 64);
  __builtin_prefetch(p);
  __builtin_prefetch(p + 64);
  __builtin_prefetch(p + 128);
}

void ktab_prefetch_keys(const struct ktab *t, uint32_t k)
{
  size_t lo, hi;
  uint32_t h;

  if (!t->n) return;
  h = k >> (32 - t->bits);
  lo = t->idx[h];
  hi = t->idx[h + 1];
  if (lo >= hi) return;
  if (t->kv) {
    __builtin_prefetch(t->kv + t->cw * lo);
    __builtin_prefetch(t->kv + t->cw * hi - 1);
    return;
  }
  __builtin_prefetch(t->k32 + (lo + hi) / 2);
}

size_t ktab_find(const struct ktab *t, uint32_t k)
{
  size_t lo, hi, end;
  uint32_t h, want;

  if (!t->n) return t->n;
  h = k >> (32 - t->bits);
  want = t->bits == 16 ? (k & 0xffff) : k;
  lo = t->idx[h];
  end = hi = t->idx[h + 1];
  if (lo == hi) return t->n;
  if (!t->kv) {                 /* the value's line, with the keys' */
    if (t->vw == 1) __builtin_prefetch((const uint8_t *)t->val + lo);
    else if (t->vw == 2) __builtin_prefetch((const uint16_t *)t->val + lo);
    else __builtin_prefetch((const uint32_t *)t->val + lo);
  }
  /* halving without a branch on the comparison (a conditional move):
   * random keys make each step's outcome a coin toss, which a branch
   * predictor loses half the time */
  if (t->kv) {
    const uint8_t *kv = t->kv;
    size_t cw = t->cw, n = hi - lo;
    while (n > 1) {
      size_t half = n / 2;
      const uint8_t *c = kv + cw * (lo + half);
      lo = (uint32_t)(c[0] | c[1] << 8) < want ? lo + half : lo;
      n -= half;
    }
    lo += key_at(t, lo) < want;
    return lo < end && key_at(t, lo) == want ? lo : t->n;
  }
  {
    const uint32_t *k32 = t->k32;
    size_t n = hi - lo;
    while (n > 1) {
      size_t half = n / 2;
      lo = k32[lo + half] < want ? lo + half : lo;
      n -= half;
    }
    lo += k32[lo] < want;
    return lo < end && k32[lo] == want ? lo : t->n;
  }
}

uint32_t ktab_val(const struct ktab *t, size_t i)
{
  if (t->kv) {
    const uint8_t *c = t->kv + t->cw * i;
    uint32_t x = c[2];
    if (t->vw > 1) x |= (uint32_t)c[3] << 8;
    if (t->vw > 2) x |= (uint32_t)c[4] << 16 | (uint32_t)c[5] << 24;
    return x;
  }
  if (t->vw == 1) return ((const uint8_t *)t->val)[i];
  if (t->vw == 2) return ((const uint16_t *)t->val)[i];
  return ((const uint32_t *)t->val)[i];
}

uint32_t ktab_key(const struct ktab *t, size_t i, uint32_t k)
{
  if (i >= t->idx[(k >> (32 - t->bits)) + 1]) return 0;
  return key_at(t, i) == (t->bits == 16 ? (k & 0xffff) : k);
}

void ktab_free(struct ktab *t)
{
  free(t->mem);
  memset(t, 0, sizeof *t);
}
