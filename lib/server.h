/*
 * server.h - the daemon skeleton every imgate daemon is built on.
 *
 * One process, one epoll loop.  Listeners on unix sockets and TCP;
 * many persistent connections, each with its own input buffer of a hard
 * size.  The daemon supplies a request() handler that parses what has
 * arrived and answers with conn_write(), or holds the connection with
 * conn_hold() while it waits for something else (DNS, say) and answers
 * later.  Signals arrive through a signalfd: SIGTERM or SIGINT stops
 * accepting, lets held requests finish and pending output drain, and
 * server_run() returns 0; SIGHUP calls reload(); SIGUSR1, SIGUSR2 and
 * SIGPIPE are ignored.  Other descriptors (c-ares sockets) join the
 * same loop with server_watch().
 */
#ifndef IMGATE_SERVER_H
#define IMGATE_SERVER_H

#include <stddef.h>

struct server;
struct conn;

enum { WATCH_IN = 1, WATCH_OUT = 2 };

struct server_ops {
  size_t max_request;      /* bytes of one request, at most */
  size_t max_output;       /* pending reply bytes before reading stops */
  unsigned read_timeout;   /* seconds a half request may wait (0: none) */
  unsigned idle_timeout;   /* seconds an idle connection is kept (0: ever) */
  unsigned max_conns;      /* connections at once (0: 4096) */
  /* At max_conns, a new connection closes the one quiet longest that has
   * no request being answered, instead of being refused: for a protocol
   * of one request per connection (HTTP), where a quiet connection is
   * only a slot taken (0: refuse the new one). */
  int evict_when_full;
  /* Parse the len unread bytes at buf.  Return how many were consumed
   * (0: need more), or -1 for a protocol error: the connection is then
   * closed once its output is written.  Must not consume more than one
   * request if it holds the connection. */
  long (*request)(struct conn *c, char *buf, size_t len);
  /* The buffer is full and request() still wants more (optional: the
   * default closes the connection). */
  void (*overflow)(struct conn *c);
  void (*closed)(struct conn *c);        /* optional */
  void (*reload)(void *ctx);             /* SIGHUP (optional) */
  void (*tick)(void *ctx);               /* about once a second (optional) */
  /* Optional: milliseconds until the daemon's next own deadline (-1 for
   * none); expire() is called after every wait. */
  int (*next_timeout)(void *ctx);
  void (*expire)(void *ctx);
};

struct server *server_new(const struct server_ops *ops, void *ctx);

/* "unix:/path" or "inet:ADDR:PORT" ("ADDR:PORT" alone means inet;
 * ADDR is IPv4 or [IPv6]).  A unix socket nobody answers is replaced
 * and the new one gets mode.  Exits 111 if the socket cannot be made,
 * 100 if the spec is malformed or something other than a socket is at
 * the unix path (it is left alone). */
void server_listen(struct server *s, const char *spec, unsigned mode);
/* Several specs separated by commas and/or spaces; a list with none
 * exits 100. */
void server_listen_list(struct server *s, const char *specs, unsigned mode);
/* Whether a spec, read as server_listen() reads it, stays on this host:
 * 1 for a unix socket or TCP on loopback (127.0.0.0/8, [::1], or
 * [::ffff:127.x.y.z]), 0 for TCP elsewhere, -1 if it is malformed. */
int server_spec_local(const char *spec);
/* Checks a listen list before anything starts: exits 100, naming the
 * setting, if it holds no spec or a malformed one, or (local_only, for
 * a protocol with no access control) one that is not local. */
void server_check_listen(const char *setting, const char *specs,
                         int local_only);
/* server_check_listen(setting, specs, 1). */
void server_need_local(const char *setting, const char *specs);

/* Runs until SIGTERM/SIGINT and the drain; returns the exit code. */
int server_run(struct server *s);
void server_stop(struct server *s);

/* Watch another descriptor (events WATCH_IN|WATCH_OUT; 0 removes). */
void server_watch(struct server *s, int fd, unsigned events,
                  void (*cb)(void *arg, int fd, unsigned events), void *arg);

void *server_ctx(const struct server *s);
unsigned server_conns(const struct server *s);

void conn_write(struct conn *c, const char *buf, size_t len);
void conn_hold(struct conn *c);
/* Resume parsing buffered input after a held request was answered. */
void conn_release(struct conn *c);
/* Close once pending output is written. */
void conn_close(struct conn *c);
void conn_set_data(struct conn *c, void *data);
void *conn_data(const struct conn *c);
struct server *conn_server(const struct conn *c);
unsigned long conn_id(const struct conn *c);
/* Which listener accepted it: 0 for the first server_listen() call, 1 for
 * the second, and so on (a daemon serving two protocols tells them apart
 * by this). */
unsigned conn_listener(const struct conn *c);

/* Monotonic clock in microseconds. */
unsigned long long now_usec(void);

#endif
