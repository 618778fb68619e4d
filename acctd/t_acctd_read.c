/* t_acctd_read.c - the text and LDIF readers, source text in, the
 * addresses handed on (or the error message) out. */
#include <stdlib.h>
#include "reader.h"
#include "test.h"

#define N(a) (sizeof (a) / sizeof (a)[0])

struct sink { char buf[4096]; size_t len; };

static int collect(void *arg, const char *addr, size_t n)
{
  struct sink *s = arg;

  if (s->len + n + 2 > sizeof s->buf) return -1;
  if (s->len) s->buf[s->len++] = ',';
  memcpy(s->buf + s->len, addr, n);
  s->len += n;
  s->buf[s->len] = 0;
  return 0;
}

/* "addr,addr,..." or "ERR file:line: why" */
static void run(enum reader_format f, int keep, const char *src,
                char *got, size_t room, struct reader *r)
{
  struct sink s;
  int rc;

  memset(&s, 0, sizeof s);
  reader_init(r, f, "src", keep, collect, &s);
  rc = reader_buf(r, src, strlen(src));
  if (rc == READ_BAD) snprintf(got, room, "ERR %s", r->why);
  else if (rc != READ_OK) snprintf(got, room, "SYS");
  else snprintf(got, room, "%s", s.buf);
  reader_free(r);
}

static const struct { const char *src; int keep; const char *want; } text[] = {
  { "alice@example.com\n", 0, "alice@example.com" },
  /* a repeated line is written once (a tester's failed export that
   * repeated one address passed the -p guard) */
  { "a@x.com\na@x.com\nA@X.com\nb@x.com\n", 0, "a@x.com,b@x.com" },
  /* not UTF-8: refused with its line (a tester's inputs) */
  { "ok@example.com\n\xff@ex.com\n", 0, "ERR src:2: not UTF-8" },
  { "a@\xc3.com\n", 0, "ERR src:1: not UTF-8" },
  { "a@\xc0\xae.com\n", 0, "ERR src:1: not UTF-8" },
  { "a@\xed\xa0\x80.com\n", 0, "ERR src:1: not UTF-8" },
  { "jos\xc3\xa9@example.com\n", 0, "jos\xc3\xa9@example.com" },
  { "# comment\n\n  Bob@Example.COM  \n\t@Catch.Example.com\t\n", 0,
    "bob@example.com,@catch.example.com" },
  /* -k: the folded copy too, since Postfix asks in lower case (a
   * tester's -k CDB made Postfix bounce Bob.Smith with 550) */
  { "Bob@Example.COM\n", 1, "Bob@example.com,bob@example.com" },
  { "Bob@x.com\nbob@x.com\nBOB@x.com\n", 1, "Bob@x.com,bob@x.com,BOB@x.com" },
  { "bob@x.com\nBob@x.com\n", 1, "bob@x.com,Bob@x.com" },
  { "JOS\xc3\x89@x.com\n@Catch.com\nlow@x.com\n", 1,
    "JOS\xc3\x89@x.com,jos\xc3\xa9@x.com,@catch.com,low@x.com" },
  { "a@example.com   # trailing comment\n", 0, "a@example.com" },
  { "a#b@example.com\n", 0, "a#b@example.com" },
  { "crlf@example.com\r\nnext@example.com\r\n", 0,
    "crlf@example.com,next@example.com" },
  { "no-newline@example.com", 0, "no-newline@example.com" },
  { "\"John Doe\"@example.com  # quoted\n", 0, "john doe@example.com" },
  { "ok@example.com\nbad address@example.com\n", 0,
    "ERR src:2: text after the address (one address per line)" },
  { "a@example.com\n\n\nnobody\n", 0,
    "ERR src:4: no @ in address (write @domain for a catch-all)" },
  { "x@example.com extra\n", 0,
    "ERR src:1: text after the address (one address per line)" },
  { "x@\n", 0, "ERR src:1: empty domain" },
  { "\xef\xbb\xbf" "bom@example.com\r\n", 0, "bom@example.com" },
  { "\xff\xfe" "b\0o\0m\0", 0,
    "ERR src:1: UTF-16 text (convert it: iconv -f UTF-16 -t UTF-8)" },
};

static void test_text(void)
{
  char got[4200], name[64];
  struct reader r;
  size_t i;

  for (i = 0; i < N(text); i++) {
    run(READ_TEXT, text[i].keep, text[i].src, got, sizeof got, &r);
    snprintf(name, sizeof name, "text reader case %zu", i);
    test_str(got, text[i].want, name);
  }
  /* distinct addresses (the guards' count) apart from keys written */
  run(READ_TEXT, 1, "Bob@x.com\nbob@x.com\nA@x.com\nA@x.com\n", got,
      sizeof got, &r);
  snprintf(name, sizeof name, "%lu %lu %lu", r.addrs, r.keys, r.dups);
  test_str(name, "3 4 1", "-k: 3 addresses, 4 keys, 1 duplicate");
  run(READ_TEXT, 0, "Bob@x.com\nbob@x.com\n", got, sizeof got, &r);
  snprintf(name, sizeof name, "%lu %lu %lu", r.addrs, r.keys, r.dups);
  test_str(name, "1 1 1", "fold: keys are the addresses");
}

static const struct { const char *src; const char *want; } ldif[] = {
  { "version: 1\n\ndn: cn=Alice,dc=example,dc=com\nobjectClass: person\n"
    "mail: Alice@Example.COM\n", "alice@example.com" },
  /* AD: primary SMTP, secondary smtp, X400 and X500 skipped, mail equal
   * to the primary (a duplicate in one entry) */
  { "dn: CN=Bob,OU=Users,DC=example,DC=com\r\n"
    "mail: bob@example.com\r\n"
    "proxyAddresses: SMTP:bob@example.com\r\n"
    "proxyAddresses: smtp:robert@example.com\r\n"
    "proxyAddresses: X400:c=US;a= ;p=Example;o=Exchange;s=Bob;\r\n"
    "proxyAddresses: X500:/o=Example/ou=Exchange/cn=Recipients/cn=bob\r\n"
    "proxyAddresses: sip:bob@example.com\r\n",
    "bob@example.com,robert@example.com" },
  /* base64 (UTF-8 local part) and a folded line */
  { "dn: cn=x\nmail:: asO2c8OpQGV4YW1wbGUuY29t\n"
    "proxyAddresses: smtp:folded.add\n ress@exam\n ple.com\n",
    "j\xc3\xb6s\xc3\xa9@example.com,folded.address@example.com" },
  /* two entries: the same address in both is kept in both (the CDB does
   * not mind); comments, a folded comment, attribute options */
  { "# export\n#  folded comment\n dn: not really\n\n"
    "dn: cn=a\nmail;lang-en: a@example.com\n\n"
    "dn: cn=b\nMAIL: a@example.com\n",
    /* written once though two entries give it (the guards count
     * distinct addresses) */
    "a@example.com" },
  { "dn: cn=c\nchangetype: add\nmail: c@example.com\n", "c@example.com" },
  { "dn: cn=c\nchangetype: modify\nadd: mail\nmail: c@example.com\n-\n",
    "ERR src:2: change records are not supported "
    "(export the entries, not changes)" },
  { "dn: cn=a\nmail: not an address\n",
    "ERR src:2: no @ in address (write @domain for a catch-all)" },
  { "dn: cn=a\nmail: not an@address.example\n",
    "ERR src:2: space inside address" },
  { "dn: cn=a\nproxyAddresses: bob@example.com\n",
    "ERR src:2: proxyAddresses value without a type (smtp:)" },
  { "dn: cn=a\nmail:: !!!notbase64\n", "ERR src:2: bad base64 value" },
  { "dn: cn=a\nmail:< file:///etc/passwd\n",
    "ERR src:2: URL values (name:< ...) are not supported" },
  { "dn: cn=a\ngarbage line\n", "ERR src:2: not an LDIF line (name: value)" },
  { " leading continuation\n",
    "ERR src:1: continuation line with nothing to continue" },
  { "dn: cn=a\nmail:: AGFAYi5j\n", "ERR src:2: NUL byte in value" },
  /* the error names the line where a folded value starts */
  { "dn: cn=a\ndescription: x\nmail: bad\n  space@example.com\n",
    "ERR src:3: space inside address" },
};

static void test_ldif(void)
{
  char got[4200], name[64];
  struct reader r;
  size_t i;

  for (i = 0; i < N(ldif); i++) {
    run(READ_LDIF, 0, ldif[i].src, got, sizeof got, &r);
    snprintf(name, sizeof name, "ldif reader case %zu", i);
    test_str(got, ldif[i].want, name);
  }
}

static void test_counts(void)
{
  char got[4200];
  struct reader r;

  run(READ_LDIF, 0, ldif[1].src, got, sizeof got, &r);
  test_num((long long)r.addrs, 2, "ldif: addresses counted");
  test_num((long long)r.dups, 1, "ldif: duplicate in an entry counted");
  test_num((long long)r.skipped, 3, "ldif: non-SMTP values counted");
}

static void test_long_line(void)
{
  size_t n = READER_LINE_MAX + 10;
  char *src = malloc(n + 1), got[200];
  struct reader r;

  memset(src, 'a', n);
  src[n] = 0;
  run(READ_TEXT, 0, src, got, sizeof got, &r);
  test_str(got, "ERR src:1: line too long", "text: overlong line");
  memcpy(src, "mail: x", 7);
  memset(src + 7, '\n', 1);
  src[8] = ' ';
  run(READ_LDIF, 0, src, got, sizeof got, &r);
  test_str(got, "ERR src:1: line too long", "ldif: overlong folded line");
  free(src);
}

int main(void)
{
  test_text();
  test_ldif();
  test_counts();
  test_long_line();
  return test_done();
}
