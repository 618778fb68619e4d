/* proto.c - socketmap and tcp_table codecs (see proto.h). */
#include <stdio.h>
#include <string.h>
#include "proto.h"

#define SM_DIGITS 9     /* LEN below 10^9: no overflow, ample */

long sm_parse(const char *buf, size_t len, size_t max, struct request *r)
{
  size_t i = 0, n = 0, end;
  const char *sp;

  memset(r, 0, sizeof *r);
  while (i < len && buf[i] >= '0' && buf[i] <= '9') {
    if (i == SM_DIGITS) { r->why = "netstring length too long"; return -1; }
    n = n * 10 + (size_t)(buf[i] - '0');
    i++;
  }
  if (i == len) return 0;
  if (i == 0 || buf[i] != ':') { r->why = "not a netstring"; return -1; }
  if (i > 1 && buf[0] == '0') {
    r->why = "netstring length with leading zero";
    return -1;
  }
  /* the whole netstring must fit: digits, colon, content, comma */
  if (n > max || n + i + 2 > max) {
    r->why = "request too long";
    return -1;
  }
  end = i + 1 + n;
  if (len <= end) return 0;
  if (buf[end] != ',') {
    r->why = "netstring length does not match its content";
    return -1;
  }
  sp = memchr(buf + i + 1, ' ', n);
  if (!sp || sp == buf + i + 1) {
    r->why = "no map name and space before the key";
    return (long)end + 1;
  }
  r->name = buf + i + 1;
  r->namelen = (size_t)(sp - r->name);
  r->key = sp + 1;
  r->keylen = (size_t)(buf + end - r->key);
  return (long)end + 1;
}

size_t sm_format(char *out, size_t room, const char *status,
                 const char *text)
{
  size_t body = strlen(status) + 1 + strlen(text);
  int n = snprintf(out, room, "%zu:%s %s,", body, status, text);

  return (n < 0 || (size_t)n >= room) ? 0 : (size_t)n;
}

static int hexval(char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* %XX-decode s (n bytes) into key; -1 on a '%' without two hex digits. */
static long unhex(const char *s, size_t n, char *key, size_t room)
{
  size_t i, o = 0;

  for (i = 0; i < n; i++) {
    char c = s[i];

    if (c == '%') {
      int hi, lo;

      if (i + 2 >= n) return -1;
      hi = hexval(s[i + 1]);
      lo = hexval(s[i + 2]);
      if (hi < 0 || lo < 0) return -1;
      c = (char)(hi * 16 + lo);
      i += 2;
    }
    if (o >= room) return -1;
    key[o++] = c;
  }
  return (long)o;
}

long tt_parse(const char *buf, size_t len, char *key, size_t room,
              struct request *r)
{
  const char *nl = memchr(buf, '\n', len);
  size_t n;
  long k;

  memset(r, 0, sizeof *r);
  if (!nl) return 0;
  n = (size_t)(nl - buf);
  if (n && buf[n - 1] == '\r') n--;
  if (n < 4 || memcmp(buf, "get ", 4)) {
    r->why = "unknown command (want: get KEY)";
    return nl - buf + 1;
  }
  if ((k = unhex(buf + 4, n - 4, key, room)) < 0) {
    r->why = "bad %-encoding";
    return nl - buf + 1;
  }
  r->key = key;
  r->keylen = (size_t)k;
  return nl - buf + 1;
}

size_t tt_format(char *out, size_t room, unsigned code, const char *text)
{
  int n = snprintf(out, room, "%03u %s\n", code, text);

  return (n < 0 || (size_t)n >= room) ? 0 : (size_t)n;
}
