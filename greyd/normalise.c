/*
 * normalise.c - the triplet's parts in a stable form.  A mailing list or
 * a bulk sender changes the envelope sender on every message (VERP,
 * BATV, SRS); left alone, each message would be a new triplet and be
 * greylisted again.  Every byte is data: '%', quotes and regex
 * characters are copied like letters.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "greyd.h"
#include "ip4.h"

static void lower(char *s, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++) s[i] = (char)tolower((unsigned char)s[i]);
}

/* BATV: "prvs=TAG=user" (and the reversed "prvs=user=TAG" some senders
 * write; the tag is 10 characters, a digit and hex), msprvs1=, btv1==. */
static int is_batv_tag(const char *s, size_t n)
{
  size_t i;
  int digit = 0;

  if (n < 6 || n > 12) return 0;
  for (i = 0; i < n; i++) {
    if (!isalnum((unsigned char)s[i])) return 0;
    if (isdigit((unsigned char)s[i])) digit = 1;
  }
  return digit;
}

static size_t unbatv(char *l, size_t n)
{
  static const char *const pre[] = { "prvs=", "msprvs1=", "btv1==" };
  size_t i, p;
  char *a, *b;

  for (i = 0; i < 3; i++) {
    p = strlen(pre[i]);
    if (n > p && !strncmp(l, pre[i], p)) break;
  }
  if (i == 3) return n;
  a = l + p;
  b = memchr(a, '=', n - p);
  if (!b) return n;
  /* the tag is the part that looks like one; the other is the user */
  if (is_batv_tag(a, (size_t)(b - a))
      || !is_batv_tag(b + 1, n - (size_t)(b + 1 - l))) {
    size_t rest = n - (size_t)(b + 1 - l);

    if (b[1] == '=') { b++; rest--; }    /* btv1==tag==user */
    memmove(l, b + 1, rest);
    return rest;
  }
  memmove(l, a, (size_t)(b - a));
  return (size_t)(b - a);
}

/* SRS0=HASH=TT=domain=user@fwd -> user@domain;
 * SRS1=HASH=fwd==HASH=TT=domain=user@fwd2 -> user@domain.  The
 * separator after SRS0/SRS1 may be '=', '+' or '-'.  Rewrites local
 * (n bytes) and domain in place; returns 0 if it was SRS. */
static int unsrs(char *local, size_t *n, char *domain, size_t droom)
{
  char *p, *f[4];
  size_t i, len = *n;

  if (len < 6 || strncmp(local, "srs", 3) || !strchr("01", local[3])
      || !strchr("=+-", local[4]))
    return -1;
  local[len] = 0;
  p = local + 5;
  if (local[3] == '1') {
    p = strstr(p, "==");
    if (!p) return -1;
    p += 2;
  }
  for (i = 0; i < 3; i++) {
    f[i] = p;
    p = strchr(p, '=');
    if (!p) return -1;
    *p++ = 0;
  }
  f[3] = p;
  if (!*f[2] || !*f[3] || strlen(f[2]) + 1 > droom) return -1;
  memmove(domain, f[2], strlen(f[2]) + 1);
  len = strlen(f[3]);
  memmove(local, f[3], len + 1);
  *n = len;
  return 0;
}

static size_t strip_extension(char *l, size_t n, const char *delims)
{
  size_t i;

  for (i = 1; i < n; i++)
    if (strchr(delims, l[i]) && l[i]) return i;
  return n;
}

/* Every run of letters and digits that holds a digit becomes '#'. */
static size_t deverp(char *l, size_t n)
{
  size_t i = 0, o = 0;

  while (i < n) {
    size_t s = i;
    int digit = 0;

    if (!isalnum((unsigned char)l[i])) { l[o++] = l[i++]; continue; }
    while (i < n && isalnum((unsigned char)l[i])) {
      if (isdigit((unsigned char)l[i])) digit = 1;
      i++;
    }
    if (digit) l[o++] = '#';
    else { memmove(l + o, l + s, i - s); o += i - s; }
  }
  return o;
}

/* The form of an overlong address: cut, and completed by a 64-bit
 * hash of the whole, so that two long addresses stay apart and each is
 * greylisted like any other.  src holds n bytes; returns the length
 * written to out, or 0 if room is too small even for that. */
static size_t fit(const char *src, size_t n, char *out, size_t room)
{
  uint64_t h = 1469598103934665603ULL;
  size_t i, k;

  if (n < room) {
    memcpy(out, src, n);
    out[n] = 0;
    return n;
  }
  if (room < 64) return 0;
  for (i = 0; i < n; i++) h = (h ^ (unsigned char)src[i]) * 1099511628211ULL;
  k = room - 18;
  memcpy(out, src, k);
  snprintf(out + k, 18, "\001%016llx", (unsigned long long)h);
  return k + 17;
}

/* The normalised sender in o (cap bytes, as local and domain); VERP
 * tokens folded into '#' only if fold. */
static size_t sender_form(const char *sender, const char *delimiters,
                          int fold, char *local, char *domain, char *o,
                          size_t cap)
{
  const char *at = strrchr(sender, '@');
  size_t ln = at ? (size_t)(at - sender) : strlen(sender);
  size_t dn = at ? strlen(at + 1) : 0, n;

  if (ln >= cap || dn >= cap) return 0;
  memcpy(local, sender, ln);
  memcpy(domain, at ? at + 1 : "", dn + 1);
  lower(local, ln);
  lower(domain, dn);
  ln = unbatv(local, ln);
  if (unsrs(local, &ln, domain, cap) == 0) dn = strlen(domain);
  ln = strip_extension(local, ln, delimiters);
  if (fold) ln = deverp(local, ln);
  n = ln + (dn || at ? 1 : 0) + dn;
  if (n >= cap) return 0;
  memcpy(o, local, ln);
  if (dn || at) o[ln] = '@';
  memcpy(o + n - dn, domain, dn);
  o[n] = 0;
  return n;
}

static size_t sender_fit(const char *sender, const char *delimiters,
                         int fold, char *out, size_t room)
{
  char small[3 * ADDR_MAX], *b = small;
  size_t cap = strlen(sender) + 3, n;

  if (!*sender) {
    if (room < 3) return 0;
    memcpy(out, "<>", 3);
    return 2;
  }
  /* an overlong sender is normalised whole, then cut */
  if (cap <= ADDR_MAX) cap = ADDR_MAX;
  else if (!(b = malloc(3 * cap))) return 0;
  n = sender_form(sender, delimiters, fold, b, b + cap, b + 2 * cap, cap);
  n = n ? fit(b + 2 * cap, n, out, room) : 0;
  if (b != small) free(b);
  return n;
}

size_t normalise_sender(const char *sender, const char *delimiters,
                        char *out, size_t room)
{
  return sender_fit(sender, delimiters, 1, out, room);
}

size_t unwrap_sender(const char *sender, const char *delimiters,
                     char *out, size_t room)
{
  return sender_fit(sender, delimiters, 0, out, room);
}

size_t normalise_recipient(const char *rcpt, char *out, size_t room)
{
  size_t n = strlen(rcpt);
  char *b;

  if (n < room) {
    memcpy(out, rcpt, n + 1);
    lower(out, n);
    return n;
  }
  if (!(b = malloc(n + 1))) return 0;
  memcpy(b, rcpt, n + 1);
  lower(b, n);
  n = fit(b, n, out, room);
  free(b);
  return n;
}

static void mask(unsigned char *b, size_t len, unsigned bits)
{
  size_t i;

  for (i = 0; i < len; i++) {
    if (bits >= 8) { bits -= 8; continue; }
    b[i] &= (unsigned char)(0xff << (8 - bits));
    bits = 0;
  }
}

int client_net(const char *addr, unsigned v4bits, unsigned v6bits,
               char *out, size_t room)
{
  unsigned char b[16];
  char txt[INET6_ADDRSTRLEN];
  int af = AF_INET;
  size_t n;
  unsigned bits = v4bits;

  if (inet_pton(AF_INET, addr, b) != 1) {
    if (inet_pton(AF_INET6, addr, b) != 1) return -1;
    af = AF_INET6;
    bits = v6bits;
    if (!memcmp(b, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12)) {
      memmove(b, b + 12, 4);
      af = AF_INET;
      bits = v4bits;
    }
  }
  mask(b, af == AF_INET ? 4 : 16, bits);
  if (af == AF_INET) txt[fmt_ip4(txt, (const char *)b)] = 0;
  else if (!inet_ntop(af, b, txt, sizeof txt)) return -1;
  /* by hand: snprintf was a good part of the time per request */
  n = strlen(txt);
  if (n + 5 > room) return -1;
  memcpy(out, txt, n);
  out[n++] = '/';
  if (bits >= 100) out[n++] = (char)('0' + bits / 100);
  if (bits >= 10) out[n++] = (char)('0' + bits / 10 % 10);
  out[n++] = (char)('0' + bits % 10);
  out[n] = 0;
  return 0;
}
