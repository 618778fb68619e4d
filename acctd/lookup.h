/*
 * lookup.h - what acctd answers for one key.
 *
 * Postfix asks tcp and socketmap tables for the full address only, so
 * acctd does what a cdb: map would get from Postfix itself: the address,
 * then the address without its extension (user+ext@domain -> user@domain,
 * delimiters as recipient_delimiter), then @domain.  The quoted form
 * "john doe"@domain is not found: Postfix asks again unquoted.
 */
#ifndef ACCTD_LOOKUP_H
#define ACCTD_LOOKUP_H

#include <stddef.h>
#include "db.h"

enum lookup_result { LOOKUP_FOUND, LOOKUP_NOTFOUND, LOOKUP_TEMP };

/* d->map NULL means no usable CDB: LOOKUP_TEMP.  *why names the reason
 * for NOTFOUND and TEMP ("cdb_unavailable", "quoted", ...). */
enum lookup_result lookup(const struct db *d, const char *delims,
                          const char *key, size_t n, const char **why);

#endif
