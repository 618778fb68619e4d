/* rbld-harvest.c - private DNSBL zones from the suite's own logs.
 *
 * Reads policyd's and greyd's log lines (doc/LOGS) from files or from
 * multilog directories (the @*.s files, then current), and writes two
 * rbldnsd ip4set files for rbld:
 *   blacklist: clients policyd rejected at least N times within the
 *              window, with a TXT naming the rule that rejected them;
 *   whitelist: clients greyd auto-whitelisted within its window.
 * A file is rewritten only when its contents change, through a
 * temporary file, fsync and rename, so rbld never reads half of one. */
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

struct hit { uint32_t ip; long long t; char *rule; };
struct hits { struct hit *v; size_t n, a; };

static struct {
  struct hits black, white;
  long long now, bwin, wwin;
  unsigned min;
  unsigned long lines, used, bad;
  const char *a;
} H;

static void usage(void)
{
  die_msg(EXIT_PERM, "usage: rbld-harvest [-n count] [-t window] "
          "[-W whitewindow] [-a A] [-T now] [-b blackfile] [-w whitefile] "
          "logdir|logfile ...", NULL);
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

static int push(struct hits *h, uint32_t ip, long long t, const char *rule)
{
  if (h->n == h->a) {
    size_t na = h->a ? h->a * 2 : 256;
    struct hit *v = realloc(h->v, na * sizeof *v);
    if (!v) return 0;
    h->v = v;
    h->a = na;
  }
  h->v[h->n].ip = ip;
  h->v[h->n].t = t;
  h->v[h->n].rule = rule ? strdup(rule) : NULL;
  if (rule && !h->v[h->n].rule) return 0;
  h->n++;
  return 1;
}

static void line(char *s)
{
  static char client[128], rule[512], action[32], reason[128];
  long long t = H.now;
  uint32_t ip;

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
    if (!value(s, "client", client, sizeof client) || !ip4(client, &ip)) {
      H.bad++; return;
    }
    if (!value(s, "rule", rule, sizeof rule)) strcpy(rule, "-");
    if (!push(&H.black, ip, t, rule)) die_msg(EXIT_TEMP, "out of memory", NULL);
    H.used++;
  } else if (!strncmp(s, "greyd: info: decision ", 22)) {
    if (t < H.now - H.wwin) return;
    if (!value(s, "reason", reason, sizeof reason) ||
        strcmp(reason, "Pass and auto-whitelist IP")) return;
    if (!value(s, "client", client, sizeof client) || !ip4(client, &ip)) {
      H.bad++; return;
    }
    if (!push(&H.white, ip, t, NULL)) die_msg(EXIT_TEMP, "out of memory", NULL);
    H.used++;
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

  if (a->ip != b->ip) return a->ip < b->ip ? -1 : 1;
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

/* Keeps rule text safe for an rbldnsd TXT template: no $ expansion,
 * no line breaks, printable only. */
static void safe_rule(const char *r, char *out, size_t room)
{
  size_t o = 0;

  for (; *r && o + 3 < room; r++) {
    unsigned char c = (unsigned char)*r;
    if (c == '$') { out[o++] = '$'; out[o++] = '$'; }
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

static unsigned build_black(struct out *o)
{
  struct hits *h = &H.black;
  size_t i = 0, j;
  unsigned listed = 0;
  char rule[400];

  if (h->n) qsort(h->v, h->n, sizeof *h->v, hitcmp);
  outf(o, "# rbld-harvest: clients policyd rejected at least %u times in "
       "%llds (ip4set)\n", H.min, H.bwin);
  for (; i < h->n; i = j) {
    uint32_t ip = h->v[i].ip;
    for (j = i; j < h->n && h->v[j].ip == ip; j++) ;
    if (j - i < H.min) continue;
    safe_rule(top_rule(h->v + i, j - i), rule, sizeof rule);
    outf(o, "%u.%u.%u.%u :%s:rejected %zu times by rule %s\n", ip >> 24,
         (ip >> 16) & 255, (ip >> 8) & 255, ip & 255, H.a, j - i, rule);
    listed++;
  }
  return listed;
}

static unsigned build_white(struct out *o)
{
  struct hits *h = &H.white;
  size_t i;
  unsigned listed = 0;

  if (h->n) qsort(h->v, h->n, sizeof *h->v, hitcmp);
  outf(o, "# rbld-harvest: clients greyd auto-whitelisted in %llds\n",
       H.wwin);
  for (i = 0; i < h->n; i++) {
    uint32_t ip = h->v[i].ip;
    if (i && h->v[i - 1].ip == ip) continue;
    outf(o, "%u.%u.%u.%u :%s:auto-whitelisted by greyd\n", ip >> 24,
         (ip >> 16) & 255, (ip >> 8) & 255, ip & 255, H.a);
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

int main(int argc, char **argv)
{
  const char *bfile = NULL, *wfile = NULL;
  struct out bo = { 0, 0, 0 }, wo = { 0, 0, 0 };
  struct logline l;
  struct stat st;
  unsigned nb = 0, nw = 0;
  int o, i, cb = 0, cw = 0;

  log_init("rbld-harvest");
  H.now = (long long)time(NULL);
  H.bwin = 86400;
  H.wwin = 35 * 86400;
  H.min = 3;
  H.a = "127.0.0.2";
  while ((o = getopt(argc, argv, "n:t:W:a:T:b:w:")) != -1)
    switch (o) {
    case 'n': H.min = (unsigned)seconds(optarg); if (!H.min) usage(); break;
    case 't': H.bwin = seconds(optarg); break;
    case 'W': H.wwin = seconds(optarg); break;
    case 'a': H.a = optarg; break;
    case 'T': H.now = seconds(optarg); break;
    case 'b': bfile = optarg; break;
    case 'w': wfile = optarg; break;
    default: usage();
    }
  if (optind >= argc || (!bfile && !wfile)) usage();
  for (i = optind; i < argc; i++) {
    if (stat(argv[i], &st) < 0) die_sys(EXIT_TEMP, "stat", argv[i]);
    if (S_ISDIR(st.st_mode)) read_dir(argv[i]); else read_file(argv[i]);
  }
  if (bfile) { nb = build_black(&bo); cb = replace(bfile, &bo); }
  if (wfile) { nw = build_white(&wo); cw = replace(wfile, &wo); }
  log_start(&l, "info", "harvest");
  log_uint(&l, "lines", H.lines);
  log_uint(&l, "used", H.used);
  log_uint(&l, "unparsed", H.bad);
  if (bfile) { log_uint(&l, "black", nb); log_str(&l, "black_file",
               cb ? "replaced" : "unchanged"); }
  if (wfile) { log_uint(&l, "white", nw); log_str(&l, "white_file",
               cw ? "replaced" : "unchanged"); }
  log_end(&l);
  free(bo.p);
  free(wo.p);
  for (i = 0; (size_t)i < H.black.n; i++) free(H.black.v[i].rule);
  free(H.black.v);
  free(H.white.v);
  return 0;
}
