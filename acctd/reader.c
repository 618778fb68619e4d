/* reader.c - text and LDIF account sources (see reader.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "textcode.h"
#include "reader.h"

void reader_init(struct reader *r, enum reader_format f, const char *file,
                 int keepcase, int (*add)(void *, const char *, size_t),
                 void *arg)
{
  memset(r, 0, sizeof *r);
  r->format = f;
  r->file = file;
  r->keepcase = keepcase;
  r->add = add;
  r->arg = arg;
}

void reader_free(struct reader *r)
{
  free(r->pend);
  r->pend = NULL;
  addrset_free(&r->seen);
  addrset_free(&r->written);
}

static int bad(struct reader *r, unsigned long line, const char *what)
{
  snprintf(r->why, sizeof r->why, "%s:%lu: %s", r->file, line, what);
  return READ_BAD;
}

static int is_space(char c) { return c == ' ' || c == '\t'; }

/* Well-formed UTF-8 (no overlong forms, no surrogates, at most
 * U+10FFFF): what Postfix sends with SMTPUTF8, and nothing else. */
static int utf8_valid(const char *p, size_t n)
{
  const unsigned char *s = (const unsigned char *)p, *end = s + n;

  while (s < end) {
    unsigned c = *s++, need, min, v;

    if (c < 0x80) continue;
    if (c >= 0xc2 && c <= 0xdf) need = 1, min = 0x80, v = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef) need = 2, min = 0x800, v = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4) need = 3, min = 0x10000, v = c & 0x07;
    else return 0;
    if ((size_t)(end - s) < need) return 0;
    while (need--) {
      if ((*s & 0xc0) != 0x80) return 0;
      v = v << 6 | (*s++ & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return 0;
  }
  return 1;
}

/* Hand one key on, once: with keepcase an address may also be the
 * folded copy of one given before (Bob@x then bob@x). */
static int put(struct reader *r, const char *key, size_t n)
{
  int fresh = r->keepcase ? addrset_add(&r->written, key, n) : 1;

  if (fresh <= 0) return fresh;
  if (r->add(r->arg, key, n) < 0) return -1;
  r->keys++;
  return 0;
}

/* keepcase: the folded form of addr too, if it differs, so that the
 * lower-cased address Postfix asks for finds the account.  A folded
 * form longer than ADDR_MAX is never asked for (acctd refuses it). */
static int put_folded(struct reader *r, const char *addr, size_t n)
{
  char f[ADDR_MAX + 1];
  const char *at = memrchr(addr, '@', n);
  size_t dlen = n - (size_t)(at - addr);
  long l = addr_fold(f, sizeof f, addr, (size_t)(at - addr));

  if (l < 0 || (size_t)l + dlen > ADDR_MAX) return 0;
  memcpy(f + l, at, dlen);
  if ((size_t)l + dlen == n && !memcmp(f, addr, n)) return 0;
  return put(r, f, (size_t)l + dlen);
}

/* Parse and store one address; line is for the message. */
static int take(struct reader *r, unsigned long line, const char *a,
                size_t n)
{
  char out[ADDR_MAX + 1];
  const char *why;
  long len = addr_parse(out, a, n, r->keepcase, &why);
  int fresh;

  if (len < 0) return bad(r, line, why);
  if (!utf8_valid(out, (size_t)len)) return bad(r, line, "not UTF-8");
  /* each address once (mail: and SMTP: of one entry, a line repeated):
   * the guards of acctd-data count distinct addresses */
  if ((fresh = addrset_add(&r->seen, out, (size_t)len)) < 0)
    return READ_SYS;
  if (!fresh) { r->dups++; return READ_OK; }
  if (put(r, out, (size_t)len) < 0) return READ_SYS;
  if (r->keepcase && put_folded(r, out, (size_t)len) < 0) return READ_SYS;
  r->addrs++;
  return READ_OK;
}

/* --- text --- */

/* Length of the address token at s: up to white space outside quotes. */
static size_t token(const char *s, size_t n)
{
  size_t i = 0;
  int quoted = 0;

  for (; i < n; i++) {
    if (quoted && s[i] == '\\' && i + 1 < n) { i++; continue; }
    if (s[i] == '"') quoted = !quoted;
    else if (!quoted && is_space(s[i])) break;
  }
  return i;
}

static int text_line(struct reader *r, const char *s, size_t n)
{
  size_t t;

  while (n && is_space(*s)) { s++; n--; }
  while (n && is_space(s[n - 1])) n--;
  if (!n || *s == '#') return READ_OK;
  t = token(s, n);
  if (t < n) {
    size_t k = t;

    while (k < n && is_space(s[k])) k++;
    if (s[k] != '#')
      return bad(r, r->line, "text after the address (one address per line)");
  }
  return take(r, r->line, s, t);
}

/* --- LDIF --- */

/* An attribute value: plain (after "name:"), base64 ("name::") or a URL
 * ("name:<").  Decodes into out (room bytes); returns the length or -1. */
static long ldif_value(struct reader *r, char *v, char *out, size_t room)
{
  size_t n, used, dlen = 0;

  if (*v == '<') {
    bad(r, r->pline, "URL values (name:< ...) are not supported");
    return -1;
  }
  if (*v != ':') {
    while (is_space(*v)) v++;
    n = strlen(v);
    while (n && is_space(v[n - 1])) n--;
    if (n >= room) { bad(r, r->pline, "value too long"); return -1; }
    memcpy(out, v, n);
    return (long)n;
  }
  v++;
  while (is_space(*v)) v++;
  n = strlen(v);
  while (n && is_space(v[n - 1])) v[--n] = 0;
  if (n / 4 * 3 + 3 >= room) { bad(r, r->pline, "value too long"); return -1; }
  used = scan_base64(v, out, &dlen);
  if (used != n || n % 4) {
    bad(r, r->pline, "bad base64 value");
    return -1;
  }
  while (dlen && is_space(out[dlen - 1])) dlen--;
  return (long)dlen;
}

static int ldif_proxy(struct reader *r, const char *v, size_t n)
{
  const char *colon = memchr(v, ':', n);

  if (!colon)
    return bad(r, r->pline, "proxyAddresses value without a type (smtp:)");
  if (colon - v != 4 || strncasecmp(v, "smtp", 4)) {
    r->skipped++;                 /* X400:, X500:, SIP:, EUM: ... */
    return READ_OK;
  }
  return take(r, r->pline, colon + 1, n - 5);
}

/* Attribute name up to ':' (options after ';' dropped), lower-cased. */
static int ldif_name(char *name, size_t room, const char *s, size_t n)
{
  size_t i;

  for (i = 0; i < n && s[i] != ';'; i++) {
    char c = s[i];

    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9') || c == '-' || c == '.'))
      return -1;
    if (i + 1 >= room) return -1;
    name[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
  }
  if (i == 0) return -1;
  name[i] = 0;
  return 0;
}

static int ldif_logical(struct reader *r)
{
  char *s = r->pend, name[64], val[READER_LINE_MAX];
  char *colon;
  long n;

  s[r->plen] = 0;
  if (*s == '#' || !strcmp(s, "-")) return READ_OK;
  colon = memchr(s, ':', r->plen);
  if (!colon || ldif_name(name, sizeof name, s, (size_t)(colon - s)) < 0)
    return bad(r, r->pline, "not an LDIF line (name: value)");
  if (strcmp(name, "mail") && strcmp(name, "proxyaddresses")
      && strcmp(name, "changetype") && strcmp(name, "result"))
    return READ_OK;
  if ((n = ldif_value(r, colon + 1, val, sizeof val)) < 0) return READ_BAD;
  val[n] = 0;
  /* ldapsearch -L prints the search's outcome: anything but success
   * (no such object, size or time limit) means a missing or partial
   * export, which must not replace the accounts. */
  if (!strcmp(name, "result")) {
    if (strcmp(val, "0") && strncmp(val, "0 ", 2))
      return bad(r, r->pline, "the LDAP search failed (result: is not "
                              "0 Success)");
    return READ_OK;
  }
  if (!strcmp(name, "changetype")) {
    if (strcasecmp(val, "add"))
      return bad(r, r->pline, "change records are not supported "
                              "(export the entries, not changes)");
    return READ_OK;
  }
  if (memchr(val, 0, (size_t)n)) return bad(r, r->pline, "NUL byte in value");
  if (!strcmp(name, "mail")) return take(r, r->pline, val, (size_t)n);
  return ldif_proxy(r, val, (size_t)n);
}

static int ldif_flush(struct reader *r)
{
  int rc = READ_OK;

  if (r->pending) rc = ldif_logical(r);
  r->pending = 0;
  r->plen = 0;
  return rc;
}

static int ldif_append(struct reader *r, const char *s, size_t n)
{
  if (r->plen + n >= READER_LINE_MAX) return bad(r, r->pline, "line too long");
  if (!r->pend && !(r->pend = malloc(READER_LINE_MAX + 1))) return READ_SYS;
  memcpy(r->pend + r->plen, s, n);
  r->plen += n;
  return READ_OK;
}

static int ldif_line(struct reader *r, const char *s, size_t n)
{
  int rc;

  if (n && *s == ' ') {
    if (!r->pending)
      return bad(r, r->line, "continuation line with nothing to continue");
    return ldif_append(r, s + 1, n - 1);
  }
  if ((rc = ldif_flush(r)) != READ_OK) return rc;
  if (!n) return READ_OK;                       /* end of an entry */
  r->pending = 1;
  r->pline = r->line;
  return ldif_append(r, s, n);
}

int reader_line(struct reader *r, const char *s, size_t n)
{
  r->line++;
  if (r->line == 1 && n >= 2 && ((s[0] == '\xff' && s[1] == '\xfe')
                                 || (s[0] == '\xfe' && s[1] == '\xff')))
    return bad(r, 1, "UTF-16 text (convert it: iconv -f UTF-16 -t UTF-8)");
  if (r->line == 1 && n >= 3 && !memcmp(s, "\xef\xbb\xbf", 3)) {
    s += 3;                       /* a UTF-8 byte order mark */
    n -= 3;
  }
  if (n && s[n - 1] == '\r') n--;
  if (r->format == READ_LDIF) return ldif_line(r, s, n);
  if (n >= READER_LINE_MAX) return bad(r, r->line, "line too long");
  return text_line(r, s, n);
}

int reader_finish(struct reader *r)
{
  return r->format == READ_LDIF ? ldif_flush(r) : READ_OK;
}

int reader_buf(struct reader *r, const char *buf, size_t n)
{
  while (n) {
    const char *nl = memchr(buf, '\n', n);
    size_t len = nl ? (size_t)(nl - buf) : n;
    int rc = reader_line(r, buf, len);

    if (rc != READ_OK) return rc;
    if (!nl) break;
    buf += len + 1;
    n -= len + 1;
  }
  return reader_finish(r);
}

int reader_fd(struct reader *r, int fd)
{
  FILE *f = fdopen(dup(fd), "r");
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  int rc = READ_OK, e;

  if (!f) return READ_SYS;
  while (rc == READ_OK && (len = getline(&line, &cap, f)) >= 0) {
    if (len && line[len - 1] == '\n') len--;
    rc = reader_line(r, line, (size_t)len);
  }
  if (rc == READ_OK && ferror(f)) rc = READ_SYS;
  if (rc == READ_OK) rc = reader_finish(r);
  e = errno;
  free(line);
  fclose(f);
  errno = e;
  return rc;
}
