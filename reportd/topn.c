/*
 * topn.c - space-saving counters: a hash of chains over a fixed item
 * array, and a min-heap of the items by count so that the key to evict
 * is always at heap[0].
 */
#include <stdlib.h>
#include <string.h>

#include "topn.h"

static unsigned hash_key(const char *s, size_t n)
{
  unsigned h = 2166136261u;

  while (n--) h = (h ^ (unsigned char)*s++) * 16777619u;
  return h;
}

struct topn *topn_new(unsigned cap)
{
  struct topn *t = calloc(1, sizeof *t);

  if (!t || !cap) { free(t); return NULL; }
  t->cap = cap;
  t->nbucket = 1;
  while (t->nbucket < cap * 2) t->nbucket <<= 1;
  t->bucket = calloc(t->nbucket, sizeof *t->bucket);
  t->heap = calloc(cap, sizeof *t->heap);
  t->pos = calloc(cap, sizeof *t->pos);
  t->item = calloc(cap, sizeof *t->item);
  if (!t->bucket || !t->heap || !t->pos || !t->item) {
    topn_free(t);
    return NULL;
  }
  return t;
}

void topn_free(struct topn *t)
{
  if (!t) return;
  free(t->bucket); free(t->heap); free(t->pos); free(t->item);
  free(t);
}

static void heap_swap(struct topn *t, unsigned a, unsigned b)
{
  unsigned x = t->heap[a];

  t->heap[a] = t->heap[b];
  t->heap[b] = x;
  t->pos[t->heap[a]] = a;
  t->pos[t->heap[b]] = b;
}

static unsigned long long cnt(const struct topn *t, unsigned h)
{
  return t->item[t->heap[h]].n;
}

static void sift_up(struct topn *t, unsigned h)
{
  while (h && cnt(t, (h - 1) / 2) > cnt(t, h)) {
    heap_swap(t, h, (h - 1) / 2);
    h = (h - 1) / 2;
  }
}

static void sift_down(struct topn *t, unsigned h)
{
  for (;;) {
    unsigned l = 2 * h + 1, r = l + 1, m = h;

    if (l < t->used && cnt(t, l) < cnt(t, m)) m = l;
    if (r < t->used && cnt(t, r) < cnt(t, m)) m = r;
    if (m == h) return;
    heap_swap(t, h, m);
    h = m;
  }
}

static unsigned find(const struct topn *t, const char *key, size_t len,
                     unsigned h)
{
  unsigned i = t->bucket[h & (t->nbucket - 1)];

  while (i) {
    const struct topn_item *it = &t->item[i - 1];

    if (it->hash == h && it->len == len && !memcmp(it->key, key, len))
      return i;
    i = it->next;
  }
  return 0;
}

static void chain_remove(struct topn *t, unsigned idx)
{
  unsigned *p = &t->bucket[t->item[idx].hash & (t->nbucket - 1)];

  while (*p && *p != idx + 1) p = &t->item[*p - 1].next;
  if (*p) *p = t->item[idx].next;
}

static void chain_insert(struct topn *t, unsigned idx)
{
  unsigned *b = &t->bucket[t->item[idx].hash & (t->nbucket - 1)];

  t->item[idx].next = *b;
  *b = idx + 1;
}

static void set_key(struct topn_item *it, const char *key, size_t len,
                    unsigned h)
{
  memcpy(it->key, key, len);
  it->key[len] = 0;
  it->len = len;
  it->hash = h;
}

void topn_add(struct topn *t, const char *key, size_t len,
              unsigned long long by)
{
  unsigned h, i;

  if (len > TOPN_KEYMAX) len = TOPN_KEYMAX;
  h = hash_key(key, len);
  t->total += by;
  i = find(t, key, len, h);
  if (i) {
    t->item[i - 1].n += by;
    sift_down(t, t->pos[i - 1]);
    return;
  }
  if (t->used < t->cap) {
    i = t->used++;
    set_key(&t->item[i], key, len, h);
    t->item[i].n = by;
    t->item[i].err = 0;
    t->heap[i] = i;
    t->pos[i] = i;
    chain_insert(t, i);
    sift_up(t, i);
    return;
  }
  /* Full: the smallest key makes room and the newcomer inherits its
   * count as an error bound. */
  i = t->heap[0];
  chain_remove(t, i);
  t->item[i].err = t->item[i].n;
  t->item[i].n += by;
  set_key(&t->item[i], key, len, h);
  chain_insert(t, i);
  t->evicted++;
  sift_down(t, 0);
}

const struct topn_item *topn_get(const struct topn *t, const char *key,
                                 size_t len)
{
  unsigned i;

  if (len > TOPN_KEYMAX) len = TOPN_KEYMAX;
  i = find(t, key, len, hash_key(key, len));
  return i ? &t->item[i - 1] : NULL;
}

static int by_count_desc(const void *a, const void *b)
{
  const struct topn_item *x = *(const struct topn_item *const *)a;
  const struct topn_item *y = *(const struct topn_item *const *)b;

  if (x->n != y->n) return x->n < y->n ? 1 : -1;
  return strcmp(x->key, y->key);
}

unsigned topn_top(const struct topn *t, const struct topn_item **out,
                  unsigned max)
{
  const struct topn_item **all;
  unsigned i, n;

  if (!t->used || !max) return 0;
  all = malloc(t->used * sizeof *all);
  if (!all) return 0;
  for (i = 0; i < t->used; i++) all[i] = &t->item[i];
  qsort(all, t->used, sizeof *all, by_count_desc);
  n = t->used < max ? t->used : max;
  memcpy(out, all, n * sizeof *out);
  free(all);
  return n;
}
