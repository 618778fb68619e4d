/*
 * classify.c - is this SMTP client suspicious?  See classify.h.
 *
 * A name "looks like an access network" when it embeds the client's own
 * address (decimal octets in either order, zero-padded, as one 32-bit
 * number, or in hex), or when one of its host labels (the labels left of
 * the registered domain) holds a word that ISPs use for end-user lines:
 * dsl, cable, dyn, pool, dhcp, ppp, dial, client, cust ...  A pattern
 * file adds words and extended regular expressions.  Only the client's
 * own address counts: a mail server called mx-2-1.example.net is not
 * dynamic because it has digits in its name.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "classify.h"

#define NAME_MAX_LEN 255
#define WORD_MAX 32

struct classifier {
  char (*words)[WORD_MAX];
  size_t nwords, capwords;
  regex_t *res;
  size_t nres, capres;
};

/* Words that, as a whole token of a host label, mark an end-user line. */
static const char *const builtin_words[] = {
  "dsl", "adsl", "vdsl", "xdsl", "sdsl", "cable", "cablemodem", "dyn",
  "dynamic", "dynip", "dhcp", "pool", "ppp", "pppoe", "pppoa", "dial",
  "dialup", "dialin", "client", "clients", "cust", "customer", "broadband",
  "broad", "bband", "resnet", "residential", "res", "hsd", "cpe", "ftth",
  "fttx", "fttb", "catv", "gprs", "umts", "lte", "dhcpd", "user",
  "home", "unassigned", "noptr", "nodns", "ip", "ipv4", "host",
};
#define NBUILTIN (sizeof builtin_words / sizeof builtin_words[0])

/* "ip" and "host" are generic: alone they mean nothing (host.example.com),
 * but glued to digits ("ip203", "host77") they are an ISP's numbering. */
static int needs_digits(const char *w)
{
  return !strcmp(w, "ip") || !strcmp(w, "host") || !strcmp(w, "user")
         || !strcmp(w, "res") || !strcmp(w, "home") || !strcmp(w, "ipv4");
}

struct classifier *classifier_new(void)
{
  return calloc(1, sizeof(struct classifier));
}

void classifier_free(struct classifier *c)
{
  size_t i;

  if (!c) return;
  for (i = 0; i < c->nres; i++) regfree(&c->res[i]);
  free(c->res);
  free(c->words);
  free(c);
}

static int add_word(struct classifier *c, const char *w, size_t n)
{
  size_t i;

  if (c->nwords == c->capwords) {
    size_t cap = c->capwords ? c->capwords * 2 : 16;
    void *p = realloc(c->words, cap * sizeof *c->words);

    if (!p) return -1;
    c->words = p;
    c->capwords = cap;
  }
  for (i = 0; i < n; i++)
    c->words[c->nwords][i] = (char)tolower((unsigned char)w[i]);
  c->words[c->nwords][n] = 0;
  c->nwords++;
  return 0;
}

static int add_regex(struct classifier *c, const char *re, const char **why)
{
  if (c->nres == c->capres) {
    size_t cap = c->capres ? c->capres * 2 : 8;
    void *p = realloc(c->res, cap * sizeof *c->res);

    if (!p) { *why = "out of memory"; return -1; }
    c->res = p;
    c->capres = cap;
  }
  if (regcomp(&c->res[c->nres], re, REG_EXTENDED | REG_ICASE | REG_NOSUB)) {
    *why = "bad regular expression";
    return -1;
  }
  c->nres++;
  return 0;
}

/* One line of a pattern file, already stripped of comment and blanks. */
static int load_line(struct classifier *c, char *s, size_t n,
                     const char **why)
{
  size_t i;

  if (s[0] == '/') {
    if (n < 3 || s[n - 1] != '/') { *why = "regex must end with /"; return -1; }
    s[n - 1] = 0;
    return add_regex(c, s + 1, why);
  }
  if (n >= WORD_MAX) { *why = "word too long"; return -1; }
  for (i = 0; i < n; i++)
    if (!isalnum((unsigned char)s[i]) && s[i] != '-') {
      *why = "a word is letters, digits and '-' (or write /regex/)";
      return -1;
    }
  if (add_word(c, s, n) < 0) { *why = "out of memory"; return -1; }
  return 0;
}

static char *trim(char *s, size_t *n)
{
  char *h = strchr(s, '#');
  size_t len;

  if (h) *h = 0;
  while (*s == ' ' || *s == '\t') s++;
  len = strlen(s);
  while (len && isspace((unsigned char)s[len - 1])) s[--len] = 0;
  *n = len;
  return s;
}

int classifier_load(struct classifier *c, const char *path,
                    unsigned long *line, const char **why)
{
  FILE *f = fopen(path, "r");
  char buf[1024];
  int rc = 0;

  *line = 0;
  if (!f) { *why = strerror(errno); return -1; }
  while (fgets(buf, sizeof buf, f)) {
    size_t n;
    char *s;

    ++*line;
    if (!strchr(buf, '\n') && !feof(f)) {
      *why = "line too long";
      rc = -1;
      break;
    }
    s = trim(buf, &n);
    if (n && load_line(c, s, n, why) < 0) { rc = -1; break; }
  }
  if (rc == 0 && ferror(f)) { *why = strerror(errno); rc = -1; }
  fclose(f);
  return rc;
}

/* ---- the client's address, as the name might embed it ---- */

struct addr {
  int v6;
  unsigned char b[16];
};

static int parse_addr(const char *s, struct addr *a)
{
  if (inet_pton(AF_INET, s, a->b) == 1) { a->v6 = 0; return 0; }
  if (inet_pton(AF_INET6, s, a->b) != 1) return -1;
  a->v6 = 1;
  /* an IPv4-mapped address is the IPv4 client it stands for */
  if (!memcmp(a->b, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12)) {
    memmove(a->b, a->b + 12, 4);
    a->v6 = 0;
  }
  return 0;
}

/* The name's runs of digits (or of hex digits), as numbers, with their
 * separators: runs[i] follows runs[i-1] directly when joined[i] is set
 * (a single '-', '.' or '_' between them). */
struct runs {
  unsigned long v[64];
  unsigned char joined[64];
  size_t n;
};

static void digit_runs(const char *name, int hex, struct runs *r)
{
  const char *p = name, *prev_end = NULL;

  r->n = 0;
  while (*p && r->n < 64) {
    const char *s = p;
    unsigned long v = 0;
    int ok = 1;

    if (!(hex ? isxdigit((unsigned char)*p) : isdigit((unsigned char)*p))) {
      p++;
      continue;
    }
    for (; hex ? isxdigit((unsigned char)*p) : isdigit((unsigned char)*p);
         p++) {
      unsigned d = isdigit((unsigned char)*p) ? (unsigned)(*p - '0')
                   : (unsigned)(tolower((unsigned char)*p) - 'a' + 10);

      if (v > 0xffffff) ok = 0; else v = v * (hex ? 16 : 10) + d;
    }
    r->v[r->n] = ok ? v : ~0UL;
    r->joined[r->n] = prev_end && s - prev_end == 1
                      && strchr("-._", *prev_end);
    r->n++;
    prev_end = p;
  }
}

/* Do k of the values want[] appear as consecutive joined runs? */
static int runs_have(const struct runs *r, const unsigned long *want,
                     size_t k)
{
  size_t i, j;

  for (i = 0; i + k <= r->n; i++) {
    for (j = 0; j < k; j++) {
      if (r->v[i + j] != want[j]) break;
      if (j > 0 && !r->joined[i + j]) break;
    }
    if (j == k) return 1;
  }
  return 0;
}

static int v4_octets(const char *name, const unsigned char *b)
{
  unsigned long fwd[4], rev[4];
  struct runs r;
  size_t i;

  for (i = 0; i < 4; i++) { fwd[i] = b[i]; rev[i] = b[3 - i]; }
  digit_runs(name, 0, &r);
  /* all four in either order, or the three that name the host */
  return runs_have(&r, fwd, 4) || runs_have(&r, rev, 4)
         || runs_have(&r, fwd + 1, 3) || runs_have(&r, rev, 3);
}

/* The four octets in order o[0..3]: zero-padded decimal ("%03u" each)
 * and hex ("%02x" each), by hand: snprintf was a third of policyd's
 * time in the classifier. */
static void glue(char dec[13], char hex[9], const unsigned char *b,
                 const int *o)
{
  static const char x[] = "0123456789abcdef";
  int i;

  for (i = 0; i < 4; i++) {
    unsigned v = b[o[i]];

    dec[3 * i] = (char)('0' + v / 100);
    dec[3 * i + 1] = (char)('0' + v / 10 % 10);
    dec[3 * i + 2] = (char)('0' + v % 10);
    hex[2 * i] = x[v >> 4];
    hex[2 * i + 1] = x[v & 15];
  }
  dec[12] = hex[8] = 0;
}

static int v4_glued(const char *name, const unsigned char *b)
{
  static const int fwd[4] = { 0, 1, 2, 3 }, rev[4] = { 3, 2, 1, 0 };
  char s[5][24];
  unsigned long u = ((unsigned long)b[0] << 24) | ((unsigned long)b[1] << 16)
                    | ((unsigned long)b[2] << 8) | b[3];
  size_t i, n = 0;
  char t[24];

  glue(s[0], s[2], b, fwd);
  glue(s[1], s[3], b, rev);
  do t[n++] = (char)('0' + u % 10); while (u /= 10);     /* "%lu" */
  for (i = 0; i < n; i++) s[4][i] = t[n - 1 - i];
  s[4][n] = 0;
  for (i = 0; i < 5; i++)
    if (strstr(name, s[i])) return 1;
  return 0;
}

/* IPv6: the four groups of the interface identifier, dashed or dotted,
 * or the 64 bits as one hex run. */
static int v6_embedded(const char *name, const unsigned char *b)
{
  unsigned long want[4];
  char iid[20];
  struct runs r;
  size_t i;

  for (i = 0; i < 4; i++)
    want[i] = ((unsigned long)b[8 + 2 * i] << 8) | b[9 + 2 * i];
  digit_runs(name, 1, &r);
  if (runs_have(&r, want, 4)) return 1;
  for (i = 0; i < 8; i++) snprintf(iid + 2 * i, 3, "%02x", b[8 + i]);
  return strstr(name, iid) != NULL;
}

static int embeds_address(const char *name, const struct addr *a)
{
  if (a->v6) return v6_embedded(name, a->b);
  return v4_octets(name, a->b) || v4_glued(name, a->b);
}

/* ---- words in host labels ---- */

/* How many leading bytes of name are host labels: all but the last two
 * labels (the registered domain is the operator's brand, not a line). */
static size_t host_part(const char *name, size_t n)
{
  size_t dots = 0, i = n;

  while (i > 0) {
    if (name[i - 1] == '.' && ++dots == 2) return i - 1;
    i--;
  }
  return 0;
}

static int word_match(const struct classifier *c, const char *w, size_t n,
                      int digits_near)
{
  size_t i;

  /* the first letter before strlen: this runs for every token */
  for (i = 0; i < NBUILTIN; i++)
    if (builtin_words[i][0] == w[0] && strlen(builtin_words[i]) == n
        && !memcmp(builtin_words[i], w, n))
      return !needs_digits(builtin_words[i]) || digits_near;
  for (i = 0; i < c->nwords; i++)
    if (strlen(c->words[i]) == n && !memcmp(c->words[i], w, n)) return 1;
  return 0;
}

/* Tokens are runs of letters; a generic word (needs_digits) counts only
 * when digits are glued to it or follow after one '-'. */
static int has_word(const struct classifier *c, const char *name, size_t n)
{
  size_t i = 0;

  while (i < n) {
    size_t s = i, len;
    int near;

    if (!isalpha((unsigned char)name[i])) { i++; continue; }
    while (i < n && isalpha((unsigned char)name[i])) i++;
    len = i - s;
    near = (s > 0 && isdigit((unsigned char)name[s - 1]))
           || (i < n && isdigit((unsigned char)name[i]))
           || (i + 1 < n && name[i] == '-'
               && isdigit((unsigned char)name[i + 1]));
    if (len < WORD_MAX && word_match(c, name + s, len, near)) return 1;
  }
  return 0;
}

static int lower_name(const char *in, char *out)
{
  size_t n = strlen(in), i;

  if (n && in[n - 1] == '.') n--;
  if (n == 0 || n > NAME_MAX_LEN) return -1;
  for (i = 0; i < n; i++) out[i] = (char)tolower((unsigned char)in[i]);
  out[n] = 0;
  return 0;
}

static int looks_accnet(const struct classifier *c, const char *name,
                        const struct addr *a)
{
  char low[NAME_MAX_LEN + 1];
  size_t i;

  if (lower_name(name, low) < 0) return 0;
  if (a && embeds_address(low, a)) return 1;
  if (has_word(c, low, host_part(low, strlen(low)))) return 1;
  for (i = 0; i < c->nres; i++)
    if (regexec(&c->res[i], low, 0, NULL, 0) == 0) return 1;
  return 0;
}

/* ---- HELO shapes ---- */

static int helo_is_ip(const char *h)
{
  unsigned char b[16];
  char tmp[64];
  size_t n = strlen(h);

  if (inet_pton(AF_INET, h, b) == 1 || inet_pton(AF_INET6, h, b) == 1)
    return 1;
  if (n < 3 || n >= sizeof tmp || h[0] != '[' || h[n - 1] != ']') return 0;
  memcpy(tmp, h + 1, n - 2);
  tmp[n - 2] = 0;
  if (!strncasecmp(tmp, "ipv6:", 5))
    return inet_pton(AF_INET6, tmp + 5, b) == 1;
  return inet_pton(AF_INET, tmp, b) == 1;
}

static int label_ok(const char *s, size_t n)
{
  size_t i;

  if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-') return 0;
  for (i = 0; i < n; i++)
    if (!isalnum((unsigned char)s[i]) && s[i] != '-') return 0;
  return 1;
}

/* A fully qualified host name: two or more valid labels, a top-level
 * label that is not all digits, one trailing dot allowed. */
static int is_fqdn(const char *h)
{
  size_t n = strlen(h), s = 0, i, labels = 0, last = 0;
  int alpha = 0;

  if (n && h[n - 1] == '.') n--;
  if (n == 0 || n > 253) return 0;
  for (i = 0; i <= n; i++) {
    if (i < n && h[i] != '.') continue;
    if (!label_ok(h + s, i - s)) return 0;
    labels++;
    last = s;
    s = i + 1;
  }
  for (i = last; i < n; i++)
    if (isalpha((unsigned char)h[i])) alpha = 1;
  return labels >= 2 && alpha;
}

static int known(const char *s)
{
  return s && *s && strcmp(s, "unknown") != 0;
}

unsigned classify(const struct classifier *c, const char *client_address,
                  const char *client_name, const char *reverse_client_name,
                  const char *helo_name)
{
  struct addr a, *ap = NULL;
  const char *ptr = NULL;
  unsigned bits = 0;

  if (client_address && parse_addr(client_address, &a) == 0) ap = &a;
  if (known(client_name)) ptr = client_name;
  else {
    bits |= CL_PTRNUL;
    /* the unverified name still tells what kind of line this is */
    if (known(reverse_client_name)) ptr = reverse_client_name;
  }
  if (ptr && looks_accnet(c, ptr, ap)) bits |= CL_PTR_ACCNET;
  if (!helo_name) helo_name = "";
  if (helo_is_ip(helo_name)) bits |= CL_HELO_IP;
  else if (!is_fqdn(helo_name)) bits |= CL_HELO_NOTFQDN;
  else if (looks_accnet(c, helo_name, ap)) bits |= CL_HELO_ACCNET;
  return bits;
}

static const char *const bit_names[] = {
  "PTRNUL", "PTR_ACCNET", "HELO_IP", "HELO_NOTFQDN", "HELO_ACCNET"
};

size_t classify_names(unsigned bits, char *out, size_t room)
{
  size_t n = 0, i;
  const char *none = "none";

  if (room == 0) return 0;
  out[0] = 0;
  if (!(bits & CL_ALL)) {
    n = strlen(none) < room ? strlen(none) : room - 1;
    memcpy(out, none, n);
    out[n] = 0;
    return n;
  }
  for (i = 0; i < 5; i++) {
    size_t l = strlen(bit_names[i]) + (n ? 1 : 0);

    if (!(bits & (1u << i))) continue;
    if (n + l >= room) break;
    if (n) out[n++] = ',';
    memcpy(out + n, bit_names[i], strlen(bit_names[i]));
    n += strlen(bit_names[i]);
    out[n] = 0;
  }
  return n;
}

unsigned classify_bit(const char *name)
{
  size_t i;

  for (i = 0; i < 5; i++)
    if (!strcmp(name, bit_names[i])) return 1u << i;
  return 0;
}
