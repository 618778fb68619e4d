/*
 * topn.h - bounded counters keyed by short strings (space-saving).
 *
 * A table holds at most cap keys, whatever the number of lines read.
 * While fewer than cap distinct keys were seen every count is exact.
 * After that a new key evicts one with the smallest count and inherits
 * that count (Metwally, Agrawal, El Abbadi, "Efficient computation of
 * frequent and top-k elements in data streams", 2005): any key whose
 * true count is above total/cap is certain to be in the table, no count
 * is too low, and each is at most err too high, err being what it
 * inherited.  The counts are kept in their "stream-summary": a list of
 * buckets of equal count in ascending order, so that an increment and
 * an eviction each cost a few pointer moves.  Memory is fixed at
 * topn_new() time: about cap * (TOPN_KEYMAX + 64) bytes.
 */
#ifndef REPORTD_TOPN_H
#define REPORTD_TOPN_H

#include <stddef.h>

#define TOPN_KEYMAX 160   /* longer keys are cut */

struct topn_item {
  unsigned long long n;      /* count (maybe err too high) */
  unsigned long long err;    /* over-estimate inherited at eviction */
  unsigned next;             /* hash chain (item index + 1) */
  unsigned hash;
  unsigned bucket;           /* its bucket (index + 1) */
  unsigned prev_in, next_in; /* neighbours in the bucket (index + 1) */
  unsigned short len;
  char key[TOPN_KEYMAX + 1];
};

struct topn_bucket {
  unsigned long long n;      /* the count of every item in it */
  unsigned first;            /* an item (index + 1) */
  unsigned prev, next;       /* neighbour buckets (index + 1) */
};

struct topn {
  unsigned cap, used, nbucket;
  unsigned *hash;            /* item index + 1, 0 = empty */
  struct topn_item *item;
  struct topn_bucket *bk;    /* cap buckets at most are ever in use */
  unsigned bk_free;          /* free list through .next */
  unsigned bk_min;           /* the smallest count's bucket */
  unsigned long long total;  /* sum of every increment */
  unsigned long long evicted;/* keys pushed out */
};

/* Returns NULL when out of memory. */
struct topn *topn_new(unsigned cap);
void topn_free(struct topn *t);
void topn_add(struct topn *t, const char *key, size_t len,
              unsigned long long by);
/* The item of key, or NULL. */
const struct topn_item *topn_get(const struct topn *t, const char *key,
                                 size_t len);
/* Fill out with up to max items, largest count first (ties by key);
 * returns how many. */
unsigned topn_top(const struct topn *t, const struct topn_item **out,
                  unsigned max);

#endif
