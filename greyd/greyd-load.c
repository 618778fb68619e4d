/*
 * greyd-load - a policy-protocol load generator for greyd's benchmark
 * and tests (not installed).  CONNS persistent connections, each with
 * one request outstanding at a time, as Postfix's smtpd processes do;
 * a deterministic stream of RCPT requests from suspicious clients
 * (client_name unknown), mostly new triplets over many networks.
 *
 *   greyd-load -u PATH | -p PORT  [-c CONNS] [-n REQUESTS] [-r REPEAT%]
 *              [-s SEED] [-t SECONDS] [-T]
 * -T adds postgrey's policy_test_time attribute; -w FILE writes the
 * triplet ("ADDR SENDER RCPT") of every answered request; -f FILE sends
 * the triplets of such a file instead.  Prints one line:
 *   requests=N seconds=S rps=R p50_ms=A p99_ms=B max_ms=C defer=D pass=P
 *   other=O errors=E
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>
#include "endpoint.h"

struct lconn {
  int fd;
  char triplet[160];          /* "ADDR SENDER RCPT" of the request out */
  unsigned long long sent_at;
  char in[4096];
  size_t inlen;
  int busy;
};

struct load {
  unsigned long n, sent, done, defer, pass, other, errors;
  unsigned repeat, seed;
  int test_time;
  unsigned long long *lat;
  unsigned ring[4096][3];
  unsigned long ringn;
  FILE *answered;             /* -w: triplets of answered requests */
  char (*replay)[160];        /* -f: triplets to send again */
};

static unsigned long long usec(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (unsigned long long)ts.tv_sec * 1000000ULL
         + (unsigned long long)ts.tv_nsec / 1000;
}

static unsigned rnd(unsigned *s)
{
  *s ^= *s << 13;
  *s ^= *s >> 17;
  *s ^= *s << 5;
  return *s;
}

static int connect_to(const char *path, int port)
{
  char spec[160];
  int fd;

  if (path) snprintf(spec, sizeof spec, "unix:%s", path);
  else snprintf(spec, sizeof spec, "127.0.0.1:%d", port);
  if ((fd = dial(spec)) >= 0) return fd;
  perror("greyd-load: connect");
  exit(111);
}

/* Appenders for the request text: snprintf cost as much as the
 * server's whole parse, and the generator must stay much cheaper than
 * the server it measures. */
static char *put_s(char *o, const char *s)
{
  size_t n = strlen(s);

  memcpy(o, s, n);
  return o + n;
}

static char *put_u(char *o, unsigned long u, unsigned base)
{
  char t[24];
  size_t k = 0;

  do t[k++] = "0123456789abcdef"[u % base]; while (u /= base);
  while (k) *o++ = t[--k];
  return o;
}

/* The k-th request: a new triplet, or one seen before (repeat %).  buf
 * holds 1024 bytes; addr, sender and rcpt are under 64 bytes each. */
static size_t format_request(struct load *L, char *buf, const char *addr,
                             const char *sender, const char *rcpt)
{
  char *o = buf;

  o = put_s(o, "request=smtpd_access_policy\nprotocol_state=RCPT\n"
               "protocol_name=ESMTP\nclient_address=");
  o = put_s(o, addr);
  o = put_s(o, "\nclient_name=unknown\nreverse_client_name=unknown\n"
               "helo_name=[");
  o = put_s(o, addr);
  o = put_s(o, "]\nsender=");
  o = put_s(o, sender);
  o = put_s(o, "\nrecipient=");
  o = put_s(o, rcpt);
  o = put_s(o, "\ninstance=");
  o = put_u(o, L->sent, 16);
  o = put_s(o, ".0\n");
  if (L->test_time) o = put_s(o, "policy_test_time=1700000000\n");
  *o++ = '\n';
  return (size_t)(o - buf);
}

static size_t make_request(struct load *L, char *buf, char *triplet)
{
  char addr[32], sender[64], rcpt[64], *o;
  unsigned a, s, r;

  if (L->replay) {
    if (sscanf(L->replay[L->sent], "%31s %63s %63s", addr, sender, rcpt) != 3)
      return 0;
    snprintf(triplet, 160, "%s", L->replay[L->sent]);
    return format_request(L, buf, addr, sender, rcpt);
  }

  if (L->ringn && rnd(&L->seed) % 100 < L->repeat) {
    unsigned *t = L->ring[rnd(&L->seed) % (L->ringn < 4096 ? L->ringn : 4096)];

    a = t[0], s = t[1], r = t[2];
  } else {
    a = rnd(&L->seed) & 0xffffff;
    s = rnd(&L->seed) % 200000;
    r = rnd(&L->seed) % 5000;
    L->ring[L->ringn++ % 4096][0] = a;
    L->ring[(L->ringn - 1) % 4096][1] = s;
    L->ring[(L->ringn - 1) % 4096][2] = r;
  }
  o = put_u(put_s(addr, "10."), a >> 16, 10);
  o = put_u(put_s(o, "."), (a >> 8) & 255, 10);
  *put_u(put_s(o, "."), a & 255, 10) = 0;
  o = put_u(put_s(sender, "user"), s, 10);
  *put_s(put_u(put_s(o, "@s"), s % 997, 10), ".example") = 0;
  *put_s(put_u(put_s(rcpt, "rcpt"), r, 10), "@example.com") = 0;
  o = put_s(put_s(put_s(triplet, addr), " "), sender);
  *put_s(put_s(o, " "), rcpt) = 0;
  return format_request(L, buf, addr, sender, rcpt);
}

static void send_one(struct load *L, struct lconn *c)
{
  char buf[1024];
  size_t n = make_request(L, buf, c->triplet);

  c->sent_at = usec();
  c->busy = 1;
  L->sent++;
  if (write(c->fd, buf, n) != (ssize_t)n) { L->errors++; c->busy = 0; }
}

static void count_reply(struct load *L, const char *r)
{
  /* sqlgrey answers in lower case */
  if (!strncasecmp(r, "action=DEFER_IF_PERMIT", 22)) L->defer++;
  else if (!strncasecmp(r, "action=DUNNO", 12)
           || !strncasecmp(r, "action=PREPEND", 14)) L->pass++;
  else L->other++;
}

static void on_read(struct load *L, struct lconn *c)
{
  ssize_t r = read(c->fd, c->in + c->inlen, sizeof c->in - 1 - c->inlen);
  char *end;

  if (r <= 0) { L->errors++; c->busy = 0; close(c->fd); c->fd = -1; return; }
  c->inlen += (size_t)r;
  c->in[c->inlen] = 0;
  if (!(end = strstr(c->in, "\n\n"))) return;
  L->lat[L->done++] = usec() - c->sent_at;
  count_reply(L, c->in);
  if (L->answered) fprintf(L->answered, "%s\n", c->triplet);
  c->inlen = 0;
  c->busy = 0;
  if (L->sent < L->n) send_one(L, c);
}

static unsigned long read_replay(struct load *L, const char *path)
{
  FILE *f = fopen(path, "r");
  char line[160];
  unsigned long n = 0, cap = 0;

  if (!f) { perror(path); exit(111); }
  while (fgets(line, sizeof line, f)) {
    if (n == cap) {
      cap = cap ? cap * 2 : 1024;
      L->replay = realloc(L->replay, cap * sizeof *L->replay);
      if (!L->replay) exit(111);
    }
    line[strcspn(line, "\n")] = 0;
    memcpy(L->replay[n++], line, sizeof line);
  }
  fclose(f);
  return n;
}

static int cmp(const void *a, const void *b)
{
  unsigned long long x = *(const unsigned long long *)a;
  unsigned long long y = *(const unsigned long long *)b;

  return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
  static struct load L;
  const char *path = NULL;
  int port = 0, conns = 8, opt, ep, i;
  unsigned limit = 600;
  struct lconn *cs;
  unsigned long long t0, t1;
  double secs;

  L.n = 10000, L.repeat = 10, L.seed = 2463534242u;
  while ((opt = getopt(argc, argv, "u:p:c:n:r:s:t:Tw:f:")) != -1) {
    switch (opt) {
    case 'u': path = optarg; break;
    case 'p': port = atoi(optarg); break;
    case 'c': conns = atoi(optarg); break;
    case 'n': L.n = strtoul(optarg, NULL, 10); break;
    case 'r': L.repeat = (unsigned)atoi(optarg); break;
    case 's': L.seed = (unsigned)strtoul(optarg, NULL, 10) | 1; break;
    case 't': limit = (unsigned)atoi(optarg); break;
    case 'T': L.test_time = 1; break;
    case 'w':
      if (!(L.answered = fopen(optarg, "w"))) { perror(optarg); return 111; }
      break;
    case 'f': L.n = read_replay(&L, optarg); break;
    default:
      fprintf(stderr, "usage: greyd-load -u PATH|-p PORT [-c N] [-n N] "
              "[-r PCT] [-s SEED] [-t SECS] [-T] [-w FILE] [-f FILE]\n");
      return 100;
    }
  }
  if ((!path && !port) || conns < 1 || conns > 4096 || !L.n) return 100;
  /* a server that dies is an error to count, not a reason to die */
  signal(SIGPIPE, SIG_IGN);
  L.lat = calloc(L.n, sizeof *L.lat);
  cs = calloc((size_t)conns, sizeof *cs);
  ep = epoll_create1(0);
  if (!L.lat || !cs || ep < 0) return 111;
  for (i = 0; i < conns; i++) {
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &cs[i] };

    cs[i].fd = connect_to(path, port);
    epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev);
  }
  t0 = usec();
  for (i = 0; i < conns && L.sent < L.n; i++) send_one(&L, &cs[i]);
  while (L.done + L.errors < L.sent || L.sent < L.n) {
    struct epoll_event evs[64];
    int n = epoll_wait(ep, evs, 64, 1000), k;

    if (usec() - t0 > limit * 1000000ULL) break;
    if (n < 0 && errno != EINTR) break;
    for (k = 0; k < n; k++) on_read(&L, evs[k].data.ptr);
    if (L.errors && L.errors >= (unsigned long)conns) break;
  }
  t1 = usec();
  secs = (double)(t1 - t0) / 1e6;
  qsort(L.lat, L.done, sizeof *L.lat, cmp);
  printf("requests=%lu seconds=%.3f rps=%.0f p50_ms=%.3f p99_ms=%.3f "
         "max_ms=%.3f defer=%lu pass=%lu other=%lu errors=%lu\n", L.done,
         secs, L.done / secs,
         L.done ? L.lat[L.done / 2] / 1000.0 : 0.0,
         L.done ? L.lat[(L.done * 99) / 100] / 1000.0 : 0.0,
         L.done ? L.lat[L.done - 1] / 1000.0 : 0.0, L.defer, L.pass,
         L.other, L.errors);
  if (L.answered && fclose(L.answered) != 0) return 111;
  for (i = 0; i < conns; i++)
    if (cs[i].fd >= 0) close(cs[i].fd);
  free(cs);
  free(L.lat);
  free(L.replay);
  close(ep);
  return L.errors || L.done < L.n ? 111 : 0;
}
