/* addr.c - address syntax, lower-casing and extensions (see addr.h). */
#include <arpa/inet.h>
#include <locale.h>
#include <string.h>
#include <strings.h>
#include <wctype.h>
#include "addr.h"

/* The C.UTF-8 locale, made once: towlower_l needs one, and the process's
 * own locale stays "C" so nothing else changes behaviour. */
static locale_t utf8_locale(void)
{
  static locale_t loc;
  static int tried;

  if (!tried) {
    tried = 1;
    loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
  }
  return loc;
}

/* Decode one UTF-8 sequence at s (n bytes left); returns its length and
 * the code point, or 0 if it is not valid, minimal UTF-8. */
static size_t utf8_get(const unsigned char *s, size_t n, unsigned *cp)
{
  size_t len, i;
  unsigned v, min;

  if (s[0] >= 0xf0 && s[0] <= 0xf4) { len = 4; v = s[0] & 7; min = 0x10000; }
  else if (s[0] >= 0xe0) { len = 3; v = s[0] & 15; min = 0x800; }
  else if (s[0] >= 0xc2 && s[0] <= 0xdf) { len = 2; v = s[0] & 31; min = 0x80; }
  else return 0;
  if (s[0] >= 0xf5 || len > n) return 0;
  for (i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80) return 0;
    v = (v << 6) | (s[i] & 0x3f);
  }
  if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return 0;
  *cp = v;
  return len;
}

static size_t utf8_put(unsigned char *o, unsigned v)
{
  if (v < 0x80) { o[0] = (unsigned char)v; return 1; }
  if (v < 0x800) {
    o[0] = (unsigned char)(0xc0 | (v >> 6));
    o[1] = (unsigned char)(0x80 | (v & 0x3f));
    return 2;
  }
  if (v < 0x10000) {
    o[0] = (unsigned char)(0xe0 | (v >> 12));
    o[1] = (unsigned char)(0x80 | ((v >> 6) & 0x3f));
    o[2] = (unsigned char)(0x80 | (v & 0x3f));
    return 3;
  }
  o[0] = (unsigned char)(0xf0 | (v >> 18));
  o[1] = (unsigned char)(0x80 | ((v >> 12) & 0x3f));
  o[2] = (unsigned char)(0x80 | ((v >> 6) & 0x3f));
  o[3] = (unsigned char)(0x80 | (v & 0x3f));
  return 4;
}

long addr_fold(char *out, size_t room, const char *in, size_t n)
{
  const unsigned char *s = (const unsigned char *)in;
  unsigned char *o = (unsigned char *)out, tmp[4];
  size_t i = 0, len = 0;

  while (i < n) {
    unsigned cp;
    size_t k = s[i] < 0x80 ? 0 : utf8_get(s + i, n - i, &cp), w;

    if (s[i] < 0x80) {
      tmp[0] = (s[i] >= 'A' && s[i] <= 'Z') ? (unsigned char)(s[i] + 32)
                                            : s[i];
      w = 1;
      k = 1;
    } else if (k && utf8_locale()) {
      w = utf8_put(tmp, (unsigned)towlower_l((wint_t)cp, utf8_locale()));
    } else {
      k = k ? k : 1;                 /* not UTF-8: keep the bytes */
      memcpy(tmp, s + i, k);
      w = k;
    }
    if (len + w + 1 > room) return -1;
    memcpy(o + len, tmp, w);
    len += w;
    i += k;
  }
  if (len + 1 > room) return -1;
  o[len] = 0;
  return (long)len;
}

/* RFC 5322 atext plus '.', and any byte of UTF-8 text (RFC 6531). */
static int local_char(unsigned char c)
{
  if (c >= 0x80) return 1;
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
      || (c >= '0' && c <= '9'))
    return 1;
  return c && strchr("!#$%&'*+-/=?^_`{|}~.", c) != NULL;
}

static int domain_char(unsigned char c)
{
  return c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
         || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* A quoted local part at in (in[0] == '"'): unquote into out.  Returns
 * the bytes of in used (through the closing quote), or 0 with *why. */
static size_t unquote(char *out, size_t *olen, const char *in, size_t n,
                      const char **why)
{
  size_t i, o = 0;

  for (i = 1; i < n; i++) {
    unsigned char c = (unsigned char)in[i];

    if (c == '"') {
      if (!o) { *why = "empty quoted local part"; return 0; }
      *olen = o;
      return i + 1;
    }
    if (c == '\\') {
      if (++i == n) break;
      c = (unsigned char)in[i];
    }
    if (c < 0x20 || c == 0x7f) {
      *why = "control character in address";
      return 0;
    }
    if (o == ADDR_MAX) { *why = "address too long"; return 0; }
    out[o++] = (char)c;
  }
  *why = "unterminated quoted local part";
  return 0;
}

/* [IPv4] or [IPv6:...] (RFC 5321 4.1.3), checked as numbers: a literal
 * no mail can be addressed to is a typo in the export. */
static const char *check_literal(const char *d, size_t n)
{
  char buf[64];
  unsigned char bin[16];
  int v6 = n > 7 && !strncasecmp(d + 1, "IPv6:", 5);
  size_t off = v6 ? 6 : 1;

  if (d[n - 1] != ']' || n < 3) return "unterminated address literal";
  if (n - off - 1 >= sizeof buf) return "bad address literal";
  memcpy(buf, d + off, n - off - 1);
  buf[n - off - 1] = 0;
  if (inet_pton(v6 ? AF_INET6 : AF_INET, buf, bin) != 1)
    return v6 ? "bad IPv6 address literal" : "bad IPv4 address literal";
  return NULL;
}

static const char *check_domain(const char *d, size_t n)
{
  size_t i, label = 0;

  if (n == 0) return "empty domain";
  if (n > 255) return "domain too long";
  if (d[0] == '[') return check_literal(d, n);
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)d[i];

    if (c == '.') {
      if (!label) return "empty label in domain";
      if (d[i - 1] == '-') return "domain label ends with a hyphen";
      label = 0;
    } else if (c == '-' && !label) return "domain label starts with a hyphen";
    else if (domain_char(c)) {
      if (++label > 63) return "domain label longer than 63 bytes";
    }
    else if (c == ' ' || c == '\t') return "space inside address";
    else if (c < 0x20 || c == 0x7f) return "control character in address";
    else if (c == '@') return "more than one @ in address";
    else return "bad character in domain";
  }
  if (!label) return "domain ends with a dot";
  return d[n - 1] == '-' ? "domain label ends with a hyphen" : NULL;
}

/* An unquoted local part is a dot-atom (RFC 5322 3.2.3): no dot first,
 * last or twice in a row; anything else must be quoted. */
static const char *check_local(const char *l, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)l[i];

    if (c == '.' && i == 0) return "local part starts with a dot (quote it)";
    if (c == '.' && i + 1 == n) return "local part ends with a dot (quote it)";
    if (c == '.' && l[i + 1] == '.')
      return "two dots in a row in local part (quote it)";
    if (local_char(c)) continue;
    if (c == ' ' || c == '\t') return "space inside address";
    if (c < 0x20 || c == 0x7f) return "control character in address";
    return "bad character in local part (quote it)";
  }
  return NULL;
}

long addr_parse(char *out, const char *in, size_t n, int keepcase,
                const char **why)
{
  char local[ADDR_MAX + 1];
  size_t llen = 0, used = 0;
  const char *at, *dom;
  long f;

  if (n == 0) { *why = "empty address"; return -1; }
  if (in[0] == '"') {
    if (!(used = unquote(local, &llen, in, n, why))) return -1;
    if (used == n || in[used] != '@') {
      *why = "quoted local part not followed by @";
      return -1;
    }
    at = in + used;
  } else {
    at = memchr(in, '@', n);
    if (!at) {
      *why = "no @ in address (write @domain for a catch-all)";
      return -1;
    }
    llen = (size_t)(at - in);
    if (llen > ADDR_MAX) { *why = "address too long"; return -1; }
    if ((*why = check_local(in, llen))) return -1;
    memcpy(local, in, llen);
  }
  dom = at + 1;
  if ((*why = check_domain(dom, n - (size_t)(dom - in)))) return -1;
  if (memchr(local, 0, llen)) { *why = "NUL byte in address"; return -1; }
  if (keepcase) {
    if (llen > ADDR_MAX) { *why = "address too long"; return -1; }
    memcpy(out, local, llen);
    f = (long)llen;
  } else if ((f = addr_fold(out, ADDR_MAX + 1, local, llen)) < 0) {
    *why = "address too long";
    return -1;
  }
  if ((size_t)f + 1 > ADDR_MAX) { *why = "address too long"; return -1; }
  used = (size_t)f;
  out[used++] = '@';
  n = n - (size_t)(dom - in);
  if ((f = addr_fold(out + used, ADDR_MAX + 1 - used, dom, n)) < 0) {
    *why = "address too long";
    return -1;
  }
  return (long)(used + (size_t)f);
}

size_t addr_base(const char *local, size_t n, const char *delims)
{
  size_t i, nd = delims ? strlen(delims) : 0;

  if (!nd) return 0;
  if ((n == 10 && !strncasecmp(local, "postmaster", 10))
      || (n == 13 && !strncasecmp(local, "mailer-daemon", 13)))
    return 0;
  /* Postfix keeps owner-list and list-request whole when '-' splits */
  if (memchr(delims, '-', nd)
      && ((n > 6 && !strncasecmp(local, "owner-", 6))
          || (n > 8 && !strncasecmp(local + n - 8, "-request", 8))))
    return 0;
  for (i = 0; i < n; i++)
    if (memchr(delims, local[i], nd)) break;
  return (i == 0 || i == n) ? 0 : i;
}
