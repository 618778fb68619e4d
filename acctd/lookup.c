/* lookup.c - address, address without extension, @domain (lookup.h). */
#include <string.h>
#include "addr.h"
#include "lookup.h"

/* ADDR_MAX bytes of input may grow when lower-cased (a few characters
 * take more UTF-8 bytes in lower case): room for that. */
#define NORM_MAX (2 * ADDR_MAX)

/* Normalise as acctd-data stored it; returns the length or -1. */
static long normalise(char *out, const struct db *d, const char *key,
                      size_t n, size_t *llen)
{
  const char *at = memrchr(key, '@', n);
  long l, dl;

  if (!at) return -1;
  *llen = (size_t)(at - key);
  if (d->keepcase) {
    memcpy(out, key, *llen);
    l = (long)*llen;
  } else if ((l = addr_fold(out, NORM_MAX, key, *llen)) < 0) return -1;
  *llen = (size_t)l;
  out[l++] = '@';
  dl = addr_fold(out + l, NORM_MAX + 2 - (size_t)l, at + 1,
                 n - (size_t)(at + 1 - key));
  return dl < 0 ? -1 : l + dl;
}

static enum lookup_result found(const struct db *d, const char *k, size_t n,
                                const char **why, int *err)
{
  int r = db_find(d, k, n);

  if (r < 0) { *why = "cdb_corrupt"; *err = 1; }
  return r > 0 ? LOOKUP_FOUND : LOOKUP_NOTFOUND;
}

enum lookup_result lookup(const struct db *d, const char *delims,
                          const char *key, size_t n, const char **why)
{
  char norm[NORM_MAX + 3], alt[NORM_MAX + 3];
  size_t llen, base;
  long len;
  int err = 0;

  *why = "unknown";
  if (!d->map) { *why = "cdb_unavailable"; return LOOKUP_TEMP; }
  if (n && key[0] == '"') { *why = "quoted"; return LOOKUP_NOTFOUND; }
  if (n > ADDR_MAX) { *why = "too_long"; return LOOKUP_NOTFOUND; }
  if ((len = normalise(norm, d, key, n, &llen)) < 0) {
    *why = "not_an_address";
    return LOOKUP_NOTFOUND;
  }
  if (found(d, norm, (size_t)len, why, &err) == LOOKUP_FOUND)
    return LOOKUP_FOUND;
  if (!err && (base = addr_base(norm, llen, delims))) {
    memcpy(alt, norm, base);
    memcpy(alt + base, norm + llen, (size_t)len - llen);
    if (found(d, alt, base + (size_t)len - llen, why, &err) == LOOKUP_FOUND)
      return LOOKUP_FOUND;
  }
  if (!err && llen
      && found(d, norm + llen, (size_t)len - llen, why, &err) == LOOKUP_FOUND)
    return LOOKUP_FOUND;
  return err ? LOOKUP_TEMP : LOOKUP_NOTFOUND;
}
