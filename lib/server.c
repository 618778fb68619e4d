/*
 * server.c - listeners, connections and the epoll loop (see server.h).
 *
 * Every descriptor in the loop has a struct watch; epoll hands it back
 * and its kind says what to do.  Connections sit on a doubly linked list
 * so the once-a-second tick can find the idle and the half-finished.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "endpoint.h"
#include "log.h"
#include "server.h"

enum kind { W_LISTEN, W_CONN, W_SIGNAL, W_OTHER };

#define WATCH_HUP 4   /* internal: the peer hung up */

struct watch {
  enum kind kind;
  int fd;
  unsigned events;
  void (*cb)(void *arg, int fd, unsigned events);
  void *arg;
  struct watch *next_other;      /* W_OTHER: list for lookup by fd */
};

struct conn {
  struct watch w;
  struct server *srv;
  struct conn *prev, *next;
  unsigned long id;
  unsigned listener;             /* index of the listener it came from */
  char *in;                      /* input buffer, max_request + 1 bytes */
  size_t inlen;
  char *out;
  size_t outlen, outcap;
  int held, closing, dead, buried;
  struct conn *next_buried;
  unsigned long long last_active; /* usec of the last byte or reply */
  void *data;
};

#define MAX_LISTENERS 16

/* Events logged one line a second at most: how many since the last. */
struct tally {
  unsigned long n;
  unsigned long long logged;
};

struct server {
  const struct server_ops *ops;
  void *ctx;
  int epfd;
  struct watch sig;
  struct watch listeners[MAX_LISTENERS];
  unsigned nlisteners;
  struct conn *conns;
  unsigned nconns, max_conns;
  unsigned long next_id;
  struct watch *others;
  struct conn *graveyard;        /* closed, freed after the event batch */
  int stopping;
  unsigned long long stop_deadline, last_tick;
  /* refused connections: one line a second at most, with the count, so
   * a flood cannot push the decision lines out of the log; the same
   * for those evict_when_full closed */
  struct tally refused, evicted;
  const char *refuse_reason;
};

unsigned long long now_usec(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (unsigned long long)ts.tv_sec * 1000000ULL
         + (unsigned long long)ts.tv_nsec / 1000ULL;
}

static void epoll_set(struct server *s, struct watch *w, unsigned events)
{
  struct epoll_event ev;
  int op = w->events ? (events ? EPOLL_CTL_MOD : EPOLL_CTL_DEL)
                     : EPOLL_CTL_ADD;

  /* unchanged: nothing to tell the kernel (this runs after every read
   * and reply, and an epoll_ctl each time cost a third of the rate) */
  if (w->events == events) return;
  memset(&ev, 0, sizeof ev);
  ev.events = ((events & WATCH_IN) ? EPOLLIN : 0)
              | ((events & WATCH_OUT) ? EPOLLOUT : 0);
  ev.data.ptr = w;
  if (epoll_ctl(s->epfd, op, w->fd, &ev) < 0)
    die_sys(EXIT_TEMP, "watch descriptor with", "epoll_ctl");
  w->events = events;
}

struct server *server_new(const struct server_ops *ops, void *ctx)
{
  struct server *s = calloc(1, sizeof *s);
  sigset_t set;

  if (!s) die_sys(EXIT_TEMP, "allocate", "server");
  s->ops = ops;
  s->ctx = ctx;
  s->max_conns = ops->max_conns ? ops->max_conns : 4096;
  s->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (s->epfd < 0) die_sys(EXIT_TEMP, "create", "epoll");
  signal(SIGPIPE, SIG_IGN);
  /* USR1 and USR2 would kill by default; an operator sending one to
   * every service (svc -1, rbld's "log the counters") must not take a
   * daemon down */
  signal(SIGUSR1, SIG_IGN);
  signal(SIGUSR2, SIG_IGN);
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigprocmask(SIG_BLOCK, &set, NULL);
  s->sig.kind = W_SIGNAL;
  s->sig.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (s->sig.fd < 0) die_sys(EXIT_TEMP, "create", "signalfd");
  epoll_set(s, &s->sig, WATCH_IN);
  return s;
}

void *server_ctx(const struct server *s) { return s->ctx; }
unsigned server_conns(const struct server *s) { return s->nconns; }

/* The address grammar is endpoint.h's: one reading for listeners, the
 * loopback check and the tools that dial. */
static int parse_spec(const char *spec, struct endpoint *e, int need)
{
  if (endpoint_parse(spec, e) == 0) return 0;
  if (need)
    die_msg(EXIT_PERM, "bad listen address (want unix:/PATH or ADDR:PORT):",
            spec);
  return -1;
}

int server_spec_local(const char *spec)
{
  struct endpoint e;

  return parse_spec(spec, &e, 0) < 0 ? -1 : endpoint_local(&e);
}

void server_check_listen(const char *setting, const char *specs,
                         int local_only)
{
  char one[256], text[160];
  const char *p = specs;
  struct endpoint e;
  int more, seen = 0;

  while ((more = endpoint_next(&p, one, sizeof one))) {
    if (more < 0) die_msg(EXIT_PERM, "listen spec too long:", p);
    seen++;
    if (parse_spec(one, &e, 1) == 0 && local_only && !endpoint_local(&e)) {
      snprintf(text, sizeof text, "%s: TCP only on loopback (127.0.0.0/8 "
               "or [::1]), the protocol has no access control:", setting);
      die_msg(EXIT_PERM, text, one);
    }
  }
  if (!seen) {
    snprintf(text, sizeof text, "%s: no address to listen on in", setting);
    die_msg(EXIT_PERM, text, specs);
  }
}

void server_need_local(const char *setting, const char *specs)
{
  server_check_listen(setting, specs, 1);
}

/* Not a socket at a unix path: waiting will not move it, and only the
 * administrator knows whether it matters (a CDB named by mistake). */
static void __attribute__((noreturn))
refuse_path(const char *kind, const char *spec)
{
  char text[128];

  snprintf(text, sizeof text, "refusing to remove %s (not a socket) to "
           "listen at", kind);
  die_msg(EXIT_PERM, text, spec);
}

void server_listen(struct server *s, const char *spec, unsigned mode)
{
  struct watch *w;
  struct endpoint e;
  const char *what;
  int fd;

  if (s->nlisteners == MAX_LISTENERS)
    die_msg(EXIT_PERM, "too many listeners at", spec);
  parse_spec(spec, &e, 1);
  if ((fd = endpoint_listen(&e, mode, &what)) < 0) {
    if (errno == ENOTSOCK) refuse_path(what, spec);
    die_sys(EXIT_TEMP, what, spec);
  }
  w = &s->listeners[s->nlisteners++];
  w->kind = W_LISTEN;
  w->fd = fd;
  epoll_set(s, w, WATCH_IN);
}

void server_listen_list(struct server *s, const char *specs, unsigned mode)
{
  char one[256];
  const char *p = specs;
  int more, seen = 0;

  while ((more = endpoint_next(&p, one, sizeof one))) {
    if (more < 0) die_msg(EXIT_PERM, "listen spec too long:", p);
    server_listen(s, one, mode);
    seen++;
  }
  if (!seen) die_msg(EXIT_PERM, "no address to listen on in", specs);
}

void server_watch(struct server *s, int fd, unsigned events,
                  void (*cb)(void *, int, unsigned), void *arg)
{
  struct watch **pp, *w;

  for (pp = &s->others; *pp; pp = &(*pp)->next_other)
    if ((*pp)->fd == fd) break;
  w = *pp;
  if (!w) {
    if (!events) return;
    w = calloc(1, sizeof *w);
    if (!w) die_sys(EXIT_TEMP, "allocate", "watch");
    w->kind = W_OTHER;
    w->fd = fd;
    w->next_other = s->others;
    s->others = w;
    pp = &s->others;
  }
  w->cb = cb;
  w->arg = arg;
  epoll_set(s, w, events);
  if (!events) {
    *pp = w->next_other;
    free(w);
  }
}

/* --- connections --- */

static unsigned conn_events(const struct conn *c)
{
  unsigned ev = 0;
  const struct server_ops *o = c->srv->ops;

  if (!c->closing && !c->held && c->outlen <= o->max_output) ev |= WATCH_IN;
  if (c->outlen) ev |= WATCH_OUT;
  return ev;
}

/* Close and unlink at once; free later, since epoll may still hold an
 * event for this connection in the batch being dispatched. */
static void conn_free(struct conn *c)
{
  struct server *s = c->srv;

  if (c->buried) return;
  c->buried = c->dead = 1;
  if (s->ops->closed) s->ops->closed(c);
  epoll_set(s, &c->w, 0);
  close(c->w.fd);
  if (c->prev) c->prev->next = c->next;
  else s->conns = c->next;
  if (c->next) c->next->prev = c->prev;
  s->nconns--;
  c->next_buried = s->graveyard;
  s->graveyard = c;
}

static void free_graveyard(struct server *s)
{
  while (s->graveyard) {
    struct conn *c = s->graveyard;

    s->graveyard = c->next_buried;
    free(c->in);
    free(c->out);
    free(c);
  }
}

static void conn_update(struct conn *c)
{
  if (c->closing && !c->outlen && !c->held) { c->dead = 1; return; }
  epoll_set(c->srv, &c->w, conn_events(c));
}

/* EVENT conns=N [reason=R] KEY=COUNT, at most once a second. */
static void log_tally(struct server *s, struct tally *t, const char *event,
                      const char *reason, const char *key,
                      unsigned long long now)
{
  struct logline ll;

  if (!t->n || now - t->logged < 1000000ULL) return;
  log_start(&ll, "warning", event);
  if (reason) log_str(&ll, "reason", reason);
  log_uint(&ll, "conns", s->nconns);
  log_uint(&ll, key, t->n);
  log_end(&ll);
  t->n = 0;
  t->logged = now;
}

static void log_refused(struct server *s, unsigned long long now)
{
  log_tally(s, &s->refused, "refuse", s->refuse_reason, "refused", now);
}

static void log_evicted(struct server *s, unsigned long long now)
{
  log_tally(s, &s->evicted, "evict", NULL, "evicted", now);
}

/* Full, with evict_when_full: close the connection quiet longest that
 * has nothing in hand (no held request, no reply going out), so that
 * idle or slow clients cannot keep the others out. */
static void evict_quietest(struct server *s)
{
  struct conn *c, *q = NULL;

  for (c = s->conns; c; c = c->next)
    if (!c->held && !c->outlen && !c->closing
        && (!q || c->last_active < q->last_active))
      q = c;
  if (!q) return;
  conn_free(q);
  s->evicted.n++;
  log_evicted(s, now_usec());
}

static void accept_one(struct server *s, struct watch *l)
{
  struct conn *c;
  int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

  if (fd < 0) {
    if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
      warn_sys("accept", "connection");
    return;
  }
  if (s->nconns >= s->max_conns && !s->stopping && s->ops->evict_when_full)
    evict_quietest(s);
  if (s->nconns >= s->max_conns || s->stopping) {
    close(fd);
    s->refused.n++;
    s->refuse_reason = s->stopping ? "stopping" : "too_many";
    log_refused(s, now_usec());
    return;
  }
  c = calloc(1, sizeof *c);
  if (c) c->in = malloc(s->ops->max_request + 1);
  if (!c || !c->in) {
    warn_sys("allocate", "connection");
    free(c);
    close(fd);
    return;
  }
  c->w.kind = W_CONN;
  c->w.fd = fd;
  c->srv = s;
  c->id = ++s->next_id;
  c->listener = (unsigned)(l - s->listeners);
  c->last_active = now_usec();
  c->next = s->conns;
  if (s->conns) s->conns->prev = c;
  s->conns = c;
  s->nconns++;
  epoll_set(s, &c->w, WATCH_IN);
}

static void parse_input(struct conn *c)
{
  const struct server_ops *o = c->srv->ops;

  while (c->inlen && !c->held && !c->closing) {
    long used = o->request(c, c->in, c->inlen);

    if (used < 0) { c->closing = 1; break; }
    if (used == 0) {
      if (c->inlen >= o->max_request) {
        if (o->overflow) o->overflow(c);
        c->closing = 1;
      }
      break;
    }
    c->inlen -= (size_t)used;
    memmove(c->in, c->in + used, c->inlen);
  }
}

static void conn_read(struct conn *c)
{
  size_t room = c->srv->ops->max_request - c->inlen;
  ssize_t r = read(c->w.fd, c->in + c->inlen, room);

  if (r < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (r <= 0) {
    /* the peer is gone: nothing more can be answered */
    c->outlen = 0;
    c->closing = 1;
    if (!c->held) c->dead = 1;
    return;
  }
  c->inlen += (size_t)r;
  c->in[c->inlen] = 0;
  c->last_active = now_usec();
  parse_input(c);
}

static void conn_flush(struct conn *c)
{
  while (c->outlen) {
    ssize_t w = write(c->w.fd, c->out, c->outlen);

    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) return;
    if (w <= 0) { c->outlen = 0; c->closing = 1; return; }
    c->outlen -= (size_t)w;
    memmove(c->out, c->out + w, c->outlen);
  }
}

void conn_write(struct conn *c, const char *buf, size_t len)
{
  if (c->buried || (c->closing && !c->held)) return;
  if (c->outlen + len > c->outcap) {
    size_t cap = (c->outlen + len) * 2;
    char *n = realloc(c->out, cap);

    if (!n) { warn_sys("allocate", "output"); c->closing = 1; return; }
    c->out = n;
    c->outcap = cap;
  }
  memcpy(c->out + c->outlen, buf, len);
  c->outlen += len;
  c->last_active = now_usec();
  conn_flush(c);
  if (!c->held) conn_update(c);
}

void conn_hold(struct conn *c) { c->held = 1; }

void conn_release(struct conn *c)
{
  if (c->buried) return;
  c->held = 0;
  if (!c->closing && !c->srv->stopping) parse_input(c);
  if (c->srv->stopping && !c->inlen) c->closing = 1;
  conn_update(c);
  if (c->dead) conn_free(c);
}

void conn_close(struct conn *c) { c->closing = 1; }
void conn_set_data(struct conn *c, void *data) { c->data = data; }
void *conn_data(const struct conn *c) { return c->data; }
struct server *conn_server(const struct conn *c) { return c->srv; }
unsigned long conn_id(const struct conn *c) { return c->id; }
unsigned conn_listener(const struct conn *c) { return c->listener; }

static void conn_event(struct conn *c, unsigned ev)
{
  if (c->buried) return;
  if ((ev & WATCH_HUP) && c->held) {
    /* nobody to answer; stop the hang-up from waking us until the held
     * request is done, and close then */
    c->outlen = 0;
    c->closing = 1;
    epoll_set(c->srv, &c->w, 0);
    return;
  }
  if (ev & WATCH_OUT) conn_flush(c);
  if ((ev & WATCH_IN) && !c->held && !c->closing) conn_read(c);
  if (!c->dead) conn_update(c);
  if (c->dead) conn_free(c);
}

/* --- signals, timeouts, the loop --- */

static void begin_stop(struct server *s)
{
  unsigned i;
  struct conn *c, *next;

  if (s->stopping) return;
  s->stopping = 1;
  s->stop_deadline = now_usec() + 10000000ULL;
  for (i = 0; i < s->nlisteners; i++) {
    epoll_set(s, &s->listeners[i], 0);
    close(s->listeners[i].fd);
  }
  s->nlisteners = 0;
  for (c = s->conns; c; c = next) {
    next = c->next;
    if (!c->held) {
      c->closing = 1;
      conn_update(c);
      if (c->dead) conn_free(c);
    }
  }
}

void server_stop(struct server *s) { begin_stop(s); }

static void read_signals(struct server *s)
{
  struct signalfd_siginfo si;

  while (read(s->sig.fd, &si, sizeof si) == sizeof si) {
    if (si.ssi_signo == SIGHUP) {
      if (s->ops->reload) s->ops->reload(s->ctx);
    } else begin_stop(s);
  }
}

static void log_timeout(const struct conn *c, const char *why)
{
  struct logline l;

  log_start(&l, "warning", "timeout");
  log_uint(&l, "conn", c->id);
  log_str(&l, "state", why);
  log_uint(&l, "bytes", c->inlen);
  log_end(&l);
}

static void check_timeouts(struct server *s, unsigned long long now)
{
  const struct server_ops *o = s->ops;
  struct conn *c, *next;

  for (c = s->conns; c; c = next) {
    unsigned long long quiet = (now - c->last_active) / 1000000ULL;
    const char *why = NULL;

    next = c->next;
    if (c->held) continue;
    /* reading stops while too many replies wait for the client: the
     * half request left in the buffer is then ours, not its */
    if (c->inlen && o->read_timeout && quiet >= o->read_timeout)
      why = c->outlen > o->max_output ? "slow_reader" : "partial_request";
    else if (!c->inlen && o->idle_timeout && quiet >= o->idle_timeout)
      why = "idle";
    else if (c->outlen && quiet >= 60) why = "slow_reader";
    if (!why) continue;
    if (*why != 'i') log_timeout(c, why);
    conn_free(c);
  }
}

static int wait_ms(struct server *s, unsigned long long now)
{
  int ms = 1000 - (int)((now - s->last_tick) / 1000ULL);
  int own = s->ops->next_timeout ? s->ops->next_timeout(s->ctx) : -1;

  if (ms < 0) ms = 0;
  if (own >= 0 && own < ms) ms = own;
  return ms;
}

static void dispatch(struct server *s, struct watch *w, unsigned ev)
{
  switch (w->kind) {
  case W_LISTEN: accept_one(s, w); break;
  case W_CONN: conn_event((struct conn *)w, ev); break;
  case W_SIGNAL: read_signals(s); break;
  case W_OTHER: w->cb(w->arg, w->fd, ev & (WATCH_IN | WATCH_OUT)); break;
  }
}

int server_run(struct server *s)
{
  struct epoll_event evs[64];

  s->last_tick = now_usec();
  for (;;) {
    unsigned long long now = now_usec();
    int n, i;

    free_graveyard(s);
    log_batch_flush();          /* held lines out before we sleep */
    if (s->stopping && (!s->nconns || now > s->stop_deadline)) return 0;
    n = epoll_wait(s->epfd, evs, 64, wait_ms(s, now));
    if (n < 0 && errno != EINTR) die_sys(EXIT_TEMP, "wait in", "epoll");
    for (i = 0; i < n; i++) {
      unsigned ev = 0;

      if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) ev |= WATCH_IN;
      if (evs[i].events & EPOLLOUT) ev |= WATCH_OUT;
      if (evs[i].events & (EPOLLHUP | EPOLLERR)) ev |= WATCH_HUP;
      dispatch(s, evs[i].data.ptr, ev);
    }
    free_graveyard(s);
    if (s->ops->expire) s->ops->expire(s->ctx);
    now = now_usec();
    if (now - s->last_tick >= 1000000ULL) {
      s->last_tick = now;
      check_timeouts(s, now);
      log_refused(s, now);
      log_evicted(s, now);
      if (s->ops->tick) s->ops->tick(s->ctx);
      free_graveyard(s);
    }
  }
}
