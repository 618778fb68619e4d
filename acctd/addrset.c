/* addrset.c - a set of strings in an arena (see addrset.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "addrset.h"

static uint32_t hash(const char *s, size_t n)
{
  uint32_t h = 2166136261U;

  while (n--) h = (h ^ (unsigned char)*s++) * 16777619U;
  return h;
}

/* The slot that holds s, or the empty one where it would go. */
static size_t find(const struct addrset *a, const char *s, size_t n,
                   uint32_t h)
{
  size_t i = h & (a->nslots - 1);

  while (a->slot[i]) {
    const char *k = a->arena + a->slot[i] - 1;

    if (!strncmp(k, s, n) && !k[n]) return i;
    i = (i + 1) & (a->nslots - 1);
  }
  return i;
}

static int grow_table(struct addrset *a)
{
  size_t n = a->nslots ? a->nslots * 2 : 1024, i;
  uint32_t *old = a->slot;
  size_t oldn = a->nslots;

  if (!(a->slot = calloc(n, sizeof *a->slot))) { a->slot = old; return -1; }
  a->nslots = n;
  for (i = 0; i < oldn; i++)
    if (old[i]) {
      const char *k = a->arena + old[i] - 1;
      size_t len = strlen(k);

      a->slot[find(a, k, len, hash(k, len))] = old[i];
    }
  free(old);
  return 0;
}

static int grow_arena(struct addrset *a, size_t need)
{
  size_t cap = a->acap ? a->acap : 65536;
  char *p;

  while (cap < a->alen + need) cap *= 2;
  /* offsets are 32 bits: a CDB cannot be larger anyway */
  if (cap > 0xffffffffUL) { errno = ENOMEM; return -1; }
  if (!(p = realloc(a->arena, cap))) return -1;
  a->arena = p;
  a->acap = cap;
  return 0;
}

int addrset_add(struct addrset *a, const char *s, size_t n)
{
  uint32_t h = hash(s, n);
  size_t i;

  if ((a->used + 1) * 2 > a->nslots && grow_table(a) < 0) return -1;
  i = find(a, s, n, h);
  if (a->slot[i]) return 0;
  if (a->alen + n + 1 > a->acap && grow_arena(a, n + 1) < 0) return -1;
  memcpy(a->arena + a->alen, s, n);
  a->arena[a->alen + n] = 0;
  a->slot[i] = (uint32_t)(a->alen + 1);
  a->alen += n + 1;
  a->used++;
  return 1;
}

void addrset_free(struct addrset *a)
{
  free(a->arena);
  free(a->slot);
  memset(a, 0, sizeof *a);
}
