/*
 * t_classify.c - the classifier against real-world shapes of PTR names
 * and HELOs.  The names follow the patterns of real ISPs and mail
 * providers, rewritten into documentation addresses (192.0.2.0/24,
 * 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) and example domains.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "classify.h"
#include "test.h"

struct ptr_case {
  const char *addr, *name;
  int accnet;
};

/* dynamic / access-network shapes: 1; mail servers and static hosts: 0 */
static const struct ptr_case ptr_cases[] = {
  /* the address embedded in decimal, dashed or dotted, either order */
  { "203.0.113.77", "dsl-203-0-113-77.dyn.example.net", 1 },
  { "203.0.113.77", "77.113.0.203.broad.example", 1 },
  { "203.0.113.77", "c-203-0-113-77.hsd1.ma.example.net", 1 },
  { "203.0.113.77", "203-0-113-77.static.example.net", 1 },
  { "203.0.113.77", "ip-203-0-113-77.ec2.example.com", 1 },
  { "203.0.113.77", "77-113-0-203.example.com", 1 },
  { "203.0.113.77", "203.0.113.77.example.org", 1 },
  { "203.0.113.77", "host77-113-0.static.example.it", 1 },
  { "198.51.100.9", "cpc9-100-51-198.example.co.uk", 0 + 1 },
  { "198.51.100.9", "198-51-100-9.ftth.example.de", 1 },
  { "198.51.100.9", "ppp-198-51-100-9.example.net", 1 },
  { "198.51.100.9", "dhcp-198-51-100-9.example.edu", 1 },
  { "192.0.2.33", "192-0-2-33.rev.example.net", 1 },
  { "192.0.2.33", "33.2.0.192.in-addr.example.net", 1 },
  { "192.0.2.33", "node-0-2-33.example.net", 1 },
  /* zero-padded, glued, hex and 32-bit integer forms */
  { "203.0.113.77", "s203000113077.example.net", 1 },
  { "203.0.113.77", "077113000203.dial.example.jp", 1 },
  { "203.0.113.65", "host-cb007141.example.net", 1 },
  { "203.0.113.77", "CB00714D.cpe.example.net", 1 },
  { "203.0.113.77", "d4d7100cb.example.net", 1 },
  { "203.0.113.77", "3405803853.example.net", 1 },
  /* words that ISPs put into end-user names */
  { "198.51.100.20", "pool-71-12-34.bstnma.fios.example.net", 1 },
  { "198.51.100.20", "ppp91.example.net", 1 },
  { "198.51.100.20", "adsl-stat-12.example.fr", 1 },
  { "198.51.100.20", "cable-12-34.example.at", 1 },
  { "198.51.100.20", "cust-12.tor.example.ca", 1 },
  { "198.51.100.20", "client-12-34.example.pl", 1 },
  { "198.51.100.20", "dynamic.kiev.example.ua", 1 },
  { "198.51.100.20", "dyn.lin.example.ch", 1 },
  { "198.51.100.20", "broadband.wlgn.example.nz", 1 },
  { "198.51.100.20", "dialup-4.example.com", 1 },
  { "198.51.100.20", "customer.example.br", 1 },
  { "198.51.100.20", "a.b.cpe.example.cz", 1 },
  { "198.51.100.20", "ip12-34.example.ru", 1 },
  { "198.51.100.20", "res12-34.wrkr.example.edu", 1 },
  { "198.51.100.20", "user-12.example.in", 1 },
  { "198.51.100.20", "dhcp.foo.example.com", 1 },
  { "2001:db8:4:5:a1b2:c3d4:e5f6:1789",
    "2001-db8-4-5-a1b2-c3d4-e5f6-1789.dyn.example.net", 1 },
  { "2001:db8:4:5:a1b2:c3d4:e5f6:1789", "a1b2c3d4e5f61789.example.net", 1 },
  { "2001:db8:4:5::1789", "dsl-v6.cust.example.net", 1 },
  { "::ffff:203.0.113.77", "203-0-113-77.example.net", 1 },
  /* mail servers, including numbered ones and the big providers */
  { "203.0.113.77", "mail.example.com", 0 },
  { "203.0.113.77", "mx1.example.org", 0 },
  { "203.0.113.77", "smtp-out.example.net", 0 },
  { "203.0.113.77", "MAIL.EXAMPLE.COM.", 0 },
  { "203.0.113.77", "mx-2-1.example.net", 0 },
  { "203.0.113.77", "mail-ed1-f77.example.com", 0 },
  { "203.0.113.77", "mail-db8eur05on2077.outbound.protection.example.com", 0 },
  { "203.0.113.77", "a113-77.smtp-out.example.com", 0 },
  { "203.0.113.77", "o77.email.example.net", 0 },
  { "203.0.113.77", "mta-113-77.example.net", 0 },
  { "203.0.113.77", "out203.mailer.example.com", 0 },
  { "203.0.113.77", "smtp.dynamic-solutions.example", 0 },
  { "203.0.113.77", "host.example.com", 0 },
  { "203.0.113.77", "ip.example.com", 0 },
  { "203.0.113.77", "web77.hosting.example.de", 0 },
  { "203.0.113.77", "relay.poolside.example", 0 },
  { "203.0.113.77", "clientmail.example.org", 0 },
  { "198.51.100.9", "mx.cable.example", 0 },
  { "198.51.100.9", "mx.198-51-100.example.net", 0 },
  { "198.51.100.9", "vps-51-100-8.example.net", 0 },
  { "2001:db8::25", "mx.example.net", 0 },
  { "2001:db8::25", "2001-db8-0-0-0-0-0-24.example.net", 0 },
};

struct full_case {
  const char *addr, *client, *reverse, *helo;
  const char *want;
};

static const struct full_case full_cases[] = {
  { "203.0.113.77", "mail.example.com", "mail.example.com",
    "mail.example.com", "none" },
  { "203.0.113.77", "unknown", "unknown", "mail.example.com", "PTRNUL" },
  { "203.0.113.77", "unknown", "dsl-203-0-113-77.dyn.example.net",
    "[203.0.113.77]", "PTRNUL,PTR_ACCNET,HELO_IP" },
  { "203.0.113.77", "c-203-0-113-77.hsd1.example.net",
    "c-203-0-113-77.hsd1.example.net", "c-203-0-113-77.hsd1.example.net",
    "PTR_ACCNET,HELO_ACCNET" },
  { "203.0.113.77", "mx1.example.org", "mx1.example.org", "203.0.113.77",
    "HELO_IP" },
  { "2001:db8::25", "mx.example.net", "mx.example.net", "[IPv6:2001:db8::25]",
    "HELO_IP" },
  { "2001:db8::25", "mx.example.net", "mx.example.net", "2001:db8::25",
    "HELO_IP" },
  { "203.0.113.77", "mx1.example.org", "mx1.example.org", "localhost",
    "HELO_NOTFQDN" },
  { "203.0.113.77", "mx1.example.org", "mx1.example.org", "",
    "HELO_NOTFQDN" },
  { "203.0.113.77", "mx1.example.org", "mx1.example.org", "DESKTOP-AB12CD",
    "HELO_NOTFQDN" },
  { "203.0.113.77", "mx1.example.org", "mx1.example.org", "my_pc.example.org",
    "HELO_NOTFQDN" },
  { "203.0.113.77", "mx1.example.org", "mx1.example.org", "-bad.example.org",
    "HELO_NOTFQDN" },
  { "203.0.113.77", "mx1.example.org", "mx1.example.org", "example..org",
    "HELO_NOTFQDN" },
  { "203.0.113.77", "mx1.example.org", "mx1.example.org", "1.2.3",
    "HELO_NOTFQDN" },
  { "203.0.113.77", "mx1.example.org", "mx1.example.org", "[203.0.113.777]",
    "HELO_NOTFQDN" },
  { "203.0.113.77", "mx1.example.org", "mx1.example.org", "MX1.Example.ORG.",
    "none" },
  { "203.0.113.77", "mx1.example.org", "mx1.example.org",
    "pool-203-0-113-77.example.net", "HELO_ACCNET" },
  { "203.0.113.77", "", "", "", "PTRNUL,HELO_NOTFQDN" },
  { "not-an-address", "unknown", "unknown", "[1.2.3.4]", "PTRNUL,HELO_IP" },
};

static void test_ptr_table(struct classifier *c)
{
  size_t i;
  char name[160];

  for (i = 0; i < sizeof ptr_cases / sizeof ptr_cases[0]; i++) {
    const struct ptr_case *p = &ptr_cases[i];
    unsigned bits = classify(c, p->addr, p->name, p->name,
                             "mail.example.com");

    snprintf(name, sizeof name, "PTR %s [%s] %s", p->name, p->addr,
             p->accnet ? "access network" : "mail server");
    test_num(!!(bits & CL_PTR_ACCNET), p->accnet, name);
  }
}

static void test_full_table(struct classifier *c)
{
  size_t i;
  char name[200], got[80];

  for (i = 0; i < sizeof full_cases / sizeof full_cases[0]; i++) {
    const struct full_case *f = &full_cases[i];

    classify_names(classify(c, f->addr, f->client, f->reverse, f->helo),
                   got, sizeof got);
    snprintf(name, sizeof name, "classify %s ptr=%s helo=%s", f->addr,
             f->client, f->helo);
    test_str(got, f->want, name);
  }
}

static void test_names(void)
{
  char out[80];

  test_num((long long)classify_names(CL_ALL, out, sizeof out), 50,
           "all names length");
  test_str(out, "PTRNUL,PTR_ACCNET,HELO_IP,HELO_NOTFQDN,HELO_ACCNET",
           "all names");
  classify_names(CL_PTRNUL | CL_HELO_ACCNET, out, 12);
  test_str(out, "PTRNUL", "names cut at room, whole names only");
  test_num(classify_bit("HELO_IP"), CL_HELO_IP, "classify_bit HELO_IP");
  test_num(classify_bit("helo_ip"), 0, "classify_bit is exact");
  test_num(classify_bit("PTR_ACCNET"), CL_PTR_ACCNET, "classify_bit ACCNET");
}

static void test_pattern_file(void)
{
  char path[] = "/tmp/t_classify.XXXXXX";
  int fd = mkstemp(path);
  struct classifier *c = classifier_new();
  unsigned long line;
  const char *why = "";
  FILE *f;

  if (fd < 0 || !c) { test_ok(0, "pattern file setup"); return; }
  f = fdopen(fd, "w");
  fputs("# local ISP names\nkabel   # a word\n\n/^gw[0-9]+\\.example\\.net$/\n",
        f);
  fclose(f);
  test_num(classifier_load(c, path, &line, &why), 0, "pattern file loads");
  test_num(!!(classify(c, "192.0.2.1", "a.kabel.example.de", "", "x.example")
              & CL_PTR_ACCNET), 1, "pattern word matches");
  test_num(!!(classify(c, "192.0.2.1", "gw12.example.net", "", "x.example")
              & CL_PTR_ACCNET), 1, "pattern regex matches");
  test_num(!!(classify(c, "192.0.2.1", "gw12.example.org", "", "x.example")
              & CL_PTR_ACCNET), 0, "pattern regex is anchored as written");
  f = fopen(path, "w");
  fputs("ok\n/unterminated\n", f);
  fclose(f);
  test_num(classifier_load(c, path, &line, &why), -1, "bad regex refused");
  test_num((long long)line, 2, "bad line number reported");
  test_str(why, "regex must end with /", "bad line reason");
  f = fopen(path, "w");
  fputs("two words\n", f);
  fclose(f);
  test_num(classifier_load(c, path, &line, &why), -1, "bad word refused");
  unlink(path);
  test_num(classifier_load(c, path, &line, &why), -1, "missing file refused");
  classifier_free(c);
}

int main(void)
{
  struct classifier *c = classifier_new();

  if (!c) return 111;
  test_ptr_table(c);
  test_full_table(c);
  test_names();
  test_pattern_file();
  classifier_free(c);
  return test_done();
}
