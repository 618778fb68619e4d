/*
 * topn.c - space-saving counters over a stream-summary; see topn.h.
 * Indexes are stored plus one so that 0 means "none".
 */
#include <stdlib.h>
#include <string.h>

#include "topn.h"

#define IT(i) (&t->item[(i) - 1])
#define BK(b) (&t->bk[(b) - 1])

static unsigned hash_key(const char *s, size_t n)
{
  unsigned h = 2166136261u;

  while (n--) h = (h ^ (unsigned char)*s++) * 16777619u;
  return h;
}

struct topn *topn_new(unsigned cap)
{
  struct topn *t = calloc(1, sizeof *t);
  unsigned i;

  if (!t || !cap) { free(t); return NULL; }
  t->cap = cap;
  t->nbucket = 1;
  while (t->nbucket < cap * 2) t->nbucket <<= 1;
  t->hash = calloc(t->nbucket, sizeof *t->hash);
  t->item = calloc(cap, sizeof *t->item);
  t->bk = calloc(cap + 1, sizeof *t->bk);
  if (!t->hash || !t->item || !t->bk) {
    topn_free(t);
    return NULL;
  }
  for (i = 1; i <= cap; i++) t->bk[i - 1].next = i + 1 <= cap + 1 ? i + 1 : 0;
  t->bk[cap].next = 0;
  t->bk_free = 1;
  return t;
}

void topn_free(struct topn *t)
{
  if (!t) return;
  free(t->hash); free(t->item); free(t->bk);
  free(t);
}

static unsigned find(const struct topn *t, const char *key, size_t len,
                     unsigned h)
{
  unsigned i = t->hash[h & (t->nbucket - 1)];

  while (i) {
    const struct topn_item *it = &t->item[i - 1];

    if (it->hash == h && it->len == len && !memcmp(it->key, key, len))
      return i;
    i = it->next;
  }
  return 0;
}

static void chain_remove(struct topn *t, unsigned i)
{
  unsigned *p = &t->hash[IT(i)->hash & (t->nbucket - 1)];

  while (*p && *p != i) p = &IT(*p)->next;
  if (*p) *p = IT(i)->next;
}

static void chain_insert(struct topn *t, unsigned i)
{
  unsigned *b = &t->hash[IT(i)->hash & (t->nbucket - 1)];

  IT(i)->next = *b;
  *b = i;
}

/* A bucket for count n right after bucket `after` (0: at the head). */
static unsigned bucket_new(struct topn *t, unsigned after,
                           unsigned long long n)
{
  unsigned b = t->bk_free, nx = after ? BK(after)->next : t->bk_min;

  t->bk_free = BK(b)->next;
  BK(b)->n = n;
  BK(b)->first = 0;
  BK(b)->prev = after;
  BK(b)->next = nx;
  if (nx) BK(nx)->prev = b;
  if (after) BK(after)->next = b;
  else t->bk_min = b;
  return b;
}

static void bucket_drop(struct topn *t, unsigned b)
{
  struct topn_bucket *k = BK(b);

  if (k->prev) BK(k->prev)->next = k->next;
  else t->bk_min = k->next;
  if (k->next) BK(k->next)->prev = k->prev;
  k->next = t->bk_free;
  t->bk_free = b;
}

static void detach(struct topn *t, unsigned i)
{
  struct topn_item *it = IT(i);
  struct topn_bucket *k = BK(it->bucket);

  if (it->prev_in) IT(it->prev_in)->next_in = it->next_in;
  else k->first = it->next_in;
  if (it->next_in) IT(it->next_in)->prev_in = it->prev_in;
  it->prev_in = it->next_in = 0;
}

static void attach(struct topn *t, unsigned i, unsigned b)
{
  struct topn_item *it = IT(i);

  it->bucket = b;
  it->prev_in = 0;
  it->next_in = BK(b)->first;
  if (it->next_in) IT(it->next_in)->prev_in = i;
  BK(b)->first = i;
}

/* Item i's count goes up by one: into the next bucket. */
static void bump(struct topn *t, unsigned i)
{
  unsigned b = IT(i)->bucket, nx = BK(b)->next;
  unsigned long long n = BK(b)->n + 1;

  if (!nx || BK(nx)->n != n) nx = bucket_new(t, b, n);
  detach(t, i);
  if (!BK(b)->first) bucket_drop(t, b);
  attach(t, i, nx);
  IT(i)->n = n;
}

static void set_key(struct topn_item *it, const char *key, size_t len,
                    unsigned h)
{
  memcpy(it->key, key, len);
  it->key[len] = 0;
  it->len = len;
  it->hash = h;
}

static unsigned add_one(struct topn *t, const char *key, size_t len,
                        unsigned h)
{
  unsigned i = find(t, key, len, h);

  if (i) { bump(t, i); return i; }
  if (t->used < t->cap) {
    i = ++t->used;
    set_key(IT(i), key, len, h);
    IT(i)->err = 0;
    chain_insert(t, i);
    if (!t->bk_min || BK(t->bk_min)->n != 1) attach(t, i, bucket_new(t, 0, 1));
    else attach(t, i, t->bk_min);
    IT(i)->n = 1;
    return i;
  }
  /* Full: a key of the smallest count makes room, the newcomer inherits
   * that count as its error bound. */
  i = BK(t->bk_min)->first;
  chain_remove(t, i);
  set_key(IT(i), key, len, h);
  IT(i)->err = IT(i)->n;
  chain_insert(t, i);
  t->evicted++;
  bump(t, i);
  return i;
}

void topn_add(struct topn *t, const char *key, size_t len,
              unsigned long long by)
{
  unsigned h, i;

  if (!by) return;
  if (len > TOPN_KEYMAX) len = TOPN_KEYMAX;
  h = hash_key(key, len);
  t->total += by;
  i = add_one(t, key, len, h);
  while (--by) bump(t, i);
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
