/*
 * status.c - services, queue, disks, processes, latest warnings; see
 * status.h.  Everything is bounded: at most MAX_SERVICES services, the
 * last 64 KiB of each log, queue counts capped at QUEUE_CAP files.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <tai.h>

#include "log.h"
#include "report.h"
#include "settings.h"
#include "stamp.h"
#include "status.h"

#define QUEUE_CAP 1000000ULL
#define TAIL_BYTES 65536
#define TAI_EPOCH 4611686018427387914ULL

static struct setting tab[] = {
  { "SERVICE_DIR", SET_STRING, "/etc/service", 0, 0, 0, 0 },
  { "LOG_SUBDIR", SET_STRING, "log/main", 0, 0, 0, 0 },
  { "POSTFIX_QUEUE", SET_STRING, "/var/spool/postfix", 0, 0, 0, 0 },
  { "DISK_DIRS", SET_STRING, "/var/log /var/spool/postfix /var/lib/imgate",
    0, 0, 0, 0 },
  { "PROCS", SET_STRING, "supervise multilog acctd greyd policyd rbld"
    " reportd master smtpd qmgr cleanup postscreen amavisd", 0, 0, 0, 0 },
  { "FLAP_RESTARTS", SET_UINT, "3", 1, 1000, 0, 0 },
  { "ERRORS", SET_UINT, "5", 0, 50, 0, 0 },
  { "LISTEN", SET_STRING, "inet:127.0.0.1:9025", 0, 0, 0, 0 },
  { "PASSWORD_FILE", SET_STRING, NULL, 0, 0, 0, 0 },
  { "LOGS", SET_STRING, "/var/log/imgate", 0, 0, 0, 0 },
  { "POSTFIX_CONFIG", SET_STRING, "/etc/postfix", 0, 0, 0, 0 },
  { "MAILLOG", SET_STRING, "/var/log/mail.log", 0, 0, 0, 0 },
};

void status_init(struct status *s)
{
  memset(s, 0, sizeof *s);
  settings_load(tab, sizeof tab / sizeof *tab);
  s->service_dir = tab[0].str;
  s->log_subdir = tab[1].str;
  s->queue_dir = tab[2].str;
  s->disk_dirs = tab[3].str;
  s->procs = tab[4].str;
  s->flap = (unsigned)tab[5].num;
  s->errors = (unsigned)tab[6].num;
  s->listen = tab[7].str;
  s->password_file = tab[8].str;
  s->logs = tab[9].str;
  s->postfix_config = tab[10].str;
  s->maillog = tab[11].str;
}

/* --- services -------------------------------------------------------- */

static char *path2(char *out, size_t room, const char *a, const char *b,
                   const char *c)
{
  snprintf(out, room, "%s/%s%s%s", a, b, c ? "/" : "", c ? c : "");
  return out;
}

/* supervise/status as daemontools 0.76 writes it: TAI64N of the last
 * change (12 bytes), pid (4, little-endian), paused, want. */
static int read_svc(struct status *s, struct svc *v)
{
  char p[512], buf[18];
  struct tai t;
  int fd, n;

  path2(p, sizeof p, s->service_dir, v->name, "supervise/ok");
  /* no reader on the fifo (ENXIO) or none at all: supervise is not
   * running; not allowed to open it (not root): cannot tell, assume so */
  fd = open(p, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  v->ok = fd >= 0 || errno == EACCES;
  if (fd >= 0) close(fd);
  path2(p, sizeof p, s->service_dir, v->name, "down");
  v->normally_up = access(p, F_OK) < 0;
  path2(p, sizeof p, s->service_dir, v->name, "supervise/status");
  if ((fd = open(p, O_RDONLY | O_CLOEXEC)) < 0) return -1;
  n = (int)read(fd, buf, sizeof buf);
  close(fd);
  if (n != 18) return -1;
  tai_unpack(buf, &t);
  v->since = t.x > TAI_EPOCH ? (long long)(t.x - TAI_EPOCH) : 0;
  v->pid = (unsigned char)buf[12] | (unsigned long)(unsigned char)buf[13]
           << 8 | (unsigned long)(unsigned char)buf[14] << 16
           | (unsigned long)(unsigned char)buf[15] << 24;
  v->paused = buf[16] != 0;
  v->want_up = buf[17] == 'u';
  return 0;
}

static struct svc *find_svc(struct status *s, const char *name)
{
  unsigned i;

  for (i = 0; i < s->nsvc; i++)
    if (!strcmp(s->svc[i].name, name)) return &s->svc[i];
  if (s->nsvc == MAX_SERVICES || strlen(name) >= sizeof s->svc[0].name)
    return NULL;
  memset(&s->svc[s->nsvc], 0, sizeof s->svc[0]);
  strcpy(s->svc[s->nsvc].name, name);
  return &s->svc[s->nsvc++];
}

static int by_svc_name(const void *a, const void *b)
{
  return strcmp(((const struct svc *)a)->name, ((const struct svc *)b)->name);
}

/* A restart since the last look.  The first look is the baseline: a
 * service found running then has started, not restarted, however
 * recently.  Later, a new start time is a restart when the service was
 * up before (it died or was told to restart) or down while supervise
 * wanted it up (a crash loop: up and down again between two looks).
 * Going from up to down is not counted (the start that follows is),
 * nor a start by hand (svc -u) after a down on purpose. */
static void note_restart(struct svc *v, long long prev_since,
                         unsigned long prev_pid, int prev_want, int first)
{
  if (first || v->since == prev_since) return;
  if (!v->pid && prev_pid) return;
  if (!prev_pid && !prev_want) return;
  v->starts[v->nstarts % STARTS_KEPT] = v->since;
  v->nstarts++;
}

static void sample_one(struct status *s, const char *name)
{
  struct svc *v = find_svc(s, name);
  long long prev;
  unsigned long ppid;
  int first, pwant;

  if (!v) return;
  prev = v->since;
  ppid = v->pid;
  pwant = v->want_up;
  first = !v->sampled;
  if (read_svc(s, v) < 0) return;
  v->sampled = 1;
  note_restart(v, prev, ppid, pwant, first);
}

/* Every service of SERVICE_DIR, and its log service NAME/log when it
 * has one under supervise (as svstat DIR DIR/log shows them). */
void status_sample(struct status *s, long long now)
{
  DIR *d = opendir(s->service_dir);
  struct dirent *e;

  (void)now;
  if (!d) return;
  while ((e = readdir(d))) {
    char p[600], log[300];

    if (e->d_name[0] == '.' || strlen(e->d_name) > 200) continue;
    sample_one(s, e->d_name);
    path2(p, sizeof p, s->service_dir, e->d_name, "log/supervise");
    snprintf(log, sizeof log, "%s/log", e->d_name);
    if (access(p, F_OK) == 0) sample_one(s, log);
  }
  closedir(d);
  /* find_svc() appends newcomers: keep the page in name order */
  qsort(s->svc, s->nsvc, sizeof s->svc[0], by_svc_name);
}

unsigned status_restarts(const struct svc *v, long long now)
{
  unsigned i, n = 0, kept = v->nstarts < STARTS_KEPT ? v->nstarts
                                                      : STARTS_KEPT;

  for (i = 0; i < kept; i++)
    if (v->starts[i] > now - 3600) n++;
  return n;
}

/* --- latest warnings from the service's multilog current -------------- */

static int is_problem(const char *l, size_t n)
{
  return memmem(l, n, ": warning: ", 11) || memmem(l, n, ": fatal: ", 9)
         || memmem(l, n, ": error: ", 9) || memmem(l, n, ": panic: ", 9);
}

/* The last max problem lines of the tail of path, oldest first, into
 * lines[] (pointers into buf, TAIL_BYTES + 1 bytes); returns how many. */
static unsigned tail_problems(const char *path, char *buf, char **lines,
                              unsigned max)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC), mid = 0;
  struct stat st;
  ssize_t n;
  unsigned long long k = 0;
  unsigned i, kept;
  char *p, *nl, *ring[64];

  if (fd < 0) return 0;
  if (fstat(fd, &st) == 0 && st.st_size > TAIL_BYTES)
    mid = lseek(fd, st.st_size - TAIL_BYTES, SEEK_SET) > 0;
  n = read(fd, buf, TAIL_BYTES);
  close(fd);
  if (n <= 0 || !max) return 0;
  if (max > 64) max = 64;
  buf[n] = 0;
  for (p = buf; p < buf + n; p = nl + 1) {
    if (!(nl = memchr(p, '\n', (size_t)(buf + n - p)))) nl = buf + n;
    *nl = 0;
    if (mid && p == buf) continue;       /* a cut first line */
    if (is_problem(p, (size_t)(nl - p))) ring[k++ % max] = p;
  }
  kept = k < max ? (unsigned)k : max;
  for (i = 0; i < kept; i++)
    lines[i] = ring[(k - kept + i) % max];
  return kept;
}

/* --- output ---------------------------------------------------------- */

struct out {
  FILE *f;
  int html;
};

static void heading(struct out *o, const char *t)
{
  if (o->html) fprintf(o->f, "<h2>%s</h2>\n", t);
  else fprintf(o->f, "\n%s\n", t);
}

static void svc_state(char *out, size_t room, const struct svc *v,
                      long long now)
{
  long long age = now - v->since;

  if (age < 0) age = 0;
  if (!v->sampled) snprintf(out, room, "no supervise/status");
  else if (!v->ok && !v->pid) snprintf(out, room, "supervise not running");
  else if (v->pid)
    snprintf(out, room, "up (pid %lu) %lld seconds%s%s", v->pid, age,
             v->normally_up ? "" : ", normally down",
             v->paused ? ", paused" : "");
  else
    snprintf(out, room, "down %lld seconds%s%s", age,
             v->normally_up ? ", normally up" : "",
             v->want_up ? ", want up" : "");
}

static void put_services(struct out *o, struct status *s, long long now)
{
  unsigned i;

  heading(o, "Services");
  if (o->html)
    fputs("<table>\n<tr><th>service</th><th>state</th><th class=n>"
          "restarts in the last hour</th><th></th></tr>\n", o->f);
  if (!s->nsvc && !o->html) fprintf(o->f, "  no services in %s\n",
                                    s->service_dir);
  for (i = 0; i < s->nsvc; i++) {
    struct svc *v = &s->svc[i];
    unsigned r = status_restarts(v, now);
    const char *flag = r >= s->flap ? "FLAPPING"
                       : (!v->pid && (v->normally_up || !v->sampled))
                       ? "DOWN" : "";
    char st[160];

    svc_state(st, sizeof st, v, now);
    if (!o->html) {
      fprintf(o->f, "  %-16s %-44s %3u restart%s in the last hour%s%s\n",
              v->name, st, r, r == 1 ? "" : "s", *flag ? "  " : "", flag);
      continue;
    }
    fputs("<tr><td>", o->f); html_put(o->f, v->name);
    fputs("</td><td>", o->f); html_put(o->f, st);
    fprintf(o->f, "</td><td class=n>%u</td><td%s>%s</td></tr>\n", r,
            *flag ? " class=bad" : "", flag);
  }
  if (o->html) fputs("</table>\n", o->f);
}

/* Regular files under dir, at most two levels down (hashed queues). */
static unsigned long long count_files(const char *dir, int depth)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  unsigned long long n = 0;

  if (!d) return 0;
  while ((e = readdir(d)) && n < QUEUE_CAP) {
    char p[1024];

    if (e->d_name[0] == '.') continue;
    if (e->d_type == DT_DIR && depth < 2) {
      snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
      n += count_files(p, depth + 1);
    } else if (e->d_type == DT_REG || e->d_type == DT_UNKNOWN)
      n++;
  }
  closedir(d);
  return n;
}

static const char *const queue_name[] = {
  "maildrop", "incoming", "active", "deferred", "hold", "corrupt"
};
#define NQUEUES (sizeof queue_name / sizeof *queue_name)

/* The queue directories as root or postfix may read them; 0 if they
 * cannot be read, or if none is there (not a queue directory). */
static int queue_dirs(struct status *s, unsigned long long *n)
{
  unsigned i, found = 0;

  for (i = 0; i < NQUEUES; i++) {
    char p[600];
    DIR *d;

    path2(p, sizeof p, s->queue_dir, queue_name[i], NULL);
    if (!(d = opendir(p))) {
      if (errno == ENOENT) { n[i] = 0; continue; }
      return 0;
    }
    closedir(d);
    found++;
    n[i] = count_files(p, 0);
  }
  return found > 0;
}

/* Otherwise through "postqueue -j", which any user may run: one JSON
 * object per message, with its "queue_name".  For an instance outside
 * /etc/postfix, the default main.cf must list POSTFIX_CONFIG in
 * alternate_config_directories (package/install does).  Any other line
 * is postqueue's complaint (the error, then how to fix it): into why. */
static int queue_postqueue(struct status *s, unsigned long long *n,
                           char *why, size_t room)
{
  char cmd[700], line[8192];
  FILE *f;
  unsigned long long lines = 0;
  int rc;

  snprintf(cmd, sizeof cmd, "PATH=\"$PATH:/usr/sbin\" exec postqueue"
           " -c '%s' -j 2>&1", s->postfix_config);
  if (strchr(s->postfix_config, '\'')) {
    snprintf(why, room, "POSTFIX_CONFIG has a quote");
    return 0;
  }
  if (!(f = popen(cmd, "r"))) {
    snprintf(why, room, "cannot run postqueue");
    return 0;
  }
  memset(n, 0, NQUEUES * sizeof *n);
  while (fgets(line, sizeof line, f) && lines++ < QUEUE_CAP) {
    unsigned i;

    if (line[0] != '{') {
      size_t k = strlen(why);

      if (k + 3 < room)
        snprintf(why + k, room - k, "%s%.*s", k ? "; " : "",
                 (int)strcspn(line, "\r\n"), line);
      continue;
    }
    for (i = 0; i < NQUEUES; i++) {
      char key[64];

      snprintf(key, sizeof key, "\"queue_name\": \"%s\"", queue_name[i]);
      if (strstr(line, key)) { n[i]++; break; }
    }
  }
  rc = pclose(f);
  if (rc != 0 && !*why) snprintf(why, room, "postqueue failed");
  return rc == 0;
}

static void put_queue(struct out *o, struct status *s)
{
  unsigned long long n[NQUEUES];
  char why[600] = "";
  unsigned i;
  int ok = queue_dirs(s, n) || queue_postqueue(s, n, why, sizeof why);

  heading(o, "Postfix queues");
  if (!ok) {
    if (o->html) {
      fputs("<p>cannot read the queue: ", o->f);
      html_put(o->f, why);
      fputs("</p>\n", o->f);
    } else
      fprintf(o->f, "  cannot read the queue: %s\n", why);
    return;
  }
  if (o->html) fputs("<table>\n", o->f);
  for (i = 0; i < NQUEUES; i++) {
    if (o->html)
      fprintf(o->f, "<tr><td class=n>%llu%s</td><td>%s</td></tr>\n", n[i],
              n[i] >= QUEUE_CAP ? "+" : "", queue_name[i]);
    else
      fprintf(o->f, "%10llu%s  %s\n", n[i], n[i] >= QUEUE_CAP ? "+" : "",
              queue_name[i]);
  }
  if (o->html) fputs("</table>\n", o->f);
}

static void put_disk_one(struct out *o, const char *dir)
{
  struct statvfs v;
  char pct[16], ipct[16];
  unsigned long long size, avail, used;

  if (statvfs(dir, &v) < 0) {
    if (o->html) {
      fputs("<tr><td>", o->f); html_put(o->f, dir);
      fputs("</td><td colspan=3>not found</td></tr>\n", o->f);
    } else
      fprintf(o->f, "  %-28s not found\n", dir);
    return;
  }
  size = (unsigned long long)v.f_blocks * v.f_frsize;
  avail = (unsigned long long)v.f_bavail * v.f_frsize;
  used = size - (unsigned long long)v.f_bfree * v.f_frsize;
  percent(pct, used, used + avail);
  percent(ipct, v.f_files - v.f_ffree, v.f_files);
  if (!o->html) {
    fprintf(o->f, "  %-28s %8llu MiB free of %8llu MiB  %6s used,"
            " inodes %s used\n", dir, avail >> 20, size >> 20, pct, ipct);
    return;
  }
  fputs("<tr><td>", o->f); html_put(o->f, dir);
  fprintf(o->f, "</td><td class=n>%llu</td><td class=n>%llu</td>"
          "<td class=n>%s</td><td class=n>%s</td></tr>\n", avail >> 20,
          size >> 20, pct, ipct);
}

static void put_disks(struct out *o, struct status *s)
{
  const char *p = s->disk_dirs;

  heading(o, "Disk space");
  if (o->html)
    fputs("<table>\n<tr><th>directory</th><th class=n>MiB free</th>"
          "<th class=n>MiB</th><th class=n>used</th><th class=n>inodes"
          " used</th></tr>\n", o->f);
  while (*p) {
    char dir[512];
    size_t n = strcspn(p, " ,");

    if (n && n < sizeof dir) {
      memcpy(dir, p, n);
      dir[n] = 0;
      put_disk_one(o, dir);
    }
    p += n;
    p += strspn(p, " ,");
  }
  if (o->html) fputs("</table>\n", o->f);
}

static unsigned long count_procs(const char *name, size_t len)
{
  DIR *d = opendir("/proc");
  struct dirent *e;
  unsigned long n = 0;

  if (!d) return 0;
  while ((e = readdir(d))) {
    char p[300], comm[32];
    int fd;
    ssize_t k;

    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    snprintf(p, sizeof p, "/proc/%s/comm", e->d_name);
    if ((fd = open(p, O_RDONLY | O_CLOEXEC)) < 0) continue;
    k = read(fd, comm, sizeof comm - 1);
    close(fd);
    if (k <= 0) continue;
    if (comm[k - 1] == '\n') k--;
    if ((size_t)k == (len > 15 ? 15 : len) && !memcmp(comm, name, (size_t)k))
      n++;
  }
  closedir(d);
  return n;
}

static void put_procs(struct out *o, struct status *s)
{
  const char *p = s->procs;

  heading(o, "Processes");
  if (o->html) fputs("<table>\n", o->f);
  while (*p) {
    char name[64];
    size_t n = strcspn(p, " ,");

    if (n && n < sizeof name) {
      unsigned long k;

      memcpy(name, p, n);
      name[n] = 0;
      k = count_procs(name, n);
      if (o->html) {
        fprintf(o->f, "<tr><td class=n>%lu</td><td>", k);
        html_put(o->f, name);
        fputs("</td></tr>\n", o->f);
      } else
        fprintf(o->f, "%10lu  %s\n", k, name);
    }
    p += n;
    p += strspn(p, " ,");
  }
  if (o->html) fputs("</table>\n", o->f);
}

/* The TAI64N label of a multilog line as local time. */
static void put_problem(struct out *o, const char *l)
{
  long long t;
  char when[20] = "";
  size_t k = stamp_tai64n(l, strlen(l), &t);

  if (k) {
    stamp_fmt(when, t);
    l += k + (l[k] == ' ');
  }
  if (!o->html) {
    fprintf(o->f, "    %s%s%s\n", when, k ? " " : "", l);
    return;
  }
  fprintf(o->f, "<tr><td>%s</td><td><code>", when);
  html_put(o->f, l);
  fputs("</code></td></tr>\n", o->f);
}

/* The latest problems of one log file, under a heading. */
static void put_problems(struct out *o, const char *name, const char *path,
                         char *buf, char **lines, unsigned max)
{
  unsigned j, k = tail_problems(path, buf, lines, max);

  if (!k) return;
  if (o->html) {
    fputs("<h3>", o->f); html_put(o->f, name);
    fputs("</h3>\n<table>\n", o->f);
  } else
    fprintf(o->f, "  %s\n", name);
  for (j = 0; j < k; j++) put_problem(o, lines[j]);
  if (o->html) fputs("</table>\n", o->f);
}

/* Each service's multilog current, then Postfix's log (its warning,
 * error, fatal and panic lines). */
static void put_errors(struct out *o, struct status *s)
{
  char *buf = malloc(TAIL_BYTES + 1), **lines = calloc(s->errors + 1,
                                                       sizeof *lines);
  unsigned i;

  heading(o, "Latest warnings and errors");
  for (i = 0; buf && lines && i < s->nsvc; i++) {
    char p[600];

    path2(p, sizeof p, s->logs, s->svc[i].name, "current");
    if (access(p, F_OK) < 0) {
      path2(p, sizeof p, s->service_dir, s->svc[i].name, s->log_subdir);
      strncat(p, "/current", sizeof p - strlen(p) - 1);
    }
    put_problems(o, s->svc[i].name, p, buf, lines, s->errors);
  }
  if (buf && lines)
    put_problems(o, s->maillog, s->maillog, buf, lines, s->errors);
  free(buf);
  free(lines);
}

void status_write(FILE *f, struct status *s, int html, long long now)
{
  struct out o = { f, html };
  char host[256] = "?", when[20], title[400];

  gethostname(host, sizeof host - 1);
  stamp_fmt(when, now);
  snprintf(title, sizeof title, "imgate status of %s at %s", host, when);
  if (html) {
    html_head(f, title);
    fputs("<style>td.bad{color:#fff;background:#d7191c;font-weight:bold}"
          "</style>\n", f);
  } else
    fprintf(f, "%s\n", title);
  put_services(&o, s, now);
  put_queue(&o, s);
  put_disks(&o, s);
  put_procs(&o, s);
  put_errors(&o, s);
  if (html) fputs("</body>\n</html>\n", f);
}

int status_once(int html)
{
  struct status *s = malloc(sizeof *s);
  long long now = (long long)time(NULL);

  if (!s) die_sys(EXIT_TEMP, "allocate", "memory");
  status_init(s);
  status_sample(s, now);
  status_write(stdout, s, html, now);
  if (fflush(stdout) || ferror(stdout))
    die_sys(EXIT_TEMP, "write", "standard output");
  free(s);
  return 0;
}
