/*
 * stamp.c - parsing of time stamps; see stamp.h.  Everything here runs
 * once per log line, so the common cases avoid libc: syslog stamps
 * reuse the last mktime() of the same hour.
 */
#include <string.h>
#include <time.h>

#include "settings.h"
#include "stamp.h"

/* TAI64 label of the epoch: 2^62 plus the 10 s TAI-UTC offset of 1970,
 * as daemontools' tai64nlocal counts it (leap seconds ignored). */
#define TAI_EPOCH 4611686018427387914ULL

static int hexval(int c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Labels from 2^63 on are reserved by TAI64, and nanoseconds count to
 * 999999999: beyond either, the label is no time. */
size_t stamp_tai64n(const char *s, size_t len, long long *t)
{
  unsigned long long x = 0, nano = 0;
  int i;

  if (len < 25 || s[0] != '@') return 0;
  for (i = 1; i <= 24; i++) {
    int v = hexval((unsigned char)s[i]);

    if (v < 0) return 0;
    if (i <= 16) x = x << 4 | (unsigned)v;
    else nano = nano << 4 | (unsigned)v;
  }
  if (x < TAI_EPOCH || x >= 1ULL << 63 || nano > 999999999) return 0;
  *t = (long long)(x - TAI_EPOCH);
  return 25;
}

long long days_from_civil(long long y, unsigned m, unsigned d)
{
  long long era;
  unsigned yoe, doy, doe;

  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = (unsigned)(y - era * 400);
  doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (long long)doe - 719468;
}

/* Days in month mon (1-12) of year; year 0 stands for any year, so
 * February has 29. */
static int month_days(long long year, int mon)
{
  static const unsigned char d[12] = {
    31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
  };

  if (mon != 2 || !year) return d[mon - 1];
  return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28;
}

static int num2(const char *s)
{
  if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9') return -1;
  return (s[0] - '0') * 10 + (s[1] - '0');
}

/* Runs for every syslog line: a switch, not twelve comparisons. */
static int month_of(const char *s)
{
  int m = 0;

  switch (s[0]) {
  case 'J': m = s[1] == 'a' ? 1 : s[2] == 'n' ? 6 : 7; break;
  case 'F': m = 2; break;
  case 'M': m = s[2] == 'r' ? 3 : 5; break;
  case 'A': m = s[1] == 'p' ? 4 : 8; break;
  case 'S': m = 9; break;
  case 'O': m = 10; break;
  case 'N': m = 11; break;
  case 'D': m = 12; break;
  default: return 0;
  }
  return !memcmp("JanFebMarAprMayJunJulAugSepOctNovDec" + 3 * (m - 1), s, 3)
         ? m : 0;
}

static long long local_hour(struct yearref *y, int year, int mon,
                            int mday, int hour)
{
  long long key = (long long)year * 1000000 + mon * 10000 + mday * 100
                  + hour;
  struct tm tm;

  if (key == y->cache_key) return y->cache_base;
  memset(&tm, 0, sizeof tm);
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = mday;
  tm.tm_hour = hour;
  tm.tm_isdst = -1;
  y->cache_key = key;
  y->cache_base = (long long)mktime(&tm);
  return y->cache_base;
}

void yearref_init(struct yearref *y, long long ref)
{
  time_t r = (time_t)ref;
  struct tm tm;

  memset(y, 0, sizeof *y);
  y->ref = ref;
  y->cache_key = -1;
  y->year = localtime_r(&r, &tm) ? tm.tm_year + 1900 : 1970;
}

/* "Dec  4 17:02:58" or "Dec 04 17:02:58", then an optional fraction.
 * A date no calendar has (Apr 31; Feb 29 of a common year, once the
 * year is chosen) is no stamp: mktime() would move it to the next
 * month, and the line would be counted in a window it is not in. */
size_t stamp_syslog(struct yearref *y, const char *s, size_t len,
                    long long *t)
{
  int mon, mday, hh, mm, ss, sec, year = y->year;
  size_t n = 15;

  if (len < 16 || s[3] != ' ' || s[6] != ' ' || s[9] != ':'
      || s[12] != ':')
    return 0;
  if (!(mon = month_of(s))) return 0;
  mday = s[4] == ' ' ? num2((const char[]){'0', s[5]}) : num2(s + 4);
  hh = num2(s + 7); mm = num2(s + 10); ss = num2(s + 13);
  if (mday < 1 || mday > month_days(0, mon) || hh < 0 || hh > 23
      || mm < 0 || mm > 59 || ss < 0 || ss > 60)
    return 0;
  if (s[n] == '.')
    for (n++; n < len && s[n] >= '0' && s[n] <= '9'; n++) ;
  sec = mm * 60 + ss;
  *t = local_hour(y, year, mon, mday, hh) + sec;
  if (*t > y->ref + 86400)
    *t = local_hour(y, --year, mon, mday, hh) + sec;
  if (mday > month_days(year, mon)) return 0;
  return n;
}

/* 2026-12-04T17:02:58[.frac](Z|+hh:mm|-hh:mm) */
size_t stamp_rfc3339(const char *s, size_t len, long long *t)
{
  int yh, yl, mon, mday, hh, mm, ss, off = 0;
  size_t n = 19;

  if (len < 21 || s[4] != '-' || s[7] != '-' || (s[10] != 'T'
      && s[10] != ' ') || s[13] != ':' || s[16] != ':')
    return 0;
  yh = num2(s); yl = num2(s + 2); mon = num2(s + 5); mday = num2(s + 8);
  hh = num2(s + 11); mm = num2(s + 14); ss = num2(s + 17);
  if (yh < 0 || yl < 0 || mon < 1 || mon > 12 || mday < 1
      || mday > month_days(yh * 100 + yl, mon)
      || hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 60)
    return 0;
  if (s[n] == '.')
    for (n++; n < len && s[n] >= '0' && s[n] <= '9'; n++) ;
  if (n < len && s[n] == 'Z') n++;
  else if (n + 6 <= len && (s[n] == '+' || s[n] == '-') && s[n + 3] == ':'
           && num2(s + n + 1) >= 0 && num2(s + n + 1) <= 23
           && num2(s + n + 4) >= 0 && num2(s + n + 4) <= 59) {
    off = (num2(s + n + 1) * 60 + num2(s + n + 4)) * 60;
    if (s[n] == '-') off = -off;
    n += 6;
  } else
    return 0;
  *t = days_from_civil(yh * 100 + yl, (unsigned)mon, (unsigned)mday)
       * 86400 + hh * 3600 + mm * 60 + ss - off;
  return n;
}

static int arg_date(const char *s, long long *t)
{
  size_t len = strlen(s);
  int y, mon, mday, hh = 0, mm = 0, ss = 0;
  struct tm tm;

  if (len != 10 && len != 16 && len != 19) return -1;
  if (s[4] != '-' || s[7] != '-' || num2(s) < 0 || num2(s + 2) < 0)
    return -1;
  y = num2(s) * 100 + num2(s + 2);
  mon = num2(s + 5); mday = num2(s + 8);
  if (len >= 16) {
    if ((s[10] != 'T' && s[10] != ' ') || s[13] != ':') return -1;
    hh = num2(s + 11); mm = num2(s + 14);
  }
  if (len == 19) {
    if (s[16] != ':') return -1;
    ss = num2(s + 17);
  }
  if (mon < 1 || mon > 12 || mday < 1 || mday > month_days(y, mon)
      || hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 59)
    return -1;
  memset(&tm, 0, sizeof tm);
  tm.tm_year = y - 1900; tm.tm_mon = mon - 1; tm.tm_mday = mday;
  tm.tm_hour = hh; tm.tm_min = mm; tm.tm_sec = ss; tm.tm_isdst = -1;
  *t = (long long)mktime(&tm);
  return 0;
}

int stamp_arg(const char *s, long long now, long long *t)
{
  unsigned long long v;

  if (!strcmp(s, "now")) { *t = now; return 0; }
  if (s[0] == '@') {
    const char *p = s + 1;

    if (!*p) return -1;
    for (v = 0; *p >= '0' && *p <= '9' && v < 1ULL << 40; p++)
      v = v * 10 + (unsigned)(*p - '0');
    if (*p) return -1;
    *t = (long long)v;
    return 0;
  }
  if (s[0] == '-') s++;
  else if (strchr(s, '-') || strchr(s, ':')) return arg_date(s, t);
  /* a duration before now: "-24h", or "24h" as cron jobs write it */
  if (parse_seconds(s, 100ULL * 366 * 86400, &v) < 0) return -1;
  *t = now - (long long)v;
  return 0;
}

void stamp_fmt(char *out, long long t)
{
  time_t tt = (time_t)t;
  struct tm tm;

  if (!localtime_r(&tt, &tm) || !strftime(out, 17, "%Y-%m-%d %H:%M", &tm))
    strcpy(out, "(unknown time)");
}
