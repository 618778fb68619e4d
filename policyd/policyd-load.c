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
 *   reject=N defer=N dunno=N ok=N other=N
 * Exit 0, or 111 if it cannot connect or read FILE.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>
#include "log.h"
#include "server.h"

#define MAX_CONNS 512

struct line { char *client, *helo, *ptr, *sender; };

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
    lines[nlines].client = strdup(w[0]);
    lines[nlines].helo = strdup(w[1]);
    lines[nlines].ptr = strdup(strcmp(w[2], "-") ? w[2] : "unknown");
    lines[nlines].sender = strdup(w[3]);
    nlines++;
  }
  fclose(f);
  if (!nlines) die_msg(EXIT_TEMP, "no requests in", path);
}

static int dial(const char *unixpath, const char *inet)
{
  int fd;

  if (unixpath) {
    struct sockaddr_un sun;

    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", unixpath);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0)
      die_sys(EXIT_TEMP, "connect to", unixpath);
  } else {
    struct sockaddr_in sin;
    char host[64];
    const char *colon = strrchr(inet, ':');

    if (!colon || (size_t)(colon - inet) >= sizeof host)
      die_msg(EXIT_PERM, "want ADDR:PORT:", inet);
    memcpy(host, inet, (size_t)(colon - inet));
    host[colon - inet] = 0;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((unsigned short)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
      die_msg(EXIT_PERM, "bad address:", inet);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof sin) < 0)
      die_sys(EXIT_TEMP, "connect to", inet);
  }
  return fd;
}

static void compose(struct lconn *c, unsigned long long seq)
{
  const struct line *l = &lines[seq % nlines];
  int n = snprintf(c->req, sizeof c->req,
    "request=smtpd_access_policy\nprotocol_state=RCPT\n"
    "protocol_name=ESMTP\nclient_address=%s\nclient_name=%s\n"
    "reverse_client_name=%s\nhelo_name=%s\nsender=%s\n"
    "recipient=user%llu@example.com\nrecipient_count=0\n"
    "queue_id=\ninstance=%llx.1\nsize=0\n\n",
    l->client, l->ptr, l->ptr, l->helo, l->sender, seq % 5000, seq);

  c->reqlen = n > 0 && (size_t)n < sizeof c->req ? (size_t)n : 0;
  c->sent = 0;
  c->busy = 1;
  c->t0 = now_usec();
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
  for (i = 0; i < conns; i++) c[i].fd = dial(unixpath, inet);
  t0 = now_usec();
  tend = t0 + limit_s * 1000000ULL;
  while (answered < n && now_usec() < tend) {
    for (i = 0; i < conns; i++) {
      if (!c[i].busy && sent < n) compose(&c[i], sent++);
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
      }
    }
  }
  {
    double secs = (double)(now_usec() - t0) / 1e6;

    qsort(lat, answered, sizeof *lat, cmp);
    printf("requests=%llu seconds=%.2f rps=%.0f p50_ms=%.3f p99_ms=%.3f "
           "max_ms=%.3f errors=%llu reject=%llu defer=%llu dunno=%llu "
           "ok=%llu other=%llu\n", answered, secs,
           secs > 0 ? (double)answered / secs : 0, pct(0.5), pct(0.99),
           answered ? lat[answered - 1] : 0, errors, counts[0], counts[1],
           counts[2], counts[3], counts[4]);
  }
  return 0;
}
