/*
 * reader.h - the account sources acctd-data compiles.
 *
 * Text: one address per line; "@domain" accepts every local part of the
 * domain; '#' starts a comment (at the start of a line, or after white
 * space); blank lines and spaces around an address are ignored.
 *
 * LDIF (RFC 2849) as ldapsearch or Active Directory's ldifde export it:
 * the values of mail: and proxyAddresses: are taken, the latter only with
 * an smtp:/SMTP: prefix (X400:, X500:, SIP: and the like are skipped);
 * base64 values (name:: ...), folded lines (a leading space continues the
 * line before), comments and CRLF line ends are understood.  Change
 * records other than "changetype: add" are refused: export entries, not
 * changes.
 *
 * Each address found goes, in stored form (addr.h), to the add() callback.
 * With keepcase, an address whose local part has capitals is followed by
 * its folded (lower-cased) form too: Postfix's smtpd lower-cases the
 * address before it asks, and must find every real account.  Each key
 * is handed on once, whether it came as an address or as a folded copy.
 * A line that is wrong stops the reader with "FILE:LINE: what" in why.
 */
#ifndef ACCTD_READER_H
#define ACCTD_READER_H

#include <stddef.h>
#include "addr.h"
#include "addrset.h"

enum reader_format { READ_TEXT, READ_LDIF };
enum { READ_OK = 0, READ_BAD = -1, READ_SYS = -2 };

#define READER_LINE_MAX 65536   /* bytes of one (unfolded) line */

struct reader {
  enum reader_format format;
  int keepcase;
  const char *file;
  /* returns 0, or -1 with errno set to stop the reader (READ_SYS) */
  int (*add)(void *arg, const char *addr, size_t n);
  void *arg;
  unsigned long line;          /* physical line number being read */
  unsigned long addrs;         /* distinct addresses in the source */
  unsigned long keys;          /* keys handed to add(): the addresses
                                  and, with keepcase, folded copies */
  unsigned long skipped;       /* non-SMTP proxyAddresses values */
  unsigned long dups;          /* repeated addresses, written once */
  char why[400];
  /* LDIF: the logical line being unfolded, and the entry's addresses */
  char *pend;
  size_t plen;
  unsigned long pline;
  int pending;
  struct addrset seen;         /* every address given so far */
  struct addrset written;      /* keepcase: every key handed on */
};

void reader_init(struct reader *r, enum reader_format f, const char *file,
                 int keepcase, int (*add)(void *, const char *, size_t),
                 void *arg);
/* One physical line, without its LF; r->line is advanced here. */
int reader_line(struct reader *r, const char *s, size_t n);
/* End of input (LDIF: the last logical line). */
int reader_finish(struct reader *r);
/* Everything from fd: reader_line per line, then reader_finish. */
int reader_fd(struct reader *r, int fd);
/* All of buf (for tests). */
int reader_buf(struct reader *r, const char *buf, size_t n);
void reader_free(struct reader *r);

#endif
