/*
 * addrset.h - the set of addresses a source has given so far, so that
 * acctd-data writes each once and its guards count distinct addresses.
 * The strings live in one growing arena, the table holds their offsets
 * (open addressing, kept at most half full).
 */
#ifndef ACCTD_ADDRSET_H
#define ACCTD_ADDRSET_H

#include <stddef.h>
#include <stdint.h>

struct addrset {
  char *arena;
  size_t alen, acap;
  uint32_t *slot;              /* offset + 1 into arena; 0: empty */
  size_t nslots, used;
};

/* 1 if s (n bytes) is new and now held, 0 if held already, -1 with
 * errno set when memory (or the 4 GB arena) runs out. */
int addrset_add(struct addrset *a, const char *s, size_t n);
void addrset_free(struct addrset *a);

#endif
