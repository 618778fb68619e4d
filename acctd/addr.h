/*
 * addr.h - mail addresses as acctd stores and looks them up.
 *
 * Stored form: "local@domain", or "@domain" for a catch-all.  The local
 * part is in Postfix's internal (unquoted) form, the form Postfix asks
 * for after the quoted one; the domain is lower-cased.  The local part is
 * lower-cased too unless the CDB was built case-sensitive.  Lower-casing
 * covers ASCII and, through towlower(3) in C.UTF-8, UTF-8 text.
 */
#ifndef ACCTD_ADDR_H
#define ACCTD_ADDR_H

#include <stddef.h>

/* Longest address (bytes) stored or looked up.  RFC 5321 allows 254 in a
 * path; a little more leaves room for sloppy exports. */
#define ADDR_MAX 512

/* Lower-case n bytes of in into out (room bytes, NUL added).  Returns the
 * length, or -1 if it does not fit.  Invalid UTF-8 is copied unchanged. */
long addr_fold(char *out, size_t room, const char *in, size_t n);

/* Parse an address as written in a source file (text or LDIF value):
 * local@domain, "quoted local"@domain or @domain.  Writes the stored form
 * to out (ADDR_MAX + 1 bytes) and returns its length, or -1 with *why set
 * to what is wrong. */
long addr_parse(char *out, const char *in, size_t n, int keepcase,
                const char **why);

/* Length of the local part's base without its extension: the bytes before
 * the first delimiter character.  0 if there is no extension to strip
 * (none, or the delimiter comes first, or the local part is postmaster or
 * mailer-daemon, which Postfix never splits either). */
size_t addr_base(const char *local, size_t n, const char *delims);

#endif
