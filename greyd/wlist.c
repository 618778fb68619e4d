/*
 * wlist.c - static whitelists, one entry a line, '#' comments:
 *   clients:     192.0.2.7, 198.51.100.0/24, 2001:db8::/32 (addresses and
 *                networks) or example.net, .example.net (the verified
 *                client name is example.net or ends in .example.net); an
 *                entry that could never match is refused (bad_name)
 *   recipients:  postmaster@ (that local part in any domain),
 *                user@example.com (exactly), example.com or @example.com
 *                (the domain and its subdomains)
 *   senders:     user@example.com (exactly) or example.com, @example.com;
 *                the sender matches as sent or unwrapped (BATV, SRS,
 *                extension)
 * Matching ignores case.  Lists are scanned linearly: they are meant for
 * hundreds of entries, not for a DNSBL's millions.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "greyd.h"

struct net {
  int af;
  unsigned bits;
  unsigned char b[16];
};

struct strs {
  char **v;
  size_t n, cap;
};

struct wlist {
  struct net *nets;
  size_t nnets, capnets;
  struct strs cnames, rcpts, senders;
};

struct wlist *wlist_new(void)
{
  return calloc(1, sizeof(struct wlist));
}

static void strs_free(struct strs *s)
{
  size_t i;

  for (i = 0; i < s->n; i++) free(s->v[i]);
  free(s->v);
  memset(s, 0, sizeof *s);
}

void wlist_free(struct wlist *w)
{
  if (!w) return;
  free(w->nets);
  strs_free(&w->cnames);
  strs_free(&w->rcpts);
  strs_free(&w->senders);
  free(w);
}

static int strs_add(struct strs *s, const char *t)
{
  char *d;
  size_t i;

  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 16;
    char **v = realloc(s->v, cap * sizeof *v);

    if (!v) return -1;
    s->v = v;
    s->cap = cap;
  }
  if (!(d = strdup(t))) return -1;
  for (i = 0; d[i]; i++) d[i] = (char)tolower((unsigned char)d[i]);
  s->v[s->n++] = d;
  return 0;
}

static int parse_net(const char *t, struct net *n)
{
  char a[64];
  const char *slash = strchr(t, '/');
  size_t len = slash ? (size_t)(slash - t) : strlen(t);
  unsigned long bits;
  char *end;

  if (len >= sizeof a) return -1;
  memcpy(a, t, len);
  a[len] = 0;
  if (inet_pton(AF_INET, a, n->b) == 1) n->af = AF_INET, n->bits = 32;
  else if (inet_pton(AF_INET6, a, n->b) == 1) n->af = AF_INET6, n->bits = 128;
  else return -1;
  if (!slash) return 0;
  errno = 0;
  bits = strtoul(slash + 1, &end, 10);
  if (!slash[1] || *end || bits > n->bits) return -1;
  n->bits = (unsigned)bits;
  return 0;
}

/* A client name entry is a host name suffix as Postfix verifies
 * names: labels of letters, digits, '-' and '_', none empty, a last
 * label that is not all digits (that was an address), 253 bytes at
 * most.  Anything else could never match: it is refused, with why. */
static const char *bad_name(const char *t)
{
  size_t n = strlen(t), label = 0, labels = 0, i;
  int digits = 1, numeric = 1;

  if (t[0] == '/' && n > 1 && t[n - 1] == '/')
    return "a regular expression (postgrey's form); greyd takes "
           "addresses, networks and domains";
  if (strchr(t, '*'))
    return "a wildcard; example.net already covers every name "
           "under it";
  if (strchr(t, '/') || strchr(t, ':'))
    return "not an address or network";
  if (!n || n > 253) return "not a host name";
  for (i = 0; i <= n; i++) {
    unsigned char c = (unsigned char)t[i];

    if (c == '.' || !c) {
      if (!label || label > 63) return "not a host name (empty or long label)";
      numeric &= digits, labels++;
      if (!c && numeric && labels < 4)
        return "a partial address (postgrey's form); write a network, "
               "as 192.0.2.0/24";
      if (!c && digits) return "not an address, and not a host name";
      label = 0, digits = 1;
      continue;
    }
    if (!isalnum(c) && c != '-' && c != '_')
      return "not a host name (a character no name holds)";
    if (!isdigit(c)) digits = 0;
    label++;
  }
  return NULL;
}

static int add_client(struct wlist *w, const char *t, const char **why)
{
  struct net n;

  if (parse_net(t, &n) < 0) {
    if (t[0] == '.') t++;
    if ((*why = bad_name(t))) return -1;
    return strs_add(&w->cnames, t);
  }
  if (w->nnets == w->capnets) {
    size_t cap = w->capnets ? w->capnets * 2 : 16;
    struct net *v = realloc(w->nets, cap * sizeof *v);

    if (!v) return -1;
    w->nets = v;
    w->capnets = cap;
  }
  w->nets[w->nnets++] = n;
  return 0;
}

static int add_addr(struct strs *s, const char *t)
{
  if (strchr(t, ' ') || !*t) return -1;
  return strs_add(s, t[0] == '@' ? t + 1 : t);
}

static char *trim(char *s)
{
  char *h = strchr(s, '#');
  size_t n;

  if (h) *h = 0;
  while (*s == ' ' || *s == '\t') s++;
  n = strlen(s);
  while (n && isspace((unsigned char)s[n - 1])) s[--n] = 0;
  return s;
}

enum kind { K_CLIENT, K_RCPT, K_SENDER };

static int load_file(struct wlist *w, const char *path, enum kind k,
                     char *why, size_t room)
{
  FILE *f = fopen(path, "r");
  char buf[1024];
  unsigned long line = 0;
  int rc = 0;

  if (!f) {
    snprintf(why, room, "%s: %s", path, strerror(errno));
    return -1;
  }
  while (rc == 0 && fgets(buf, sizeof buf, f)) {
    char *t = trim(buf);
    const char *bad = NULL;

    line++;
    if (!*t) continue;
    if (k == K_CLIENT) rc = add_client(w, t, &bad);
    else rc = add_addr(k == K_RCPT ? &w->rcpts : &w->senders, t);
    if (rc < 0 && bad)
      snprintf(why, room, "%s line %lu: bad entry: %s", path, line, bad);
    else if (rc < 0)
      snprintf(why, room, "%s line %lu: bad entry", path, line);
  }
  fclose(f);
  return rc;
}

int wlist_load(struct wlist *w, const char *clients, const char *rcpts,
               const char *senders, char *why, size_t room)
{
  if (clients && *clients && load_file(w, clients, K_CLIENT, why, room) < 0)
    return -1;
  if (rcpts && *rcpts && load_file(w, rcpts, K_RCPT, why, room) < 0)
    return -1;
  if (senders && *senders && load_file(w, senders, K_SENDER, why, room) < 0)
    return -1;
  return 0;
}

static int net_has(const struct net *n, int af, const unsigned char *b)
{
  unsigned full = n->bits / 8, rest = n->bits % 8;

  if (n->af != af) return 0;
  if (memcmp(n->b, b, full)) return 0;
  if (!rest) return 1;
  return ((n->b[full] ^ b[full]) & (0xff << (8 - rest))) == 0;
}

/* name is suffix itself, or ends in "." suffix (case ignored) */
static int domain_match(const char *name, const char *suffix)
{
  size_t n = strlen(name), s = strlen(suffix);

  if (n < s || strcasecmp(name + n - s, suffix)) return 0;
  return n == s || name[n - s - 1] == '.';
}

int wlist_client(const struct wlist *w, const char *addr, const char *name)
{
  unsigned char b[16];
  int af = AF_INET;
  size_t i;

  if (inet_pton(AF_INET, addr, b) != 1) {
    af = AF_INET6;
    if (inet_pton(AF_INET6, addr, b) != 1) af = 0;
  }
  for (i = 0; af && i < w->nnets; i++)
    if (net_has(&w->nets[i], af, b)) return 1;
  if (!name || !*name || !strcmp(name, "unknown")) return 0;
  for (i = 0; i < w->cnames.n; i++)
    if (domain_match(name, w->cnames.v[i])) return 1;
  return 0;
}

/* "local@" entries, "user@domain" entries, and domains */
static int addr_match(const struct strs *s, const char *addr)
{
  const char *at = strrchr(addr, '@');
  size_t i;

  for (i = 0; i < s->n; i++) {
    const char *e = s->v[i];
    size_t el = strlen(e);

    if (el && e[el - 1] == '@') {
      if (at && (size_t)(at - addr) + 1 == el && !strncasecmp(addr, e, el))
        return 1;
    } else if (strchr(e, '@')) {
      if (!strcasecmp(addr, e)) return 1;
    } else if (at && domain_match(at + 1, e)) {
      return 1;
    }
  }
  return 0;
}

int wlist_recipient(const struct wlist *w, const char *rcpt)
{
  return addr_match(&w->rcpts, rcpt);
}

/* The null sender (bounces) is whitelisted by an entry "<>" only.  A
 * sender wrapped in BATV or SRS, or with an extension, is the address
 * the site means: it matches in the unwrapped form too (greylisting
 * keys the triplet by that form as well). */
int wlist_sender(const struct wlist *w, const char *sender,
                 const char *delimiters)
{
  char u[ADDR_MAX];
  size_t i;

  if (*sender) {
    if (!w->senders.n) return 0;
    if (addr_match(&w->senders, sender)) return 1;
    return unwrap_sender(sender, delimiters, u, sizeof u)
           && strcasecmp(u, sender) && addr_match(&w->senders, u);
  }
  for (i = 0; i < w->senders.n; i++)
    if (!strcmp(w->senders.v[i], "<>")) return 1;
  return 0;
}
