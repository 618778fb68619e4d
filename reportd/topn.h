/*
 * topn.h - bounded counters keyed by short strings (space-saving).
 *
 * A table holds at most cap keys, whatever the number of lines read.
 * While fewer than cap distinct keys were seen every count is exact.
 * After that a new key evicts the smallest one and inherits its count
 * (Metwally et al., "space-saving"): any key whose true count is above
 * total/cap is certain to be in the table, and each count is at most
 * err too high, err being what it inherited.  Memory is fixed at
 * topn_new() time: about cap * (TOPN_KEYMAX + 40) bytes.
 */
#ifndef REPORTD_TOPN_H
#define REPORTD_TOPN_H

#include <stddef.h>

#define TOPN_KEYMAX 160   /* longer keys are cut */

struct topn_item {
  unsigned long long n;      /* count (maybe err too high) */
  unsigned long long err;    /* over-estimate inherited at eviction */
  unsigned next;             /* hash chain */
  unsigned hash;
  unsigned short len;
  char key[TOPN_KEYMAX + 1];
};

struct topn {
  unsigned cap, used, nbucket;
  unsigned *bucket;          /* item index + 1, 0 = empty */
  unsigned *heap;            /* min-heap of item indexes by n */
  unsigned *pos;             /* item index -> heap position */
  struct topn_item *item;
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
