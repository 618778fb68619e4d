/*
 * t_greyd.c - unit tests: the sender normaliser and the client network
 * (tables of real-world shapes), the greylisting rules step by step, the
 * whitelists, and the LMDB store (round trip, long keys, expiry).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "greyd.h"
#include "test.h"

static void test_sender(void)
{
  static const struct { const char *in, *delim, *want; } cases[] = {
    { "", "+", "<>" },
    { "John.Smith@Example.COM", "+", "john.smith@example.com" },
    { "user+tag@example.com", "+", "user@example.com" },
    { "user-tag@example.com", "+-", "user@example.com" },
    { "user+a-b@example.com", "-", "user+a@example.com" },
    { "+leading@example.com", "+", "+leading@example.com" },
    { "prvs=4168d1a2b3=user@example.com", "+", "user@example.com" },
    { "PRVS=0123456789=User@Example.com", "+", "user@example.com" },
    { "prvs=user=4168d1a2b3@example.com", "+", "user@example.com" },
    { "msprvs1=18012abcde=bounces@example.net", "+", "bounces@example.net" },
    { "btv1==0e1a2b3c4d5==user@example.org", "+", "user@example.org" },
    { "SRS0=HHH=TT=example.org=alice@forwarder.example", "+",
      "alice@example.org" },
    { "srs0+x1Yz=AB=example.org=alice@forwarder.example", "+",
      "alice@example.org" },
    { "SRS1=HHH=fwd1.example==HHH=TT=example.org=bob@fwd2.example", "+",
      "bob@example.org" },
    { "srs0=broken@forwarder.example", "+", "#=broken@forwarder.example" },
    { "bounces-123-456@lists.example.org", "+",
      "bounces-#-#@lists.example.org" },
    { "bounce-md_30850198.5f8a9b3c.v1-6ad8f@mandrill.example", "+",
      "bounce-md_#.#.#-#@mandrill.example" },
    { "list-bounces+user=example.com@lists.example.org", "+",
      "list-bounces@lists.example.org" },
    { "msgid-a1b2c3d4e5@bounce.example.com", "+",
      "msgid-#@bounce.example.com" },
    { "newsletter@example.com", "+", "newsletter@example.com" },
    { "\"quoted local\"@example.com", "+", "\"quoted local\"@example.com" },
    { "a%b@example.com", "+", "a%b@example.com" },
    { "^.*[x]$@example.com", "+", "^.*[x]$@example.com" },
    { "nodomain", "+", "nodomain" },
    { "user@", "+", "user@" },
    { "user+tag@example.com", "", "user+tag@example.com" },
  };
  char out[ADDR_MAX], name[160];
  size_t i;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t n = normalise_sender(cases[i].in, cases[i].delim, out, sizeof out);

    snprintf(name, sizeof name, "sender [%s] delim [%s]", cases[i].in,
             cases[i].delim);
    test_str(n ? out : "(failed)", cases[i].want, name);
  }
  test_num((long long)normalise_sender("a@b.example", "+", out, 5), 0,
           "sender that does not fit fails");
  test_num((long long)normalise_recipient("Post.Master@Example.COM", out,
                                          sizeof out), 23, "recipient length");
  test_str(out, "post.master@example.com", "recipient lower case");
}

/* Addresses of ADDR_MAX bytes or more: cut, completed by a hash of the
 * whole (normalised) address; distinct ones stay distinct. */
static void test_long(void)
{
  static char a[20000], b[20000], c[20000];
  char o1[ADDR_MAX], o2[ADDR_MAX], o3[ADDR_MAX];
  size_t n1, n2, n3, len;

  for (len = 0; len < sizeof a; len++) a[len] = 'x';
  memcpy(a + 500, "@Example.org", 13);                 /* 512 bytes */
  memcpy(b, a, sizeof b);
  b[3] = 'y';
  n1 = normalise_sender(a, "+", o1, sizeof o1);
  n2 = normalise_sender(b, "+", o2, sizeof o2);
  test_num((long long)n1, ADDR_MAX - 1, "512-byte sender: cut to 511");
  test_num((long long)strlen(o1), ADDR_MAX - 1, "... and NUL-terminated");
  test_num(o1[ADDR_MAX - 18], 1, "... hash marker after the cut");
  test_num(!memcmp(o1, "xxxxxxxx", 8), 1, "... prefix kept");
  test_num(!strcmp(o1, o2), 0, "two long senders stay apart");
  test_num((long long)normalise_sender(a, "+", o3, sizeof o3), n1,
           "same long sender: same length");
  test_str(o3, o1, "same long sender: same key");
  /* normalised before it is cut: case, VERP */
  memset(c, 'x', 700);
  memcpy(c, "Bounce-1234.", 12);
  memcpy(c + 612, "@Example.org", 13);
  n3 = normalise_sender(c, "+", o3, sizeof o3);
  memset(c, 'x', 700);
  memcpy(c, "bounce-98765.", 13);
  memcpy(c + 613, "@example.org", 13);
  n2 = normalise_sender(c, "+", o2, sizeof o2);
  test_num((long long)n2, ADDR_MAX - 1, "long VERP sender: cut to 511");
  test_num((long long)n3, (long long)n2, "long VERP senders: same length");
  test_str(o2, o3, "long VERP senders normalise alike");
  test_num(!memcmp(o2, "bounce-#.xx", 11), 1, "... normalised, then cut");
  memset(a, 'x', sizeof a - 1);
  a[sizeof a - 1] = 0;
  a[500] = '@';
  test_num((long long)normalise_sender(a, "+", o1, sizeof o1), ADDR_MAX - 1,
           "20 kB sender: cut to 511");
  test_num((long long)normalise_recipient(a, o1, sizeof o1), ADDR_MAX - 1,
           "20 kB recipient: cut to 511");
  test_num(o1[ADDR_MAX - 18], 1, "... hash marker");
  a[1] = 'X';
  test_num((long long)normalise_recipient(a, o2, sizeof o2), ADDR_MAX - 1,
           "recipient in other case: cut to 511");
  test_str(o2, o1, "long recipient: lower case before the hash");
  a[10000] = 'z';
  normalise_recipient(a, o2, sizeof o2);
  test_num(!strcmp(o1, o2), 0, "long recipients differing late stay apart");
}

static void test_net(void)
{
  static const struct { const char *addr; unsigned v4, v6; const char *want; }
  cases[] = {
    { "203.0.113.77", 24, 64, "203.0.113.0/24" },
    { "203.0.113.77", 32, 64, "203.0.113.77/32" },
    { "203.0.113.77", 20, 64, "203.0.112.0/20" },
    { "2001:db8:1:2:3:4:5:6", 24, 64, "2001:db8:1:2::/64" },
    { "2001:db8:1:2:3:4:5:6", 24, 48, "2001:db8:1::/48" },
    { "2001:db8:1:2:3:4:5:6", 24, 128, "2001:db8:1:2:3:4:5:6/128" },
    { "::ffff:198.51.100.9", 24, 64, "198.51.100.0/24" },
    { "not.an.address", 24, 64, "(bad)" },
    { "", 24, 64, "(bad)" },
  };
  char out[NET_MAX], name[96];
  size_t i;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int r = client_net(cases[i].addr, cases[i].v4, cases[i].v6, out,
                       sizeof out);

    snprintf(name, sizeof name, "net %s /%u /%u", cases[i].addr,
             cases[i].v4, cases[i].v6);
    test_str(r < 0 ? "(bad)" : out, cases[i].want, name);
  }
}

static const struct timing tm = { 300, 172800, 3024000, 5, 3024000, 3600 };

/* One step: decide at time now, expect a reason and age. */
static void step(uint32_t now, struct trec *t, struct crec *c,
                 enum reason want, uint32_t want_age, const char *name)
{
  uint32_t age;
  unsigned w;
  enum reason r = decide(now, &tm, t, c, &age, &w);
  char n2[160];

  test_str(reason_text(r), reason_text(want), name);
  snprintf(n2, sizeof n2, "%s: age", name);
  test_num(age, want_age, n2);
}

static void test_decide(void)
{
  struct trec t = { 0, 0, 0, 0 };
  struct crec c = { 0, 0, 0, 0 };
  uint32_t T = 1700000000, i;
  char name[80];

  step(T, &t, &c, R_NEW, 0, "first try is a new triplet");
  step(T + 10, &t, &c, R_EARLY, 10, "retry after 10 s is early");
  step(T + 299, &t, &c, R_EARLY, 299, "retry after 299 s is early");
  step(T + 300, &t, &c, R_RETRY, 300, "retry after 300 s passes");
  test_num(c.count, 1, "pass counted for the client");
  step(T + 400, &t, &c, R_CACHED, 400, "passed triplet is cached");
  test_num(c.count, 1, "second pass within the hour not counted");
  /* a triplet not retried within the window starts again */
  memset(&t, 0, sizeof t);
  step(T, &t, &c, R_NEW, 0, "new again");
  step(T + 172801, &t, &c, R_NEW, 0, "retry after the window is new");
  /* a passed triplet unseen for longer than MAX_AGE starts again */
  step(T + 172801 + 300, &t, &c, R_RETRY, 300, "retry passes");
  step(T + 172801 + 300 + 3024001, &t, &c, R_NEW, 0,
       "passed triplet unseen 35 days is new");
  /* auto-whitelisting after five counted passes */
  memset(&c, 0, sizeof c);
  for (i = 0; i < 5; i++) {
    uint32_t at = T + i * 3600;

    memset(&t, 0, sizeof t);
    snprintf(name, sizeof name, "awl round %u new", i + 1);
    step(at, &t, &c, R_NEW, 0, name);
    snprintf(name, sizeof name, "awl round %u pass", i + 1);
    step(at + 301, &t, &c, i == 4 ? R_AWL_ADD : R_RETRY, 301, name);
  }
  memset(&t, 0, sizeof t);
  step(T + 5 * 3600, &t, &c, R_AWL, 0,
       "whitelisted client: new triplet passes");
  test_num(t.found, 0, "no triplet kept for a whitelisted client");
  step(T + 5 * 3600 + 3024000 + 3600 + 1, &t, &c, R_NEW, 0,
       "whitelisting ends 35 days after last seen");
  test_num(c.count, 0, "stale client count reset");
  {
    struct trec t2 = { T + 1000, T + 1000, 0, 1 };
    struct crec c2 = { 0, 0, 0, 0 };

    step(T, &t2, &c2, R_NEW, 0, "first seen in the future is new");
  }
  test_num(reason_defers(R_NEW) && reason_defers(R_EARLY)
           && !reason_defers(R_RETRY) && !reason_defers(R_STORE), 1,
           "only new and early defer");
  test_str(reason_text(R_AWL), "Pass new triplet from white listed IP",
           "reason text exact");
}

static void write_file(const char *path, const char *text)
{
  FILE *f = fopen(path, "w");

  if (f) { fputs(text, f); fclose(f); }
}

static void test_wlist(void)
{
  char c[] = "/tmp/t_greyd_c.XXXXXX", r[] = "/tmp/t_greyd_r.XXXXXX";
  char s[] = "/tmp/t_greyd_s.XXXXXX", why[256] = "";
  struct wlist *w = wlist_new();
  int fc = mkstemp(c), fr = mkstemp(r), fs = mkstemp(s);

  close(fc), close(fr), close(fs);
  write_file(c, "# clients\n192.0.2.7\n198.51.100.0/24\n2001:db8:5::/48\n"
                "mail.example.org\n.example.net  # suffix\n");
  write_file(r, "postmaster@\nabuse@example.com\n@example.org\n");
  write_file(s, "example.edu\nalerts@example.com\nuser123@example.net\n");
  test_num(wlist_load(w, c, r, s, why, sizeof why), 0, "whitelists load");
  test_num(wlist_client(w, "192.0.2.7", "unknown"), 1, "client address");
  test_num(wlist_client(w, "192.0.2.8", "unknown"), 0, "other address");
  test_num(wlist_client(w, "198.51.100.200", ""), 1, "client network");
  test_num(wlist_client(w, "2001:db8:5:ffff::1", ""), 1, "client v6 network");
  test_num(wlist_client(w, "2001:db8:6::1", ""), 0, "other v6 network");
  test_num(wlist_client(w, "203.0.113.1", "MAIL.example.org"), 1,
           "client name exact");
  test_num(wlist_client(w, "203.0.113.1", "a.mail.example.org"), 1,
           "client name subdomain");
  test_num(wlist_client(w, "203.0.113.1", "badmail.example.org"), 0,
           "client name suffix needs a dot");
  test_num(wlist_client(w, "203.0.113.1", "mx.example.net"), 1,
           "client name .suffix");
  test_num(wlist_recipient(w, "Postmaster@example.com"), 1, "postmaster@");
  test_num(wlist_recipient(w, "postmaster2@example.com"), 0, "not postmaster");
  test_num(wlist_recipient(w, "abuse@example.com"), 1, "exact recipient");
  test_num(wlist_recipient(w, "abuse@example.net"), 0, "other domain");
  test_num(wlist_recipient(w, "x@sub.example.org"), 1, "recipient domain");
  test_num(wlist_sender(w, "a@cs.example.edu", "+"), 1, "sender domain");
  test_num(wlist_sender(w, "ALERTS@example.com", "+"), 1, "sender exact");
  test_num(wlist_sender(w, "", "+"), 0, "null sender not by domain");
  /* wrapped senders match as unwrapped (they matched as sent only) */
  test_num(wlist_sender(w, "prvs=1234abcdef=alerts@example.com", "+"), 1,
           "BATV sender exact");
  test_num(wlist_sender(w, "prvs=alerts=1234abcdef@example.com", "+"), 1,
           "reversed BATV sender exact");
  test_num(wlist_sender(w, "msprvs1=18012abcde=a@cs.example.edu", "+"), 1,
           "msprvs1 sender domain");
  test_num(wlist_sender(w, "PRVS=0123456789=User123@example.net", "+"), 1,
           "BATV sender with digits exact (digits not folded)");
  test_num(wlist_sender(w, "SRS0=HHH=TT=example.edu=bob@fwd.example", "+"),
           1, "SRS0 sender domain");
  test_num(wlist_sender(w, "SRS1=HHH=fwd1.example==HHH=TT=example.com="
                        "alerts@fwd2.example", "+"), 1, "SRS1 sender exact");
  test_num(wlist_sender(w, "alerts+list@example.com", "+"), 1,
           "extension cut");
  test_num(wlist_sender(w, "alerts-list@example.com", "+"), 0,
           "- is no delimiter by default");
  test_num(wlist_sender(w, "alerts-list@example.com", "+-"), 1,
           "- is when configured");
  test_num(wlist_sender(w, "prvs=1234abcdef=alerts2@example.com", "+"), 0,
           "BATV other user");
  test_num(wlist_sender(w, "prvs=0123456789=user124@example.net", "+"), 0,
           "BATV other digits");
  test_num(wlist_sender(w, "SRS0=HHH=TT=evil.example=alerts@fwd.example",
                        "+"), 0, "SRS from a domain not listed");
  test_num(wlist_sender(w, "prvs=1234abcdef=a@example.edu.evil.example",
                        "+"), 0, "BATV domain suffix needs the end");
  /* "<>" names the null sender (a tester's entry, once matching
   * nothing) */
  write_file(s, "example.edu\n<>\n");
  wlist_free(w);
  w = wlist_new();
  test_num(wlist_load(w, c, r, s, why, sizeof why), 0, "<> loads");
  test_num(wlist_sender(w, "", "+"), 1, "<> whitelists the null sender");
  test_num(wlist_sender(w, "a@example.com", "+"), 0,
           "<> matches no address");
  write_file(c, "192.0.2.0/33\n");
  wlist_free(w);
  w = wlist_new();
  test_num(wlist_load(w, c, NULL, NULL, why, sizeof why), -1,
           "bad prefix refused");
  test_ok(strstr(why, "line 1") != NULL, "bad line reported");
  wlist_free(w);
  unlink(c), unlink(r), unlink(s);
}

/* One client whitelist line: the error greyd reports ("" if it loads). */
static const char *client_entry(const char *path, const char *line)
{
  static char why[256];
  struct wlist *w = wlist_new();
  size_t skip = strlen(path) + 1;     /* "PATH line N: ..." */

  write_file(path, line);
  *why = 0;
  if (wlist_load(w, path, NULL, NULL, why, sizeof why) == 0) *why = 0;
  wlist_free(w);
  return *why ? why + skip : why;
}

/* Client entries that could never match are refused like a bad prefix:
 * greyd exits 100 at start and keeps the old lists on reload. */
static void test_wlist_bad(void)
{
  char c[] = "/tmp/t_greyd_c.XXXXXX", why[256];
  int fc = mkstemp(c);
  struct wlist *w;

  close(fc);
  test_str(client_entry(c, "*.example.net\n"), "line 1: bad entry: a "
           "wildcard; example.net already covers every name under it",
           "wildcard refused");
  test_str(client_entry(c, "192.0.2.300\n"), "line 1: bad entry: not an "
           "address, and not a host name", "bad address refused");
  test_str(client_entry(c, "195.235.39\n"), "line 1: bad entry: a "
           "partial address (postgrey's form); write a network, as "
           "192.0.2.0/24", "partial address refused");
  test_str(client_entry(c, "example..com\n"), "line 1: bad entry: not a "
           "host name (empty or long label)", "empty label refused");
  test_str(client_entry(c, "example.com.\n"), "line 1: bad entry: not a "
           "host name (empty or long label)", "trailing dot refused");
  test_str(client_entry(c, "2001:db8::/200\n"), "line 1: bad entry: not "
           "an address or network", "v6 prefix over 128 refused");
  test_str(client_entry(c, "mail_1.example.net\n# ok\n"
                           "mail!.example.net\n"),
           "line 3: bad entry: not a host name (a character no name "
           "holds)", "bad character refused, by its line");
  test_str(client_entry(c, "/^mail\\d+\\.example\\.com$/\n"),
           "line 1: bad entry: a regular expression (postgrey's form); "
           "greyd takes addresses, networks and domains",
           "postgrey regex refused");
  test_str(client_entry(c, ".example.com\nUPPER.Example.COM\nlocalhost\n"
                           "192.0.2.1/24\n"), "",
           "suffix, mixed case, one label, host bits load");
  w = wlist_new();
  test_num(wlist_load(w, c, NULL, NULL, why, sizeof why), 0, "they load");
  test_num(wlist_client(w, "203.0.113.1", "mx.EXAMPLE.com"), 1,
           ".example.com matches a name under it");
  test_num(wlist_client(w, "203.0.113.1", "example.com"), 1,
           ".example.com matches the domain itself");
  test_num(wlist_client(w, "203.0.113.1", "badexample.com"), 0,
           ".example.com does not match badexample.com");
  test_num(wlist_client(w, "192.0.2.200", "unknown"), 1,
           "192.0.2.1/24 is the /24");
  wlist_free(w);
  unlink(c);
}

static void test_lmdb(void)
{
  char dir[] = "/tmp/t_greyd_db.XXXXXX", why[256], longs[500];
  struct store *st;
  struct item it[3];
  uint32_t T = 1700000000;
  int i;

  if (!mkdtemp(dir)) { test_ok(0, "lmdb dir"); return; }
  st = store_open(dir, 3, 16, 1, 0, why, sizeof why);
  if (!test_ok(st != NULL, "lmdb opens")) { printf("# %s\n", why); return; }
  test_str(store_kind(st), "lmdb", "kind");
  memset(longs, 'x', sizeof longs - 20);
  strcpy(longs + sizeof longs - 20, "@example.com");
  memset(it, 0, sizeof it);
  it[0].net = "203.0.113.0/24", it[0].sender = "a@example.org";
  it[0].rcpt = "b@example.com", it[0].addr = "203.0.113.7";
  it[1] = it[0];
  it[1].sender = longs;
  it[2] = it[0];
  it[2].rcpt = "c@example.com", it[2].addr = "203.0.113.8";
  test_num(store_fetch(st, it, 3), 0, "fetch empty");
  test_num(it[0].t.found + it[1].t.found + it[0].c.found, 0, "nothing yet");
  for (i = 0; i < 3; i++) {
    it[i].t.first = T, it[i].t.last = T + i, it[i].t.passes = (uint32_t)i;
    it[i].c.count = 3, it[i].c.last_seen = T;
    it[i].write = W_TRIPLET | (i == 0 ? W_CLIENT : 0);
  }
  test_num(store_commit(st, it, 3), 0, "commit");
  memset(&it[0].t, 0, sizeof it[0].t);
  memset(&it[1].t, 0, sizeof it[1].t);
  test_num(store_fetch(st, it, 3), 0, "fetch again");
  store_abort(st);
  test_num(it[0].t.found && it[0].t.first == T && it[0].t.passes == 0, 1,
           "triplet read back");
  test_num(it[1].t.found && it[1].t.last == T + 1 && it[1].t.passes == 1, 1,
           "long-key triplet read back");
  test_num(it[0].c.found && it[0].c.count == 3, 1, "client read back");
  test_num(it[2].c.found, 0, "unwritten client absent");
  /* expiry: at T + 3 days the unpassed triplet (it[0]) is stale, the
   * passed ones stay; at T + 40 days everything is */
  test_num(store_expire(st, T + 3 * 86400, &tm, 1000), 1,
           "expire removes the unretried triplet");
  test_num(store_expire(st, T + 3 * 86400, &tm, 1000), 0,
           "client walk removes nothing yet");
  test_num(store_expire(st, T + 40 * 86400, &tm, 1), 1,
           "expire budget of one");
  test_num(store_expire(st, T + 40 * 86400, &tm, 1000), 1,
           "expire resumes where it stopped");
  test_num(store_expire(st, T + 40 * 86400, &tm, 1000), 1,
           "expire stale client");
  test_num(store_sync(st), 0, "sync");
  store_close(st);
  {
    char cmd[300];

    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) test_ok(0, "cleanup");
  }
}

int main(void)
{
  test_sender();
  test_long();
  test_net();
  test_decide();
  test_wlist();
  test_wlist_bad();
  test_lmdb();
  return test_done();
}
