/*
 * acctd-bench-load - many persistent connections, each with one request
 * outstanding at a time (as Postfix's smtpd processes do), for a bounded
 * time and a bounded count.  Prints one line of results.
 *
 *   acctd-bench-load -a ADDR -p socketmap|tcp -k KEYFILE
 *                    [-c CONNS] [-T THREADS] [-d SECONDS] [-n MAX]
 *   ADDR: unix:/path or 127.0.0.1:PORT
 *
 * Keys are taken in turn from KEYFILE (one per line).  Replies are
 * counted by kind: ok (OK / 200), notfound (NOTFOUND / 500), temp
 * (TEMP / 400), other (anything else, e.g. an echo).  Output:
 *   requests=N seconds=S rate=R p50_us=N p99_us=N ok=N notfound=N
 *   temp=N other=N errors=N
 * errors counts connections that failed or closed.  Exit 0 if no errors.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>
#include "endpoint.h"

#define HIST_MAX 200000          /* latency histogram: 1 us buckets */
#define REQ_MAX 1100

enum kind { K_OK, K_NOTFOUND, K_TEMP, K_OTHER, K_COUNT };

struct opts {
  const char *addr;
  int socketmap;
  unsigned conns, threads;
  double seconds;
  unsigned long long max;
  char **keys;
  size_t nkeys;
};

struct lconn {
  int fd;
  char req[REQ_MAX];
  size_t reqlen;
  char in[4096];
  size_t inlen;
  unsigned long long sent;
  size_t next_key;
};

struct worker {
  pthread_t t;
  const struct opts *o;
  unsigned first, count;        /* its connections */
  unsigned long long done, errors, kinds[K_COUNT];
  unsigned *hist;
};

static unsigned long long now_us(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (unsigned long long)ts.tv_sec * 1000000ULL
         + (unsigned long long)ts.tv_nsec / 1000;
}

static void make_request(const struct opts *o, struct lconn *c)
{
  const char *k = o->keys[c->next_key];

  c->next_key = (c->next_key + 1) % o->nkeys;
  if (o->socketmap)
    c->reqlen = (size_t)snprintf(c->req, sizeof c->req, "%zu:rcpt %s,",
                                 strlen(k) + 5, k);
  else
    c->reqlen = (size_t)snprintf(c->req, sizeof c->req, "get %s\n", k);
}

/* A whole reply at the start of c->in: its length, or 0. */
static size_t reply_len(const struct opts *o, const struct lconn *c,
                        enum kind *k)
{
  const char *nl;

  if (o->socketmap) {
    size_t n = 0, i = 0;
    const char *body;

    while (i < c->inlen && c->in[i] >= '0' && c->in[i] <= '9')
      n = n * 10 + (size_t)(c->in[i++] - '0');
    if (i == c->inlen || i + 1 + n + 1 > c->inlen) return 0;
    body = c->in + i + 1;
    *k = !strncmp(body, "OK ", 3) ? K_OK
         : !strncmp(body, "NOTFOUND", 8) ? K_NOTFOUND
         : !strncmp(body, "TEMP ", 5) ? K_TEMP : K_OTHER;
    return i + 1 + n + 1;
  }
  nl = memchr(c->in, '\n', c->inlen);
  if (!nl) return 0;
  *k = !strncmp(c->in, "200 ", 4) ? K_OK
       : !strncmp(c->in, "500 ", 4) ? K_NOTFOUND
       : !strncmp(c->in, "400 ", 4) ? K_TEMP : K_OTHER;
  return (size_t)(nl - c->in) + 1;
}

static int send_one(struct lconn *c)
{
  c->sent = now_us();
  return write(c->fd, c->req, c->reqlen) == (ssize_t)c->reqlen ? 0 : -1;
}

static int on_readable(struct worker *w, struct lconn *c)
{
  const struct opts *o = w->o;
  ssize_t r = read(c->fd, c->in + c->inlen, sizeof c->in - c->inlen);
  size_t len;
  enum kind k = K_OTHER;

  if (r <= 0) return -1;
  c->inlen += (size_t)r;
  if (!(len = reply_len(o, c, &k))) {
    return c->inlen == sizeof c->in ? -1 : 0;
  }
  {
    unsigned long long lat = now_us() - c->sent;

    w->hist[lat < HIST_MAX ? lat : HIST_MAX - 1]++;
  }
  w->kinds[k]++;
  w->done++;
  c->inlen -= len;
  memmove(c->in, c->in + len, c->inlen);
  return 1;
}

static void *work(void *arg)
{
  struct worker *w = arg;
  const struct opts *o = w->o;
  struct lconn *cs = calloc(w->count, sizeof *cs);
  struct epoll_event ev, evs[64];
  unsigned long long end = now_us() + (unsigned long long)(o->seconds * 1e6);
  unsigned long long quota = o->max / o->threads + 1;
  int ep = epoll_create1(0);
  unsigned i, live = 0;

  for (i = 0; i < w->count; i++) {
    struct lconn *c = &cs[i];

    c->next_key = (size_t)(w->first + i) * 7919 % o->nkeys;
    if ((c->fd = dial(o->addr)) < 0) { w->errors++; continue; }
    ev.events = EPOLLIN;
    ev.data.ptr = c;
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
    make_request(o, c);
    if (send_one(c) < 0) { w->errors++; close(c->fd); c->fd = -1; continue; }
    live++;
  }
  while (live && now_us() < end && w->done < quota) {
    int n = epoll_wait(ep, evs, 64, 100), j;

    for (j = 0; j < n; j++) {
      struct lconn *c = evs[j].data.ptr;
      int r = on_readable(w, c);

      if (r == 1) {
        make_request(o, c);
        r = send_one(c) < 0 ? -1 : 1;
      }
      if (r < 0) {
        w->errors++;
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = -1;
        live--;
      }
    }
  }
  for (i = 0; i < w->count; i++)
    if (cs[i].fd >= 0) close(cs[i].fd);
  close(ep);
  free(cs);
  return NULL;
}

static void read_keys(struct opts *o, const char *file)
{
  FILE *f = fopen(file, "r");
  char *line = NULL;
  size_t cap = 0, room = 0;
  ssize_t n;

  if (!f) { perror(file); exit(111); }
  while ((n = getline(&line, &cap, f)) > 0) {
    if (line[n - 1] == '\n') line[--n] = 0;
    if (!n || n > REQ_MAX - 20) continue;
    if (o->nkeys == room) {
      room = room ? room * 2 : 1024;
      o->keys = realloc(o->keys, room * sizeof *o->keys);
      if (!o->keys) { perror("realloc"); exit(111); }
    }
    o->keys[o->nkeys++] = strdup(line);
  }
  free(line);
  fclose(f);
  if (!o->nkeys) { fprintf(stderr, "%s: no keys\n", file); exit(100); }
}

static unsigned long long percentile(const unsigned *hist, double p,
                                     unsigned long long total)
{
  unsigned long long want = (unsigned long long)(p * (double)total), sum = 0;
  unsigned i;

  for (i = 0; i < HIST_MAX; i++) {
    sum += hist[i];
    if (sum > want) return i;
  }
  return HIST_MAX;
}

static void usage(void)
{
  fprintf(stderr, "usage: acctd-bench-load -a ADDR -p socketmap|tcp "
          "-k KEYFILE [-c CONNS] [-T THREADS] [-d SECONDS] [-n MAX]\n");
  exit(100);
}

static void parse(struct opts *o, int argc, char **argv)
{
  int c;

  o->conns = 200; o->threads = 2; o->seconds = 5; o->max = 100000000;
  o->socketmap = -1;
  while ((c = getopt(argc, argv, "a:p:k:c:T:d:n:")) != -1) {
    switch (c) {
    case 'a': o->addr = optarg; break;
    case 'p': o->socketmap = !strcmp(optarg, "socketmap"); break;
    case 'k': read_keys(o, optarg); break;
    case 'c': o->conns = (unsigned)atoi(optarg); break;
    case 'T': o->threads = (unsigned)atoi(optarg); break;
    case 'd': o->seconds = atof(optarg); break;
    case 'n': o->max = strtoull(optarg, NULL, 10); break;
    default: usage();
    }
  }
  if (!o->addr || o->socketmap < 0 || !o->nkeys || !o->conns
      || !o->threads || o->threads > 64 || o->seconds <= 0
      || o->seconds > 600)
    usage();
  if (o->threads > o->conns) o->threads = o->conns;
}

int main(int argc, char **argv)
{
  static struct opts o;
  struct worker *w;
  unsigned *hist = calloc(HIST_MAX, sizeof *hist), i, j;
  unsigned long long done = 0, errors = 0, kinds[K_COUNT] = { 0 }, t0;
  double secs;

  parse(&o, argc, argv);
  w = calloc(o.threads, sizeof *w);
  t0 = now_us();
  for (i = 0; i < o.threads; i++) {
    w[i].o = &o;
    w[i].first = o.conns / o.threads * i;
    w[i].count = i + 1 < o.threads ? o.conns / o.threads
                                   : o.conns - w[i].first;
    w[i].hist = calloc(HIST_MAX, sizeof *w[i].hist);
    pthread_create(&w[i].t, NULL, work, &w[i]);
  }
  for (i = 0; i < o.threads; i++) {
    pthread_join(w[i].t, NULL);
    done += w[i].done;
    errors += w[i].errors;
    for (j = 0; j < K_COUNT; j++) kinds[j] += w[i].kinds[j];
    for (j = 0; j < HIST_MAX; j++) hist[j] += w[i].hist[j];
  }
  secs = (double)(now_us() - t0) / 1e6;
  printf("requests=%llu seconds=%.2f rate=%.0f p50_us=%llu p99_us=%llu "
         "ok=%llu notfound=%llu temp=%llu other=%llu errors=%llu\n",
         done, secs, (double)done / secs, percentile(hist, 0.5, done),
         percentile(hist, 0.99, done), kinds[K_OK], kinds[K_NOTFOUND],
         kinds[K_TEMP], kinds[K_OTHER], errors);
  for (i = 0; i < o.threads; i++) free(w[i].hist);
  for (i = 0; i < o.nkeys; i++) free(o.keys[i]);
  free(o.keys);
  free(w);
  free(hist);
  return errors ? 1 : 0;
}
