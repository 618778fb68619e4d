/* util.c - arenas, and the parsers every dataset type shares: IPv4 and
 * IPv6 prefixes, times, domain names and ":A:TXT" values. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "rbld.h"

struct chunk { struct chunk *next; };

#define CHUNK (256 * 1024)

void *xrealloc(void *p, size_t n) { return realloc(p, n ? n : 1); }

#define HUGE_PAGE ((size_t)2 << 20)
void *big_alloc(size_t n)
{
  void *p;

  if (n < HUGE_PAGE / 2) return malloc(n ? n : 1);
  n = (n + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
  if (posix_memalign(&p, HUGE_PAGE, n)) return NULL;
#ifdef MADV_HUGEPAGE
  (void)madvise(p, n, MADV_HUGEPAGE);  /* only a hint: may be off */
#endif
  return p;
}

void *arena_alloc(struct arena *a, size_t n)
{
  struct chunk *c;
  size_t body;
  void *p;

  n = (n + 7) & ~(size_t)7;
  if (n > a->left) {
    body = n > CHUNK / 4 ? n : CHUNK;
    c = malloc(8 + body);
    if (!c) return NULL;
    c->next = a->head;
    a->head = c;
    a->total += body;
    if (n > CHUNK / 4) return (char *)c + 8;   /* keep the old cursor */
    a->cur = (char *)c + 8;
    a->left = body;
  }
  p = a->cur;
  a->cur += n;
  a->left -= n;
  return p;
}

void *arena_memdup(struct arena *a, const void *p, size_t n)
{
  void *d = arena_alloc(a, n);

  if (d) memcpy(d, p, n);
  return d;
}

char *arena_strdup(struct arena *a, const char *s)
{
  return arena_memdup(a, s, strlen(s) + 1);
}

void arena_free(struct arena *a)
{
  struct chunk *c, *n;

  for (c = a->head; c; c = n) { n = c->next; free(c); }
  memset(a, 0, sizeof *a);
}

char *skipspace(char *s)
{
  while (ISSPACE(*s)) s++;
  return s;
}

static int digit(int c) { return c >= '0' && c <= '9'; }

/* One octet of a dotted address: 0..255, leading zeros allowed. */
static const char *octet(const char *s, uint32_t *o)
{
  uint32_t v;

  if (!digit(*s)) return NULL;
  v = (uint32_t)(*s++ - '0');
  while (digit(*s)) {
    v = v * 10 + (uint32_t)(*s++ - '0');
    if (v > 255) return NULL;
  }
  *o = v;
  return s;
}

static uint32_t mask4(int bits)
{
  return bits <= 0 ? 0 : bits >= 32 ? 0xffffffffu : ~(0xffffffffu >> bits);
}

/* "1", "1.2", "1.2.3", "1.2.3.4": the address left-aligned; returns the
 * number of bits given (8, 16, 24, 32) or -1. */
int ip4prefix(const char *s, uint32_t *a, const char **end)
{
  uint32_t o;
  int bits;

  *a = 0;
  for (bits = 8; ; bits += 8) {
    if (!(s = octet(s, &o))) return -1;
    *a |= o << (32 - bits);
    if (bits == 32 || *s != '.' || !digit(s[1])) break;
    s++;
  }
  *end = s;
  return bits;
}

static int maskbits(const char *s, const char **end)
{
  int bits = 0;

  if (!digit(*s)) return -1;
  while (digit(*s)) {
    bits = bits * 10 + (*s++ - '0');
    if (bits > 32) return -1;
  }
  *end = s;
  return bits;
}

/* CIDR or prefix; bare numbers are refused; returns bits or -1. */
int ip4cidr(const char *s, uint32_t *a, const char **end)
{
  int bits = ip4prefix(s, a, &s);

  if (bits < 0) return -1;
  if (*s == '/') return maskbits(s + 1, end);
  if (bits == 8) return -1;
  *end = s;
  return bits;
}

/* Range a-b (with the one-octet suffix form), CIDR or prefix.  Returns
 * the prefix length (32 for an a-b range) or -1; *a may keep host bits
 * (the caller decides with -e). */
int ip4range(const char *s, uint32_t *a, uint32_t *b, const char **end)
{
  int bits = ip4prefix(s, a, &s), bb;

  if (bits < 0) return -1;
  if (*s == '-') {
    bb = ip4prefix(s + 1, b, &s);
    if (bb < 0) return -1;
    if (bb == 8 && bits > 8) {      /* 127.0.0.1-2 */
      *b = (*b >> (bits - 8)) | (*a & mask4(bits - 8));
      bb = bits;
    } else if (bb != bits) return -1;
    if (bb != 32) *b |= ~mask4(bb);
    if (*a > *b) return -1;
    *end = s;
    return 32;
  }
  if (*s == '/') {
    bits = maskbits(s + 1, &s);
    if (bits < 0) return -1;
  } else if (bits == 8) return -1;
  *b = (*a & mask4(bits)) | ~mask4(bits);
  *end = s;
  return bits;
}

/* inet_aton style, for A values: "2" is 0.0.0.2, "127.2" 127.0.0.2. */
int ip4addr(const char *s, uint32_t *a, const char **end)
{
  int bits = ip4prefix(s, a, end);

  if (bits == 8) *a >>= 24;
  else if (bits == 16) *a = (*a & 0xff000000u) | ((*a >> 16) & 255);
  else if (bits == 24) *a = (*a & 0xffff0000u) | ((*a >> 8) & 255);
  return bits;
}

static int hexval(int c)
{
  if (digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* IPv6 groups with "::"; returns the number of bits written explicitly
 * (16 per group, 128 when "::" was used) or -1. */
static int ip6groups(const char *s, uint8_t a[16], const char **end)
{
  uint16_t g[8];
  int n = 0, gap = -1, i, v, k;

  memset(a, 0, 16);
  if (s[0] == ':' && s[1] == ':') { gap = 0; s += 2; }
  while (n < 8 && hexval(*s) >= 0) {
    for (v = 0, k = 0; k < 4 && hexval(*s) >= 0; k++, s++)
      v = v * 16 + hexval(*s);
    if (hexval(*s) >= 0) return -1;
    g[n++] = (uint16_t)v;
    if (*s != ':') break;
    if (s[1] == ':') {
      if (gap >= 0) return -1;
      gap = n; s += 2;
      continue;
    }
    if (hexval(s[1]) < 0) return -1;
    s++;
  }
  if (gap < 0 && n == 0) return -1;
  if (gap >= 0 && n == 8) return -1;
  for (i = 0; i < n; i++) {
    int pos = (gap >= 0 && i >= gap) ? 8 - (n - i) : i;
    a[2 * pos] = (uint8_t)(g[i] >> 8);
    a[2 * pos + 1] = (uint8_t)g[i];
  }
  *end = s;
  return gap >= 0 ? 128 : 16 * n;
}

int ip6cidr(const char *s, uint8_t a[16], const char **end)
{
  int bits = ip6groups(s, a, &s), m = 0;

  if (bits < 0) return -1;
  if (*s == '/') {
    s++;
    if (!digit(*s)) return -1;
    while (digit(*s)) { m = m * 10 + (*s++ - '0'); if (m > 128) return -1; }
    bits = m;
  }
  *end = s;
  return bits;
}

int ip6addr_full(const char *s, uint8_t a[16], const char **end)
{
  int bits = ip6groups(s, a, end);

  return bits == 128 ? 128 : -1;
}

char *parse_uint(char *s, uint32_t *n)
{
  unsigned long long v = 0;

  if (!digit(*s)) return NULL;
  while (digit(*s)) {
    v = v * 10 + (unsigned)(*s++ - '0');
    if (v > 0xffffffffu) return NULL;
  }
  *n = (uint32_t)v;
  if (*s && !ISSPACE(*s)) return NULL;
  return skipspace(s);
}

/* A time with an optional s/m/h/d/w suffix; stops at a ':' too (-t). */
char *parse_time(char *s, uint32_t *t)
{
  unsigned long long v = 0, m = 1;

  if (!digit(*s)) return NULL;
  while (digit(*s)) {
    v = v * 10 + (unsigned)(*s++ - '0');
    if (v > 0xffffffffu) return NULL;
  }
  switch (*s) {
  case 'w': case 'W': m = 604800; s++; break;
  case 'd': case 'D': m = 86400; s++; break;
  case 'h': case 'H': m = 3600; s++; break;
  case 'm': case 'M': m = 60; s++; break;
  case 's': case 'S': s++; break;
  }
  if (v * m > 0xffffffffu) return NULL;
  *t = (uint32_t)(v * m);
  if (*s && *s != ':' && !ISSPACE(*s)) return NULL;
  return *s == ':' ? s : skipspace(s);
}

char *parse_ttl(char *s, uint32_t *t, uint32_t def)
{
  if (!(s = parse_time(s, t))) return NULL;
  if (*t == 0) *t = def;
  else if (g_opts.minttl && *t < g_opts.minttl) *t = g_opts.minttl;
  else if (g_opts.maxttl && *t > g_opts.maxttl) *t = g_opts.maxttl;
  return s;
}

/* Text name (trailing dot optional) to wire form; 0 on error. */
int dn_from_text(const char *s, size_t n, uint8_t *dn)
{
  size_t o = 0, lab = 0, i;

  if (n && s[n - 1] == '.') n--;
  if (n == 0) { dn[0] = 0; return 1; }
  dn[0] = 0;
  for (i = 0; i <= n; i++) {
    if (i == n || s[i] == '.') {
      size_t l = i - lab;
      if (l == 0 || l > 63 || o + l + 2 > DN_MAX) return 0;
      dn[o] = (uint8_t)l;
      memcpy(dn + o + 1, s + lab, l);
      o += l + 1;
      lab = i + 1;
    }
  }
  dn[o] = 0;
  return (int)(o + 1);
}

char *parse_dn(char *s, uint8_t *dn, unsigned *len)
{
  char *e = s;
  int l;

  while (*e && !ISSPACE(*e)) e++;
  if (e == s) return NULL;
  l = dn_from_text(s, (size_t)(e - s), dn);
  if (!l) return NULL;
  if (len) *len = (unsigned)l;
  return skipspace(e);
}

void dn_lower(uint8_t *dn)
{
  while (*dn) {
    unsigned l = *dn++;
    for (; l; l--, dn++)
      if (*dn >= 'A' && *dn <= 'Z') *dn = (uint8_t)(*dn + 32);
  }
}

/* ASCII upper case to lower, eight bytes at a time: a byte gets 0x20
 * added when it is 'A'..'Z' and is left alone otherwise (bytes >= 0x80
 * too, whose low seven bits may look like a letter). */
static uint64_t lower8(uint64_t x)
{
  const uint64_t h = 0x8080808080808080ull, l = 0x0101010101010101ull;
  uint64_t lo7 = x & ~h;
  uint64_t ge_a = lo7 + l * (0x80 - 'A');       /* high bit: >= 'A' */
  uint64_t gt_z = lo7 + l * (0x7f - 'Z');       /* high bit: > 'Z' */

  return x | (((ge_a ^ gt_z) & ~x & h) >> 2);
}

#ifdef RBLD_SSE2
/* 16 bytes lowercased: the upper-case letters found by two signed
 * compares (bytes of 128 and up are negative, so never letters) */
static inline void lower16(uint8_t *d, const uint8_t *s)
{
  __m128i x = _mm_loadu_si128((const __m128i *)(const void *)s);
  __m128i up = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('A' - 1)),
                             _mm_cmplt_epi8(x, _mm_set1_epi8('Z' + 1)));

  x = _mm_or_si128(x, _mm_and_si128(up, _mm_set1_epi8(0x20)));
  _mm_storeu_si128((__m128i *)(void *)d, x);
}
#endif

/* The last word of a name of 8 bytes or more overlaps the one before
 * it (the same bytes lowercased twice), so no byte-by-byte tail is left
 * whose length the branch predictor would have to guess. */
void lower_copy(uint8_t *d, const uint8_t *s, size_t n)
{
  uint64_t w;
  size_t i;

#ifdef RBLD_SSE2
  if (n >= 16) {                     /* the same, 16 bytes a step */
    for (i = 0; i + 16 < n; i += 16) lower16(d + i, s + i);
    lower16(d + n - 16, s + n - 16);
    return;
  }
#endif
  if (n < 8) {
    for (; n; n--, s++, d++)
      *d = (*s >= 'A' && *s <= 'Z') ? (uint8_t)(*s + 32) : *s;
    return;
  }
  for (i = 0; i + 8 < n; i += 8) {
    memcpy(&w, s + i, 8);
    w = lower8(w);
    memcpy(d + i, &w, 8);
  }
  memcpy(&w, s + n - 8, 8);
  w = lower8(w);
  memcpy(d + n - 8, &w, 8);
}

unsigned dn_len(const uint8_t *dn)
{
  const uint8_t *p = dn;

  while (*p) p += *p + 1;
  return (unsigned)(p - dn + 1);
}

unsigned dn_labels(const uint8_t *dn)
{
  unsigned n = 0;

  while (*dn) { n++; dn += *dn + 1; }
  return n;
}

size_t dn_to_text(const uint8_t *dn, char *out, size_t room)
{
  size_t o = 0;

  if (room == 0) return 0;
  while (*dn) {
    unsigned l = *dn++;
    if (o && o + 1 < room) out[o++] = '.';
    for (; l; l--, dn++)
      if (o + 1 < room) out[o++] = (char)*dn;
  }
  out[o] = 0;
  return o;
}

/* An octet's digits and the dot after it, as one word for a
 * little-endian store, made by the compiler for all 256 values. */
#define OCTET_WORD(o) ((o) < 10 ? ('0' + (o)) | '.' << 8 : \
  (o) < 100 ? ('0' + (o) / 10) | ('0' + (o) % 10) << 8 | '.' << 16 : \
  ('0' + (o) / 100) | ('0' + (o) / 10 % 10) << 8 | ('0' + (o) % 10) << 16 | \
  (uint32_t)'.' << 24)
#define OCTET_4(o) OCTET_WORD(o), OCTET_WORD((o) + 1), \
  OCTET_WORD((o) + 2), OCTET_WORD((o) + 3)
#define OCTET_16(o) OCTET_4(o), OCTET_4((o) + 4), OCTET_4((o) + 8), \
  OCTET_4((o) + 12)
#define OCTET_64(o) OCTET_16(o), OCTET_16((o) + 16), OCTET_16((o) + 32), \
  OCTET_16((o) + 48)
static const uint32_t octet_word[256] = {
  OCTET_64(0), OCTET_64(64), OCTET_64(128), OCTET_64(192)
};

/* The dotted quad, for every TXT answer of an address: each octet is
 * one word from the table, stored whole, and the place moves on by its
 * length, with no branch on how many digits it has (a random address's
 * lengths are what a branch predictor cannot learn).  A big-endian
 * machine swaps the word first.  buf needs 16 bytes. */
char *ip4_text(uint32_t a, char *buf)
{
  char *p = buf;
  int i;

  for (i = 24; i >= 0; i -= 8) {
    uint32_t o = (a >> i) & 255, w = octet_word[o];
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap32(w);     /* the first digit in the first byte */
#endif
    memcpy(p, &w, 4);
    p += 2 + (o >= 10) + (o >= 100);
  }
  p[-1] = 0;
  return buf;
}

/* Compressed text form as inet_ntop writes it. */
char *ip6_text(const uint8_t a[16], char *buf)
{
  int best = -1, bestlen = 0, i, j, o = 0;

  for (i = 0; i < 8; i = j + 1) {
    for (j = i; j < 8 && !a[2 * j] && !a[2 * j + 1]; j++) ;
    if (j - i > bestlen && j - i > 1) { best = i; bestlen = j - i; }
  }
  for (i = 0; i < 8; i++) {
    if (i == best) {
      o += sprintf(buf + o, "::");
      i += bestlen - 1;
      continue;
    }
    if (o && buf[o - 1] != ':') buf[o++] = ':';
    o += sprintf(buf + o, "%x", (a[2 * i] << 8) | a[2 * i + 1]);
  }
  buf[o] = 0;
  return buf;
}

const uint8_t rr_default[5] = { 127, 0, 0, 2, 0 };

/* ":A:TXT", ":A", ":A:", or plain "TXT" (default A).  On success *rr
 * points to a value in the dataset's arena (or to def); 0 on error. */
int parse_a_txt(char *s, const uint8_t *def, struct dsctx *c, uint8_t **rr)
{
  uint8_t a[4];
  const char *txt;
  const char *e;
  size_t tl;
  uint32_t ip;
  uint8_t *v;
  int bits;

  memcpy(a, def, 4);
  txt = (const char *)def + 4;
  if (*s == ':') {
    bits = ip4addr(s + 1, &ip, &e);
    if (bits < 0 || ip == 0) { ds_warn(c, "invalid A RR"); return 0; }
    if (bits == 8) ip |= 0x7f000000u;
    a[0] = (uint8_t)(ip >> 24); a[1] = (uint8_t)(ip >> 16);
    a[2] = (uint8_t)(ip >> 8); a[3] = (uint8_t)ip;
    s = skipspace((char *)e);
    if (*s == ':') txt = skipspace(s + 1);
    else if (*s) { ds_warn(c, "unrecognized value for an entry"); return 0; }
  } else txt = s;
  tl = strlen(txt);
  if (tl > 255) { ds_warn(c, "TXT RR truncated to 255 bytes"); tl = 255; }
  /* the value of the line before, again (lists often give every line
   * the same one): shared, so the entries get one value index, the
   * tables stay narrow and a lookup reads one value for all of them */
  if (c->last_rr && !memcmp(c->last_rr, a, 4) &&
      !strncmp((const char *)c->last_rr + 4, txt, tl) &&
      !c->last_rr[4 + tl]) {
    *rr = c->last_rr;
    return 1;
  }
  v = arena_alloc(&c->ds->ar, 4 + tl + 1);
  if (!v) { c->fatal = 1; return 0; }
  memcpy(v, a, 4);
  memcpy(v + 4, txt, tl);
  v[4 + tl] = 0;
  *rr = c->last_rr = v;
  return 1;
}

static const unsigned char mdays[12] =
  { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

static int leap(unsigned y) { return y % 4 == 0 && (y % 100 || y % 400 == 0); }

static char *tsfield(char *s, unsigned *v, unsigned lo, unsigned hi, int w)
{
  unsigned n = 0;

  if (!digit(*s)) return NULL;
  do n = n * 10 + (unsigned)(*s++ - '0');
  while (digit(*s) && --w);
  if (n < lo || n > hi) return NULL;
  if (*s == ':' || *s == '-') s++;
  *v = n;
  return s;
}

/* yyyy[:]mm[:]dd[[:]hh[[:]mi[[:]ss]]], or "0"/"-" for none. */
int parse_timestamp(char **sp, time_t *t)
{
  char *s = *sp;
  unsigned y, mo, d, h = 0, mi = 0, se = 0, days, i;

  if ((*s == '0' || *s == '-' || *s == ':') && (!s[1] || ISSPACE(s[1]))) {
    *t = 0; *sp = skipspace(s + 1); return 1;
  }
  if (!(s = tsfield(s, &y, 1970, 2099, 4))) return 0;
  if (!(s = tsfield(s, &mo, 1, 12, 2))) return 0;
  if (!(s = tsfield(s, &d, 1, mo == 2 && leap(y) ? 29 : mdays[mo - 1], 2)))
    return 0;
  if (*s && !ISSPACE(*s) && !(s = tsfield(s, &h, 0, 23, 2))) return 0;
  if (*s && !ISSPACE(*s) && !(s = tsfield(s, &mi, 0, 59, 2))) return 0;
  if (*s && !ISSPACE(*s) && !(s = tsfield(s, &se, 0, 59, 2))) return 0;
  if (*s && !ISSPACE(*s)) return 0;
  for (days = 0, i = 1970; i < y; i++) days += leap(i) ? 366 : 365;
  for (i = 1; i < mo; i++) days += mdays[i - 1] + (i == 2 && leap(y));
  days += d - 1;
  *t = (time_t)(((days * 24ull + h) * 60 + mi) * 60 + se);
  *sp = skipspace(s);
  return 1;
}
