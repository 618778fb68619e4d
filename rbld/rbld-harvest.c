/* rbld-harvest.c - private DNSBL zones from the suite's own logs.
 *
 * Reads policyd's and greyd's log lines (doc/LOGS) from files or from
 * multilog directories (the @*.s files, then current), and writes up
 * to four rbldnsd files for rbld:
 *   blacklist: clients policyd rejected at least N times within the
 *              window, with a TXT naming the rule that rejected them;
 *   whitelist: clients greyd auto-whitelisted within its window;
 * each as an ip4set of IPv4 clients and an ip6tset of IPv6 clients'
 * /64s (the unit an IPv6 host moves in, and the only one ip6tset
 * lists), counted per /64.
 * A file is rewritten only when its contents change, through a
 * temporary file, fsync and rename, so rbld never reads half of one. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "log.h"

/* key: an IPv4 address, or the first 64 bits of an IPv6 address */
struct hit { uint64_t key; long long t; char *rule; };
struct hits { struct hit *v; size_t n, a; };

/* the lists; each IPv6 list follows its IPv4 one (take() relies on
 * it) */
enum { L_BLACK, L_BLACK6, L_WHITE, L_WHITE6, L_N };
#define IS6(list) ((list) & 1)

static struct {
  struct hits l[L_N];
  long long now, bwin, wwin;
  unsigned min;
  unsigned long lines, used, bad, skipped;
  const char *a;
} H;

static void usage(void)
{
  die_msg(EXIT_PERM, "usage: rbld-harvest [-n count] [-t window] "
          "[-W whitewindow] [-a A] [-T now] [-b blackfile] [-w whitefile] "
          "[-B blackfile6] [-V whitefile6] logdir|logfile ...", NULL);
}

static int ip4(const char *s, uint32_t *ip)
{
  unsigned o[4];
  char tail;

  if (sscanf(s, "%3u.%3u.%3u.%3u%c", &o[0], &o[1], &o[2], &o[3], &tail) != 4)
    return 0;
  if (o[0] > 255 || o[1] > 255 || o[2] > 255 || o[3] > 255) return 0;
  *ip = o[0] << 24 | o[1] << 16 | o[2] << 8 | o[3];
  return 1;
}

/* A client address as a list key: 4 for IPv4 (the address), 6 for
 * IPv6 (its /64), 0 for no address.  inet_pton takes every form
 * Postfix may log (compressed, full, leading zeros, upper case, a
 * dotted quad at the end).  An IPv4-mapped address (::ffff:192.0.2.1)
 * is the IPv4 client: a dual-stack socket's view of it. */
static int client_key(const char *s, uint64_t *key)
{
  static const unsigned char mapped[12] = { [10] = 255, [11] = 255 };
  unsigned char a[16];
  uint32_t ip;
  int i;

  if (ip4(s, &ip)) { *key = ip; return 4; }
  if (inet_pton(AF_INET6, s, a) != 1) return 0;
  if (!memcmp(a, mapped, sizeof mapped)) {
    *key = (uint32_t)a[12] << 24 | a[13] << 16 | a[14] << 8 | a[15];
    return 4;
  }
  for (*key = 0, i = 0; i < 8; i++) *key = *key << 8 | a[i];
  return 6;
}

/* A key that is no remote client, never listed: 0.0.0.0/8 (unspecified,
 * "this network": never the source of a connection), 127.0.0.0/8 (the
 * gateway's own loopback, which must never be blacklisted), and the
 * IPv6 /64 ::/64, which holds :: and ::1 (mapped addresses came out as
 * IPv4 already; the rest of it, IPv4-compatible forms, is deprecated). */
static int not_remote(int fam, uint64_t key)
{
  if (fam == 6) return key == 0;
  return key >> 24 == 0 || key >> 24 == 127;
}

/* Value of key in a log line's key=value tail (doc/LOGS grammar),
 * unescaped into out; 0 when the key is not there. */
static int value(const char *line, const char *key, char *out, size_t room)
{
  size_t kl = strlen(key), o = 0;
  const char *p = line;

  for (;;) {
    p = strstr(p, key);
    if (!p) return 0;
    if ((p == line || p[-1] == ' ') && p[kl] == '=') break;
    p += kl;
  }
  p += kl + 1;
  if (*p != '"') {
    while (*p && *p != ' ' && *p != '\n' && o + 1 < room) out[o++] = *p++;
    out[o] = 0;
    return 1;
  }
  for (p++; *p && *p != '"' && o + 1 < room; p++) {
    if (*p == '\\' && p[1] == 'x' && p[2] && p[3]) {
      unsigned v;
      if (sscanf(p + 2, "%2x", &v) == 1) out[o++] = (char)v;
      p += 3;
    } else if (*p == '\\' && p[1]) out[o++] = *++p;
    else out[o++] = *p;
  }
  out[o] = 0;
  return 1;
}

/* multilog's label: @ + 16 hex TAI64 seconds + 8 hex nanoseconds */
static long long tai64n(const char *s)
{
  unsigned long long t = 0;
  int i;

  if (s[0] != '@') return -1;
  for (i = 1; i <= 16; i++) {
    char c = s[i];
    int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ?
            c - 'a' + 10 : -1;
    if (v < 0) return -1;
    t = t << 4 | (unsigned)v;
  }
  for (; i <= 24; i++) if (!s[i]) return -1;
  return (long long)(t - 4611686018427387904ull - 10);
}

static int push(struct hits *h, uint64_t key, long long t, const char *rule)
{
  if (h->n == h->a) {
    size_t na = h->a ? h->a * 2 : 256;
    struct hit *v = realloc(h->v, na * sizeof *v);
    if (!v) return 0;
    h->v = v;
    h->a = na;
  }
  h->v[h->n].key = key;
  h->v[h->n].t = t;
  h->v[h->n].rule = rule ? strdup(rule) : NULL;
  if (rule && !h->v[h->n].rule) return 0;
  h->n++;
  return 1;
}

/* Counts the line's client in list (L_BLACK or L_WHITE), or in the
 * IPv6 list after it; a client that is no address is unparsed, one
 * that is no remote client skipped. */
static void take(const char *s, int list, long long t, const char *rule)
{
  char client[128];
  uint64_t key;
  int fam;

  if (!value(s, "client", client, sizeof client) ||
      !(fam = client_key(client, &key))) {
    H.bad++;
    return;
  }
  if (not_remote(fam, key)) { H.skipped++; return; }
  if (!push(&H.l[fam == 6 ? list + 1 : list], key, t, rule))
    die_msg(EXIT_TEMP, "out of memory", NULL);
  H.used++;
}

static void line(char *s)
{
  static char rule[512], action[32], reason[128];
  long long t = H.now;

  H.lines++;
  if (s[0] == '@') {
    if ((t = tai64n(s)) < 0) { H.bad++; return; }
    s += 25;
    while (*s == ' ') s++;
    /* stamped after now (a minute's grace for lines written while we
     * read): a clock that jumped, not part of the window */
    if (t > H.now + 60) return;
  }
  if (!strncmp(s, "policyd: info: decision ", 24)) {
    if (t < H.now - H.bwin) return;
    if (!value(s, "action", action, sizeof action) ||
        strcmp(action, "reject")) return;
    if (!value(s, "rule", rule, sizeof rule)) strcpy(rule, "-");
    take(s, L_BLACK, t, rule);
  } else if (!strncmp(s, "greyd: info: decision ", 22)) {
    if (t < H.now - H.wwin) return;
    if (!value(s, "reason", reason, sizeof reason) ||
        strcmp(reason, "Pass and auto-whitelist IP")) return;
    take(s, L_WHITE, t, NULL);
  }
}

static void read_file(const char *path)
{
  char buf[8192];
  FILE *f = fopen(path, "r");

  if (!f) die_sys(EXIT_TEMP, "open", path);
  while (fgets(buf, sizeof buf, f)) {
    size_t l = strlen(buf);
    if (l && buf[l - 1] != '\n' && !feof(f)) {   /* too long: skip it */
      int c;
      while ((c = getc(f)) != EOF && c != '\n') ;
      H.bad++;
      continue;
    }
    line(buf);
  }
  if (ferror(f)) die_sys(EXIT_TEMP, "read", path);
  fclose(f);
}

static int namecmp(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* multilog: the rotated @*.s files in name (= time) order, then current */
static void read_dir(const char *dir)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  char **names = NULL, path[4096];
  size_t n = 0, i;

  if (!d) die_sys(EXIT_TEMP, "open directory", dir);
  while ((e = readdir(d))) {
    size_t l = strlen(e->d_name);
    if (e->d_name[0] != '@' || l < 3 || strcmp(e->d_name + l - 2, ".s"))
      continue;
    names = realloc(names, (n + 1) * sizeof *names);
    if (!names || !(names[n++] = strdup(e->d_name)))
      die_msg(EXIT_TEMP, "out of memory", NULL);
  }
  closedir(d);
  if (n) qsort(names, n, sizeof *names, namecmp);
  for (i = 0; i < n; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    read_file(path);
    free(names[i]);
  }
  free(names);
  snprintf(path, sizeof path, "%s/current", dir);
  if (access(path, F_OK) == 0) read_file(path);
}

static int hitcmp(const void *x, const void *y)
{
  const struct hit *a = x, *b = y;

  if (a->key != b->key) return a->key < b->key ? -1 : 1;
  return a->t < b->t ? -1 : a->t > b->t;
}

struct out { char *p; size_t n, a; };

static void outf(struct out *o, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));

static void outf(struct out *o, const char *fmt, ...)
{
  va_list ap;
  int k;

  for (;;) {
    va_start(ap, fmt);
    k = vsnprintf(o->p + o->n, o->a - o->n, fmt, ap);
    va_end(ap);
    if (k >= 0 && o->n + (size_t)k < o->a) { o->n += (size_t)k; return; }
    o->a = o->a ? o->a * 2 + (size_t)k : 65536;
    if (!(o->p = realloc(o->p, o->a)))
      die_msg(EXIT_TEMP, "out of memory", NULL);
  }
}

/* Keeps rule text safe for an rbldnsd TXT template (dollar set: no $
 * expansion) or comment: no line breaks, printable only. */
static void safe_rule(const char *r, char *out, size_t room, int dollar)
{
  size_t o = 0;

  for (; *r && o + 3 < room; r++) {
    unsigned char c = (unsigned char)*r;
    if (c == '$' && dollar) { out[o++] = '$'; out[o++] = '$'; }
    else out[o++] = (c < 32 || c > 126) ? '?' : (char)c;
  }
  out[o] = 0;
}

/* the most frequent rule among h[0..n), the latest on a tie */
static const char *top_rule(const struct hit *h, size_t n)
{
  const char *best;
  size_t i, j, bc = 0;

  if (n > 256) { h += n - 256; n = 256; }      /* the last 256 only */
  best = h[n - 1].rule;
  for (i = n; i-- > 0; ) {
    size_t c = 0;
    for (j = 0; j < n; j++) c += !strcmp(h[j].rule, h[i].rule);
    if (c > bc) { bc = c; best = h[i].rule; }
  }
  return best;
}

/* an entry: the IPv4 address, or the /64 as ip6tset wants it, four
 * groups without "::" */
static void put_key(struct out *o, int six, uint64_t k)
{
  if (six)
    outf(o, "%x:%x:%x:%x", (unsigned)(k >> 48), (unsigned)(k >> 32) & 0xffff,
         (unsigned)(k >> 16) & 0xffff, (unsigned)k & 0xffff);
  else
    outf(o, "%u.%u.%u.%u", (unsigned)(k >> 24) & 255,
         (unsigned)(k >> 16) & 255, (unsigned)(k >> 8) & 255,
         (unsigned)k & 255);
}

/* ip4set: each entry its TXT naming the rule.  ip6tset has one A+TXT
 * for the whole file, so the rule and count go in a comment. */
static unsigned build_black(struct out *o, int list)
{
  struct hits *h = &H.l[list];
  size_t i = 0, j;
  unsigned listed = 0;
  char rule[400];

  if (h->n) qsort(h->v, h->n, sizeof *h->v, hitcmp);
  if (IS6(list))
    outf(o, "# rbld-harvest: /64s of clients policyd rejected at least %u "
         "times in %llds (ip6tset)\n:%s:its /64 was rejected at least %u "
         "times in %llds\n", H.min, H.bwin, H.a, H.min, H.bwin);
  else
    outf(o, "# rbld-harvest: clients policyd rejected at least %u times "
         "in %llds (ip4set)\n", H.min, H.bwin);
  for (; i < h->n; i = j) {
    uint64_t k = h->v[i].key;
    for (j = i; j < h->n && h->v[j].key == k; j++) ;
    if (j - i < H.min) continue;
    safe_rule(top_rule(h->v + i, j - i), rule, sizeof rule, !IS6(list));
    put_key(o, IS6(list), k);
    if (IS6(list)) outf(o, " # rejected %zu times by rule %s\n", j - i, rule);
    else outf(o, " :%s:rejected %zu times by rule %s\n", H.a, j - i, rule);
    listed++;
  }
  return listed;
}

static unsigned build_white(struct out *o, int list)
{
  struct hits *h = &H.l[list];
  size_t i;
  unsigned listed = 0;

  if (h->n) qsort(h->v, h->n, sizeof *h->v, hitcmp);
  if (IS6(list))
    outf(o, "# rbld-harvest: /64s of clients greyd auto-whitelisted in "
         "%llds (ip6tset)\n:%s:its /64 was auto-whitelisted by greyd\n",
         H.wwin, H.a);
  else
    outf(o, "# rbld-harvest: clients greyd auto-whitelisted in %llds\n",
         H.wwin);
  for (i = 0; i < h->n; i++) {
    uint64_t k = h->v[i].key;
    if (i && h->v[i - 1].key == k) continue;
    put_key(o, IS6(list), k);
    if (IS6(list)) outf(o, "\n");
    else outf(o, " :%s:auto-whitelisted by greyd\n", H.a);
    listed++;
  }
  return listed;
}

static int same_as(const char *path, const struct out *o)
{
  struct stat st;
  char *buf;
  int fd, same = 0;

  if (stat(path, &st) < 0 || (size_t)st.st_size != o->n) return 0;
  if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) return 0;
  if ((buf = malloc(o->n + 1)) && read(fd, buf, o->n + 1) == (ssize_t)o->n)
    same = !memcmp(buf, o->p, o->n);
  free(buf);
  close(fd);
  return same;
}

/* tmp + fsync + rename + fsync of the directory */
static int replace(const char *path, const struct out *o)
{
  char tmp[4096], dir[4096], *sl;
  size_t done = 0;
  int fd;

  if (same_as(path, o)) return 0;
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  unlink(tmp);
  fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) die_sys(EXIT_TEMP, "create", tmp);
  while (done < o->n) {
    ssize_t w = write(fd, o->p + done, o->n - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      die_sys(EXIT_TEMP, "write", tmp);
    }
    done += (size_t)w;
  }
  if (fsync(fd) < 0) die_sys(EXIT_TEMP, "fsync", tmp);
  if (close(fd) < 0) die_sys(EXIT_TEMP, "close", tmp);
  if (rename(tmp, path) < 0) die_sys(EXIT_TEMP, "rename to", path);
  snprintf(dir, sizeof dir, "%s", path);
  sl = strrchr(dir, '/');
  if (sl) *sl = 0; else strcpy(dir, ".");
  if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
    fsync(fd);
    close(fd);
  }
  return 1;
}

static long long seconds(const char *s)
{
  char *e;
  long long v = strtoll(s, &e, 10), m = 1;

  if (e == s || v < 0) usage();
  switch (*e) {
  case 'w': m = 604800; e++; break;
  case 'd': m = 86400; e++; break;
  case 'h': m = 3600; e++; break;
  case 'm': m = 60; e++; break;
  case 's': e++; break;
  }
  if (*e) usage();
  return v * m;
}

/* one key=value pair per list written, e.g. black=N black_file=... */
static void summary(const char *const file[L_N], const unsigned n[L_N],
                    const int changed[L_N])
{
  static const char *const name[L_N][2] = {
    { "black", "black_file" }, { "black6", "black6_file" },
    { "white", "white_file" }, { "white6", "white6_file" }
  };
  static const int order[L_N] = { L_BLACK, L_WHITE, L_BLACK6, L_WHITE6 };
  struct logline l;
  int i;

  log_start(&l, "info", "harvest");
  log_uint(&l, "lines", H.lines);
  log_uint(&l, "used", H.used);
  log_uint(&l, "unparsed", H.bad);
  log_uint(&l, "skipped", H.skipped);
  for (i = 0; i < L_N; i++) {
    int k = order[i];
    if (!file[k]) continue;
    log_uint(&l, name[k][0], n[k]);
    log_str(&l, name[k][1], changed[k] ? "replaced" : "unchanged");
  }
  log_end(&l);
}

int main(int argc, char **argv)
{
  const char *file[L_N] = { 0 };
  struct out out[L_N] = { { 0, 0, 0 } };
  struct stat st;
  unsigned n[L_N] = { 0 };
  int o, i, changed[L_N] = { 0 };
  size_t j;

  log_init("rbld-harvest");
  H.now = (long long)time(NULL);
  H.bwin = 86400;
  H.wwin = 35 * 86400;
  H.min = 3;
  H.a = "127.0.0.2";
  while ((o = getopt(argc, argv, "n:t:W:a:T:b:w:B:V:")) != -1)
    switch (o) {
    case 'n': H.min = (unsigned)seconds(optarg); if (!H.min) usage(); break;
    case 't': H.bwin = seconds(optarg); break;
    case 'W': H.wwin = seconds(optarg); break;
    case 'a': H.a = optarg; break;
    case 'T': H.now = seconds(optarg); break;
    case 'b': file[L_BLACK] = optarg; break;
    case 'w': file[L_WHITE] = optarg; break;
    case 'B': file[L_BLACK6] = optarg; break;
    case 'V': file[L_WHITE6] = optarg; break;
    default: usage();
    }
  if (optind >= argc) usage();
  for (i = 0; i < L_N && !file[i]; i++) ;
  if (i == L_N) usage();
  for (i = optind; i < argc; i++) {
    if (stat(argv[i], &st) < 0) die_sys(EXIT_TEMP, "stat", argv[i]);
    if (S_ISDIR(st.st_mode)) read_dir(argv[i]); else read_file(argv[i]);
  }
  for (i = 0; i < L_N; i++) {
    if (!file[i]) continue;
    n[i] = i == L_BLACK || i == L_BLACK6 ? build_black(&out[i], i)
                                          : build_white(&out[i], i);
    changed[i] = replace(file[i], &out[i]);
  }
  summary(file, n, changed);
  for (i = 0; i < L_N; i++) {
    for (j = 0; j < H.l[i].n; j++) free(H.l[i].v[j].rule);
    free(H.l[i].v);
    free(out[i].p);
  }
  return 0;
}
