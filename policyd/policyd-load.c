/*
 * policyd-load - replay a stream of policy requests against a policy
 * server (policyd, policyd-weight ...) the way Postfix's smtpd processes
 * do: C persistent connections, one request outstanding on each.
 *
 *   policyd-load -u PATH | -i ADDR:PORT [-c CONNS] [-n N] [-T SECONDS]
 *                -f FILE
 * FILE has one request per line: "CLIENT HELO PTR SENDER" (PTR "-": no
 * PTR).  Requests are sent in file order, cycling, until N are answered
 * or SECONDS pass.  Prints one line:
 *   requests=N seconds=S rps=R p50_ms=X p99_ms=X max_ms=X errors=E
 *   reject=N defer=N dunno=N ok=N other=N load_cpu=PERCENT
 * (load_cpu: this program's own CPU time over the run's, so a bench can
 * tell whether the load generator, not the server, was the limit.)
 * Exit 0, or 111 if it cannot connect or read FILE.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include "fmt.h"
#include "endpoint.h"
#include "log.h"
#include "server.h"

#define MAX_CONNS 512

/* Each line's request up to the recipient's number, built once: the
 * loader must cost the server's CPU as little time as possible, the
 * rest (recipient, instance) is formatted per request. */
struct line { char *head; size_t len; };

struct lconn {
  int fd;
  char req[2048];
  size_t reqlen, sent;
  char in[4096];
  size_t inlen;
  unsigned long long t0;
  int busy;
};

static struct line *lines;
static size_t nlines;
static double *lat;
static unsigned long long answered, errors, counts[5];

static void head(struct line *l, char **w)
{
  const char *ptr = strcmp(w[2], "-") ? w[2] : "unknown";
  char buf[1536];
  int n = snprintf(buf, sizeof buf,
    "request=smtpd_access_policy\nprotocol_state=RCPT\n"
    "protocol_name=ESMTP\nclient_address=%s\nclient_name=%s\n"
    "reverse_client_name=%s\nhelo_name=%s\nsender=%s\n"
    "recipient=user", w[0], ptr, ptr, w[1], w[3]);

  if (n < 0 || (size_t)n >= sizeof buf) die_msg(EXIT_PERM, "line too long:",
                                                 w[0]);
  l->len = (size_t)n;
  l->head = malloc(l->len);
  if (!l->head) die_sys(EXIT_TEMP, "allocate", "lines");
  memcpy(l->head, buf, l->len);
}

static void load_file(const char *path)
{
  FILE *f = fopen(path, "r");
  char buf[1024];
  size_t cap = 0;

  if (!f) die_sys(EXIT_TEMP, "open", path);
  while (fgets(buf, sizeof buf, f)) {
    char *w[4], *save = NULL;
    int i;

    for (i = 0; i < 4; i++)
      if (!(w[i] = strtok_r(i ? NULL : buf, " \t\n", &save))) break;
    if (i < 4) continue;
    if (nlines == cap) {
      cap = cap ? cap * 2 : 1024;
      lines = realloc(lines, cap * sizeof *lines);
      if (!lines) die_sys(EXIT_TEMP, "allocate", "lines");
    }
    head(&lines[nlines++], w);
  }
  fclose(f);
  if (!nlines) die_msg(EXIT_TEMP, "no requests in", path);
}

static int connect_to(const char *unixpath, const char *inet)
{
  const char *where = unixpath ? unixpath : inet;
  char spec[256];
  int fd;

  if (strlen(where) >= sizeof spec - 5)
    die_msg(EXIT_PERM, "address too long:", where);
  snprintf(spec, sizeof spec, "%s%s", unixpath ? "unix:" : "", where);
  if ((fd = dial(spec)) >= 0) return fd;
  if (errno == EINVAL) die_msg(EXIT_PERM, "want ADDR:PORT:", where);
  die_sys(EXIT_TEMP, "connect to", where);
}

#define PUT(s) (memcpy(p, s, sizeof s - 1), p += sizeof s - 1)

/* The request (the same bytes as ever: recipient user<seq % 5000>,
 * instance <seq in hex>.1), written at once: a policy request is far
 * smaller than a socket buffer, so the write never waits. */
static void send_next(struct lconn *c, unsigned long long seq)
{
  const struct line *l = &lines[seq % nlines];
  char *p = c->req + l->len;
  ssize_t r;

  memcpy(c->req, l->head, l->len);
  p += fmt_ulonglong(p, seq % 5000);
  PUT("@example.com\nrecipient_count=0\nqueue_id=\ninstance=");
  p += fmt_xlonglong(p, seq);
  PUT(".1\nsize=0\n\n");
  c->reqlen = (size_t)(p - c->req);
  c->sent = 0;
  c->busy = 1;
  c->t0 = now_usec();
  r = write(c->fd, c->req, c->reqlen);
  if (r > 0) c->sent = (size_t)r;
}

static void count_action(const char *a)
{
  static const char *const names[] = { "reject", "defer", "dunno", "ok" };
  unsigned i;

  /* numeric replies: 5xx is a reject, 4xx a defer */
  if (a[0] == '5') { counts[0]++; return; }
  if (a[0] == '4') { counts[1]++; return; }
  for (i = 0; i < 4; i++)
    if (!strncasecmp(a, names[i], strlen(names[i]))) { counts[i]++; return; }
  if (!strncasecmp(a, "prepend", 7)) { counts[2]++; return; }
  counts[4]++;
}

/* A whole reply in c->in?  Then record it and free the connection. */
static void take_reply(struct lconn *c)
{
  char *end = memmem(c->in, c->inlen, "\n\n", 2);
  size_t used;

  if (!end) return;
  *end = 0;
  if (strncmp(c->in, "action=", 7)) errors++;
  else count_action(c->in + 7);
  lat[answered++] = (double)(now_usec() - c->t0) / 1000.0;
  used = (size_t)(end - c->in) + 2;
  memmove(c->in, c->in + used, c->inlen - used);
  c->inlen -= used;
  c->busy = 0;
}

static int cmp(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;

  return x < y ? -1 : x > y;
}

static double pct(double p)
{
  size_t i = (size_t)(p * (double)(answered - 1));

  return answered ? lat[i] : 0;
}

static double cpu_seconds(void)
{
  struct rusage ru;

  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec
         + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void usage(void)
{
  die_msg(EXIT_PERM, "usage: policyd-load -u PATH | -i ADDR:PORT "
          "[-c CONNS] [-n N] [-T SECONDS] -f FILE", NULL);
}

int main(int argc, char **argv)
{
  const char *unixpath = NULL, *inet = NULL, *file = NULL;
  unsigned conns = 8, i;
  unsigned long long n = 10000, limit_s = 120, sent = 0, t0, tend;
  double cpu0;
  static struct lconn c[MAX_CONNS];
  static struct pollfd pf[MAX_CONNS];
  int opt;

  log_init("policyd-load");
  while ((opt = getopt(argc, argv, "u:i:c:n:T:f:")) != -1) {
    switch (opt) {
    case 'u': unixpath = optarg; break;
    case 'i': inet = optarg; break;
    case 'c': conns = (unsigned)atoi(optarg); break;
    case 'n': n = strtoull(optarg, NULL, 10); break;
    case 'T': limit_s = strtoull(optarg, NULL, 10); break;
    case 'f': file = optarg; break;
    default: usage();
    }
  }
  if ((!unixpath == !inet) || !file || !conns || conns > MAX_CONNS || !n)
    usage();
  load_file(file);
  lat = calloc(n, sizeof *lat);
  if (!lat) die_sys(EXIT_TEMP, "allocate", "latencies");
  for (i = 0; i < conns; i++) c[i].fd = connect_to(unixpath, inet);
  t0 = now_usec();
  cpu0 = cpu_seconds();
  tend = t0 + limit_s * 1000000ULL;
  while (answered < n && now_usec() < tend) {
    for (i = 0; i < conns; i++) {
      if (!c[i].busy && sent < n) send_next(&c[i], sent++);
      pf[i].fd = c[i].fd;
      pf[i].events = c[i].busy ? (c[i].sent < c[i].reqlen ? POLLOUT : POLLIN)
                               : 0;
    }
    if (poll(pf, conns, 1000) < 0 && errno != EINTR)
      die_sys(EXIT_TEMP, "poll", "connections");
    for (i = 0; i < conns; i++) {
      ssize_t r;

      if (pf[i].revents & POLLOUT) {
        r = write(c[i].fd, c[i].req + c[i].sent, c[i].reqlen - c[i].sent);
        if (r > 0) c[i].sent += (size_t)r;
      }
      if (pf[i].revents & (POLLIN | POLLHUP | POLLERR)) {
        r = read(c[i].fd, c[i].in + c[i].inlen,
                 sizeof c[i].in - c[i].inlen - 1);
        if (r <= 0) die_msg(EXIT_TEMP, "server closed a connection", NULL);
        c[i].inlen += (size_t)r;
        take_reply(&c[i]);
        /* the next request at once, as smtpd would */
        if (!c[i].busy && sent < n) send_next(&c[i], sent++);
      }
    }
  }
  {
    double secs = (double)(now_usec() - t0) / 1e6;
    double cpu = cpu_seconds() - cpu0;

    qsort(lat, answered, sizeof *lat, cmp);
    printf("requests=%llu seconds=%.2f rps=%.0f p50_ms=%.3f p99_ms=%.3f "
           "max_ms=%.3f errors=%llu reject=%llu defer=%llu dunno=%llu "
           "ok=%llu other=%llu load_cpu=%.0f\n", answered, secs,
           secs > 0 ? (double)answered / secs : 0, pct(0.5), pct(0.99),
           answered ? lat[answered - 1] : 0, errors, counts[0], counts[1],
           counts[2], counts[3], counts[4], secs > 0 ? cpu * 100 / secs : 0);
  }
  return 0;
}
