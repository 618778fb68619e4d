/* fuzz_reply.c - libFuzzer harness for rbld's packet parser and reply
 * builder: every input is a query packet, answered over UDP and over
 * TCP against zones of several types, and in a batch with its prefixes
 * as the UDP worker answers.  Built with clang
 * -fsanitize=fuzzer,address,undefined by rbld/tests/fuzz.t. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include "rbld.h"
#include "zone.h"

struct opts g_opts = { 2100, 0, 0, 0, 0, 0 };
static struct zoneset *zs;

static void put(const char *dir, const char *name, const char *text)
{
  char p[256];
  FILE *f;

  snprintf(p, sizeof p, "%s/%s", dir, name);
  if (!(f = fopen(p, "w"))) exit(111);
  fputs(text, f);
  fclose(f);
}

static void setup(void)
{
  static struct config cfg;
  static const char *specs[] = {
    "bl.example:ip4set:bl", "bl.example:generic:gen", "d.example:dnset:dn",
    "t.example:ip4trie:tr", "v6.example:ip6trie:v6", "c.example:combined:cb",
    "c.example:acl:acl", NULL };
  char dir[] = "/tmp/fuzz_rbld.XXXXXX";
  const char *err;
  int i;

  if (!mkdtemp(dir)) exit(111);
  put(dir, "bl", "$SOA 0 ns.example.net h.example.net 5 1h 1h 1w 5m\n"
      "$NS 1h ns.example.net ns2.example.net\n:127.0.0.2:listed $ $1\n"
      "$1 one\n1.2.3.4\n10.0.0.0/8\n!10.1.1.1\n50.0.0.1 :2:a\n"
      "50.0.0.1 :3:b\n");
  put(dir, "gen", "@ A 127.0.0.1\n@ MX 10 mx.example\nwww TXT \"hi\"\n");
  put(dir, "dn", ":2:dn $\nexample.com\n*.wild.com\n.both.com\n");
  put(dir, "tr", "10.0.0.0/8 :2:x\n10.1.0.0/16\n");
  put(dir, "v6", "2001:db8::/32 :2:v6 $\n");
  put(dir, "cb", "$SOA 0 ns h 1 1 1 1 1\n$DATASET ip4set a @\n1.2.3.4\n"
      "$DATASET dnset b\nx.com\n");
  put(dir, "acl", "127.0.0.2 :refuse\n10.0.0.0/8 :2:always $\n");
  cfg.gacl = -1;
  for (i = 0; specs[i]; i++) {
    char spec[300];
    const char *f = strrchr(specs[i], ':') + 1;
    snprintf(spec, sizeof spec, "%.*s%s/%s", (int)(f - specs[i]), specs[i],
             dir, f);
    if (!config_add(&cfg, spec, &err)) exit(111);
  }
  if (config_check(&cfg, 1) < 0 || !(zs = snapshot_build(&cfg))) exit(111);
  for (i = 0; specs[i]; i++) {          /* loaded: the files can go */
    char p[300];
    snprintf(p, sizeof p, "%s/%s", dir, strrchr(specs[i], ':') + 1);
    unlink(p);
  }
  rmdir(dir);
}

/* The worker's way (rbld.c prepare_group): a group of packets is
 * prepared, prefetched, then answered, in slots that keep what earlier
 * groups left there; each answer must be the one reply() gives the
 * packet alone.  The group: the input, half of it (a cut name or OPT),
 * and the inputs before it, each a copy of its own length so that a
 * read past its end is caught. */
#define GROUP 16
#define KEPT (GROUP - 2)
static uint8_t *kept[KEPT];
static size_t keptlen[KEPT];

static uint8_t *copy(const uint8_t *d, size_t n)
{
  uint8_t *c = malloc(n ? n : 1);

  if (!c) abort();
  memcpy(c, d, n);
  return c;
}

static void batch(const uint8_t *data, size_t size, const struct peer *p)
{
  static struct query qs[GROUP];
  static unsigned turn;
  static uint8_t o1[4096], o2[4096];
  const uint8_t *pk[GROUP];
  size_t len[GROUP], l1, l2;
  unsigned n = 0, j, b = turn % GROUP;
  int z1, z2, r1, r2;

  len[n] = size;
  pk[n++] = copy(data, size);
  len[n] = size / 2;
  pk[n++] = copy(data, size / 2);
  for (j = 0; j < KEPT; j++)
    if (kept[(turn + j) % KEPT]) {
      len[n] = keptlen[(turn + j) % KEPT];
      pk[n++] = kept[(turn + j) % KEPT];
    }
  for (j = 0; j < n; j++)
    reply_prepare(zs, pk[j], len[j], &qs[(b + j) % GROUP]);
  for (j = 0; j < n; j++) reply_prefetch(&qs[(b + j) % GROUP]);
  for (j = 0; j < n; j++) {
    l1 = reply_answer(zs, &qs[(b + j) % GROUP], pk[j], o1, sizeof o1, 0,
                      p, &z1, &r1);
    l2 = reply(zs, pk[j], len[j], o2, sizeof o2, 0, p, &z2, &r2);
    if (l1 != l2 || z1 != z2 || r1 != r2 || memcmp(o1, o2, l1)) abort();
  }
  free((void *)pk[1]);
  free(kept[turn % KEPT]);           /* the input replaces the oldest */
  kept[turn % KEPT] = (uint8_t *)pk[0];
  keptlen[turn % KEPT] = size;
  turn++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static uint8_t out[65536];
  struct sockaddr_in sin;
  struct peer p;
  size_t len;
  int zi, rc, qlim = 512;

  if (!zs) setup();
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(size & 1 ? 0x0a000001 : 0x7f000001);
  p.sa = (struct sockaddr *)&sin;
  p.len = sizeof sin;
  len = reply(zs, data, size, out, 4096, 0, &p, &zi, &rc);
  /* a UDP reply never exceeds what the query allows */
  if (size >= 12 && data[11]) qlim = 4096;
  if (len > (size_t)qlim) abort();
  len = reply(zs, data, size, out, 65535, 1, &p, &zi, &rc);
  if (len > 65535) abort();
  batch(data, size, &p);
  return 0;
}
