/* t_acctd_addr.c - address syntax, lower-casing, extensions. */
#include "addr.h"
#include "test.h"

#define N(a) (sizeof (a) / sizeof (a)[0])

static void test_parse(void)
{
  static const struct { const char *in; int keep; const char *want; } c[] = {
    { "alice@example.com", 0, "alice@example.com" },
    { "Alice@Example.COM", 0, "alice@example.com" },
    { "Alice@Example.COM", 1, "Alice@example.com" },
    { "@Catchall.Example.COM", 0, "@catchall.example.com" },
    { "\"John Doe\"@example.com", 0, "john doe@example.com" },
    { "\"John Doe\"@example.com", 1, "John Doe@example.com" },
    { "\"a\\\"b\"@example.com", 0, "a\"b@example.com" },
    { "user+tag@example.com", 0, "user+tag@example.com" },
    { "o'neil@example.com", 0, "o'neil@example.com" },
    { "J\xc3\x96S\xc3\x89@Example.com", 0, "j\xc3\xb6s\xc3\xa9@example.com" },
    { "J\xc3\x96S\xc3\x89@Example.com", 1, "J\xc3\x96S\xc3\x89@example.com" },
    { "x@[192.0.2.1]", 0, "x@[192.0.2.1]" },
    { "x@sub_domain.example.com", 0, "x@sub_domain.example.com" },
    { "", 0, "ERR empty address" },
    { "alice", 0, "ERR no @ in address (write @domain for a catch-all)" },
    { "alice@", 0, "ERR empty domain" },
    { "a b@example.com", 0, "ERR space inside address" },
    { "a@b@example.com", 0, "ERR more than one @ in address" },
    { "a@example..com", 0, "ERR empty label in domain" },
    { "a@example.com.", 0, "ERR domain ends with a dot" },
    { "a@exa mple.com", 0, "ERR space inside address" },
    { "a\x01@example.com", 0, "ERR control character in address" },
    { "a<b@example.com", 0, "ERR bad character in local part (quote it)" },
    { "a@exa!mple.com", 0, "ERR bad character in domain" },
    { "\"unterminated@example.com", 0, "ERR unterminated quoted local part" },
    { "\"q\"x@example.com", 0, "ERR quoted local part not followed by @" },
    { "\"\"@example.com", 0, "ERR empty quoted local part" },
    { "x@[1.2.3.4", 0, "ERR unterminated address literal" },
    /* the faults the tester found: dot-atoms, labels, literals */
    { ".a@ex.com", 0, "ERR local part starts with a dot (quote it)" },
    { "a.@ex.com", 0, "ERR local part ends with a dot (quote it)" },
    { "a..b@ex.com", 0, "ERR two dots in a row in local part (quote it)" },
    { ".@ex.com", 0, "ERR local part starts with a dot (quote it)" },
    { "\"a..b\"@ex.com", 0, "a..b@ex.com" },
    { "\".a.\"@ex.com", 0, ".a.@ex.com" },
    { "a.b.c@ex.com", 0, "a.b.c@ex.com" },
    { "a@-ex.com", 0, "ERR domain label starts with a hyphen" },
    { "a@ex-.com", 0, "ERR domain label ends with a hyphen" },
    { "a@ex.-com", 0, "ERR domain label starts with a hyphen" },
    { "a@ex.com-", 0, "ERR domain label ends with a hyphen" },
    { "a@e-x.co-m", 0, "a@e-x.co-m" },
    { "a@xn--bcher-kva.example", 0, "a@xn--bcher-kva.example" },
    { "a@.ex.com", 0, "ERR empty label in domain" },
    { "a@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
      0, "a@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com" },
    { "a@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
      0, "ERR domain label longer than 63 bytes" },
    { "a@[999.1.1.1]", 0, "ERR bad IPv4 address literal" },
    { "a@[1.2.3]", 0, "ERR bad IPv4 address literal" },
    { "a@[1.2.3.4.5]", 0, "ERR bad IPv4 address literal" },
    { "a@[example.com]", 0, "ERR bad IPv4 address literal" },
    { "a@[]", 0, "ERR unterminated address literal" },
    { "a@[255.255.255.255]", 0, "a@[255.255.255.255]" },
    { "a@[IPv6:2001:db8::1]", 0, "a@[ipv6:2001:db8::1]" },
    { "a@[IPv6:2001:db8::g]", 0, "ERR bad IPv6 address literal" },
    { "a@[IPv6:1.2.3.4]", 0, "ERR bad IPv6 address literal" },
    { "a@[2001:db8::1]", 0, "ERR bad IPv4 address literal" },
  };
  char out[ADDR_MAX + 1], got[ADDR_MAX + 64], name[128];
  size_t i;

  for (i = 0; i < N(c); i++) {
    const char *why = NULL;
    long n = addr_parse(out, c[i].in, strlen(c[i].in), c[i].keep, &why);

    if (n >= 0) snprintf(got, sizeof got, "%.*s", (int)n, out);
    else snprintf(got, sizeof got, "ERR %s", why);
    snprintf(name, sizeof name, "addr_parse %zu %s", i, c[i].in);
    test_str(got, c[i].want, name);
  }
}

static void test_too_long(void)
{
  char in[ADDR_MAX + 20], out[ADDR_MAX + 1];
  const char *why = "";

  memset(in, 'a', sizeof in);
  memcpy(in + ADDR_MAX + 8, "@example.com", 12);
  test_num(addr_parse(out, in, sizeof in, 0, &why), -1, "overlong refused");
  test_str(why, "address too long", "overlong reason");
  memcpy(in + ADDR_MAX - 12, "@example.com", 12);
  test_num(addr_parse(out, in, ADDR_MAX, 0, &why), ADDR_MAX,
           "ADDR_MAX bytes fit exactly");
}

static void test_fold(void)
{
  static const struct { const char *in, *want; } c[] = {
    { "MiXeD@Example.COM", "mixed@example.com" },
    { "\xc3\x84\xc3\x96\xc3\x9c", "\xc3\xa4\xc3\xb6\xc3\xbc" },  /* AOU */
    { "\xce\xa3", "\xcf\x83" },                /* Greek capital sigma */
    { "bad\xff\xfeutf8", "bad\xff\xfeutf8" },  /* invalid: kept */
    { "\xc3", "\xc3" },                        /* truncated sequence */
    { "", "" },
  };
  char out[64], name[64];
  size_t i;

  for (i = 0; i < N(c); i++) {
    long n = addr_fold(out, sizeof out, c[i].in, strlen(c[i].in));

    snprintf(name, sizeof name, "addr_fold case %zu", i);
    test_ok(n == (long)strlen(c[i].want), name);
    test_str(out, c[i].want, name);
  }
  test_num(addr_fold(out, 4, "abcd", 4), -1, "addr_fold refuses no room");
}

static void test_base(void)
{
  static const struct { const char *local, *delims; size_t want; } c[] = {
    { "user+ext", "+", 4 },
    { "a+b+c", "+", 1 },
    { "user", "+", 0 },
    { "+user", "+", 0 },
    { "user+", "+", 4 },
    { "user-ext", "+-", 4 },
    { "user+ext", "", 0 },
    { "user+ext", NULL, 0 },
    { "postmaster", "+", 0 },
    { "owner-list", "-", 0 },
    { "list-request", "-", 0 },
    { "owner-list", "+", 0 },
    { "us\0er", "+", 0 },
  };
  char name[64];
  size_t i;

  for (i = 0; i < N(c); i++) {
    snprintf(name, sizeof name, "addr_base %s with %s", c[i].local,
             c[i].delims ? c[i].delims : "(none)");
    test_num((long long)addr_base(c[i].local, strlen(c[i].local),
                                  c[i].delims), (long long)c[i].want, name);
  }
}

int main(void)
{
  test_parse();
  test_too_long();
  test_fold();
  test_base();
  return test_done();
}
