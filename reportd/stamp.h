/*
 * stamp.h - the time stamps in front of log lines, and the times given
 * on the command line, as seconds since the epoch.
 *
 *   @4000000065f1c2a80b2d3c1c        multilog's TAI64N label (25 bytes)
 *   Dec  4 17:02:58 / Dec 04 17:02:58 syslog and Postfix's maillog_file:
 *                                     local time, no year
 *   2026-12-04T17:02:58.123456+00:00 rsyslog's RFC 3339 form
 *
 * A syslog stamp has no year.  It is taken from a reference time (the
 * file's modification time, or --until if earlier), which no line of
 * the file can be later than: a stamp that would fall more than a day
 * after the reference belongs to the year before.  So a file that runs
 * from December into January, read in January, puts its December lines
 * in the old year.  A stamp no calendar or clock has (Feb 30, Feb 29
 * of a common year once the year is chosen, 24:00, an offset of +24:00,
 * a reserved TAI64 label) is no stamp.
 */
#ifndef REPORTD_STAMP_H
#define REPORTD_STAMP_H

#include <stddef.h>

struct yearref {
  long long ref;             /* no line is later than this (+ a day) */
  int year;                  /* ref's year, local time */
  long long cache_key;       /* year*1000000+mon*10000+mday*100+hour */
  long long cache_base;      /* mktime() of that hour */
};

void yearref_init(struct yearref *y, long long ref);

/* Each returns the bytes the stamp took (0 if s does not start with
 * one) and stores the time in *t. */
size_t stamp_tai64n(const char *s, size_t len, long long *t);
size_t stamp_syslog(struct yearref *y, const char *s, size_t len,
                    long long *t);
size_t stamp_rfc3339(const char *s, size_t len, long long *t);

/* A time on the command line: "now", "@SECONDS", "[-]DURATION" (that
 * long before now: 90s, 30m, 24h, 7d, 1w), or local
 * "YYYY-MM-DD[(T| )HH:MM[:SS]]".
 * Returns 0, or -1 if malformed. */
int stamp_arg(const char *s, long long now, long long *t);

/* Local "YYYY-MM-DD HH:MM" of t, into out (at least 17 bytes). */
void stamp_fmt(char *out, long long t);

/* Days since 1970-01-01 of a proleptic Gregorian date. */
long long days_from_civil(long long y, unsigned m, unsigned d);

#endif
