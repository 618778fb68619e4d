/*
 * greyd-dump - list greyd's store, or import a postgrey database.
 *
 *   greyd-dump [-t|-c] [STORE]       list triplets (-t), clients (-c) or both
 *   greyd-dump --expire [STORE]      remove stale records now (greyd does
 *                                    it a little every second anyway)
 *   greyd-dump -p [STORE] < DUMP     import postgrey: DUMP is the output of
 *                                    db_dump on postgrey.db and/or
 *                                    postgrey_clients.db, concatenated
 * STORE defaults to $STORE; one of them must be given.  Listing and
 * expiry need an existing store (a mistyped path must not leave an
 * empty one behind); the import makes it.  Lines listed (tab-separated,
 * times in Unix seconds):
 *   triplet NET SENDER RECIPIENT FIRST LAST PASSES
 *   client ADDR COUNT LAST_COUNT LAST_SEEN
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "greyd.h"
#include "log.h"
#include "settings.h"

enum { S_STORE, S_DELAY, S_V4, S_V6, S_DELIM, S_RETRY_WINDOW, S_MAX_AGE,
       S_AWL_MAX_AGE, S_COUNT };

static struct setting settings[S_COUNT] = {
  /* no default: greyd's own (/var/lib/greyd) is not where the package
   * keeps the store, and listing an empty guess helps nobody */
  [S_STORE] = { "STORE", SET_STRING, NULL, 0, 0, 0, 0 },
  [S_DELAY] = { "DELAY", SET_SECONDS, "300", 1, 86400, 0, 0 },
  [S_V4] = { "IPV4_CIDR", SET_UINT, "24", 8, 32, 0, 0 },
  [S_V6] = { "IPV6_CIDR", SET_UINT, "64", 16, 128, 0, 0 },
  [S_DELIM] = { "RECIPIENT_DELIMITER", SET_STRING0, "+", 0, 8, 0, 0 },
  [S_RETRY_WINDOW] = { "RETRY_WINDOW", SET_SECONDS, "2d", 60, 3024000, 0, 0 },
  [S_MAX_AGE] = { "MAX_AGE", SET_SECONDS, "35d", 3600, 31536000, 0, 0 },
  [S_AWL_MAX_AGE] = { "AWL_MAX_AGE", SET_SECONDS, "35d", 3600, 31536000, 0, 0 },
};

/* Two whole walks: the LMDB walk covers one database per call. */
static int expire_now(struct store *st)
{
  struct timing tm;
  long a, b;

  memset(&tm, 0, sizeof tm);
  tm.delay = (uint32_t)settings[S_DELAY].num;
  tm.retry_window = (uint32_t)settings[S_RETRY_WINDOW].num;
  tm.max_age = (uint32_t)settings[S_MAX_AGE].num;
  tm.awl_max_age = (uint32_t)settings[S_AWL_MAX_AGE].num;
  if ((a = store_expire(st, (uint32_t)time(NULL), &tm, 4000000000u)) < 0
      || (b = store_expire(st, (uint32_t)time(NULL), &tm, 4000000000u)) < 0)
    die_msg(EXIT_TEMP, "unable to expire:", store_error(st));
  fprintf(stderr, "greyd-dump: expired %ld records\n", a + b);
  return 0;
}

static void out_triplet(void *arg, const char *net, const char *sender,
                        const char *rcpt, const struct trec *t)
{
  (void)arg;
  printf("triplet\t%s\t%s\t%s\t%u\t%u\t%u\n", net, sender, rcpt, t->first,
         t->last, t->passes);
}

static void out_client(void *arg, const char *addr, const struct crec *c)
{
  (void)arg;
  printf("client\t%s\t%u\t%u\t%u\n", addr, c->count, c->last_count,
         c->last_seen);
}

/* ---- postgrey import ---- */

struct import {
  struct store *st;
  struct item items[512];
  char bufs[512][2][ADDR_MAX];
  char nets[512][NET_MAX];
  size_t n;
  unsigned long triplets, clients, skipped;
};

/* db_dump's two data formats: "print" (bytes, \\ and \xx escapes) and
 * "bytevalue" (hex pairs).  The line starts with one space. */
static int decode(const char *line, int hex, char *out, size_t room)
{
  size_t o = 0;
  const char *p = line + 1;

  while (*p && *p != '\n') {
    unsigned v;

    if (o + 1 >= room) return -1;
    if (hex || *p == '\\') {
      if (!hex && p[1] == '\\') { out[o++] = '\\'; p += 2; continue; }
      if (!hex) p++;
      if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1])
          || sscanf(p, "%2x", &v) != 1)
        return -1;
      out[o++] = (char)v;
      p += 2;
      continue;
    }
    out[o++] = *p++;
  }
  out[o] = 0;
  return 0;
}

static int flush_items(struct import *im)
{
  if (im->n && store_commit(im->st, im->items, im->n) < 0) {
    die_msg(EXIT_TEMP, "unable to write the store:", store_error(im->st));
  }
  im->n = 0;
  return 0;
}

static int add_triplet(struct import *im, const char *key, const char *val)
{
  const char *s1 = strchr(key, '/'), *s2 = strrchr(key, '/');
  char addr[64], *b0 = im->bufs[im->n][0], *sender;
  unsigned long first, last;
  size_t n;
  struct item *it = &im->items[im->n];

  if (!s1 || s1 == s2 || (size_t)(s1 - key) >= sizeof addr) return -1;
  /* last before first is no record postgrey writes: a damaged one */
  if (sscanf(val, "%lu,%lu", &first, &last) != 2 || last < first
      || last > UINT32_MAX)
    return -1;
  memcpy(addr, key, (size_t)(s1 - key));
  addr[s1 - key] = 0;
  if (client_net(addr, (unsigned)settings[S_V4].num,
                 (unsigned)settings[S_V6].num, im->nets[im->n],
                 NET_MAX) < 0)
    return -1;
  /* normalised whole, as greyd does live: an overlong sender is then
   * cut and completed by a hash of all of it, never cut before */
  sender = strndup(s1 + 1, (size_t)(s2 - s1 - 1));
  if (!sender) die_sys(EXIT_TEMP, "allocate", "memory");
  n = normalise_sender(sender, settings[S_DELIM].str, b0, ADDR_MAX);
  free(sender);
  if (!n) return -1;
  if (!normalise_recipient(s2 + 1, im->bufs[im->n][1], ADDR_MAX)) return -1;
  memset(it, 0, sizeof *it);
  it->net = im->nets[im->n], it->sender = b0, it->rcpt = im->bufs[im->n][1];
  it->addr = "";
  it->t.first = (uint32_t)first, it->t.last = (uint32_t)last;
  it->t.passes = last - first >= settings[S_DELAY].num ? 1 : 0;
  it->write = W_TRIPLET;
  im->triplets++;
  return 0;
}

static int add_client(struct import *im, const char *key, const char *val)
{
  unsigned long count, last;
  struct item *it = &im->items[im->n];

  if (sscanf(val, "%lu,%lu", &count, &last) != 2 || !*key
      || strlen(key) >= ADDR_MAX || count > UINT32_MAX || last > UINT32_MAX)
    return -1;
  memcpy(im->bufs[im->n][0], key, strlen(key) + 1);
  memset(it, 0, sizeof *it);
  it->net = it->sender = it->rcpt = "";
  it->addr = im->bufs[im->n][0];
  it->c.count = (uint32_t)count;
  it->c.last_count = it->c.last_seen = (uint32_t)last;
  it->write = W_CLIENT;
  im->clients++;
  return 0;
}

static void add_pair(struct import *im, const char *key, const char *val)
{
  int rc = strchr(key, '/') ? add_triplet(im, key, val)
                            : add_client(im, key, val);

  if (rc < 0) { im->skipped++; return; }
  if (++im->n == 512) flush_items(im);
}

/* Lines of any length: a long key read in pieces would pair the rest of
 * the dump wrongly. */
static int import_postgrey(struct store *st)
{
  static struct import im;
  char *line = NULL, *key = NULL, *val = NULL;
  size_t room = 0, keyroom = 0;
  ssize_t len;
  int in_data = 0, hex = 1, have_key = 0, databases = 0;

  im.st = st;
  while ((len = getline(&line, &room, stdin)) >= 0) {
    if (!in_data) {
      if (!strncmp(line, "format=", 7)) hex = !!strncmp(line + 7, "print", 5);
      if (!strncmp(line, "HEADER=END", 10))
        in_data = 1, have_key = 0, databases++;
      continue;
    }
    if (!strncmp(line, "DATA=END", 8)) { in_data = 0; continue; }
    if (line[0] != ' ') continue;
    if ((size_t)len >= keyroom) {     /* decoded is never longer */
      keyroom = (size_t)len + 1;
      key = realloc(key, keyroom);
      val = realloc(val, keyroom);
      if (!key || !val) die_sys(EXIT_TEMP, "allocate", "memory");
    }
    if (!have_key) {
      have_key = decode(line, hex, key, keyroom) == 0;
      if (!have_key) im.skipped++;
      continue;
    }
    have_key = 0;
    if (decode(line, hex, val, keyroom) < 0) { im.skipped++; continue; }
    add_pair(&im, key, val);
  }
  if (ferror(stdin)) die_sys(EXIT_TEMP, "read", "input");
  free(line), free(key), free(val);
  flush_items(&im);
  fprintf(stderr, "greyd-dump: imported %lu triplets, %lu clients, "
          "skipped %lu\n", im.triplets, im.clients, im.skipped);
  /* what came before is in the store (records stand alone, and a
   * second import of the whole dump writes them again), but a cut dump
   * must not look like a good one */
  if (!databases)
    die_msg(EXIT_PERM, "no db_dump database in the input", NULL);
  if (in_data || have_key)
    die_msg(EXIT_PERM, "the dump ends inside a database (no DATA=END): "
            "it was cut; import the whole dump again", NULL);
  return 0;
}

static void usage(void)
{
  die_msg(EXIT_PERM, "usage: greyd-dump [-t|-c|-p|--expire] [STORE]", NULL);
}

int main(int argc, char **argv)
{
  struct store_iter it = { out_triplet, out_client, NULL };
  const char *spec;
  char why[512];
  struct store *st;
  int opt, import = 0, expire = 0, rc;
  unsigned mode;

  log_init("greyd-dump");
  settings_load(settings, S_COUNT);
  if (argc > 1 && !strcmp(argv[1], "--expire")) {
    expire = 1;
    argv[1] = argv[0];
    argv++, argc--;
  }
  while ((opt = getopt(argc, argv, "tcp")) != -1) {
    switch (opt) {
    case 't': it.client = NULL; break;
    case 'c': it.triplet = NULL; break;
    case 'p': import = 1; break;
    default: usage();
    }
  }
  if (argc - optind > 1) usage();
  spec = optind < argc ? argv[optind] : settings[S_STORE].str;
  if (!spec)
    die_msg(EXIT_PERM, "no store: name it, or set STORE "
            "(envdir the service's env/)", NULL);
  mode = import ? 0 : expire ? STORE_EXISTING
                             : STORE_EXISTING | STORE_RDONLY;
  st = store_open(spec, 10, 1024, 0, mode, why, sizeof why);
  if (!st) die_msg(EXIT_TEMP, "unable to open the store:", why);
  if (expire) rc = expire_now(st);
  else if (import) rc = import_postgrey(st);
  else if ((rc = store_walk(st, &it)) < 0)
    die_msg(EXIT_TEMP, "unable to read the store:", store_error(st));
  if (fflush(stdout) != 0) die_sys(EXIT_TEMP, "write", "output");
  store_close(st);
  return rc ? EXIT_TEMP : 0;
}
