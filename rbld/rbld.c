/* rbld.c - the daemon: rbldnsd's command line, sockets, privileges,
 * workers and the reload loop.
 *
 * Workers are threads, each with its own SO_REUSEPORT UDP socket per
 * address, reading and writing in batches (recvmmsg/sendmmsg).  They
 * answer from the current snapshot; the main thread loads changed
 * datasets aside, publishes a new snapshot with one atomic store, waits
 * until no worker still holds the old one, then frees it.  So answering
 * never stops for a reload, and a reload that fails changes nothing.
 * One more thread answers over TCP, which rbldnsd does not do. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <malloc.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include "log.h"
#include "rbld.h"
#include "zone.h"

#define BATCH 64
#define GROUP 16
#define PKT 4096
#define MAX_ADDR 16
#define MAX_WORKERS 64
#define TCP_CONNS 64
#define TCP_IDLE_MS 5000

struct opts g_opts = { 2100, 0, 0, 0, 0, 0 };

struct stats { unsigned long long q, ok, nxd, err, bin, bout; };

struct worker {
  pthread_t th;
  int fd[MAX_ADDR];
  unsigned nfd;
  _Atomic(struct zoneset *) inuse;
  struct stats *st;            /* per zone, then one for "no zone" */
  int index;
};

static struct {
  struct config cfg;
  _Atomic(struct zoneset *) snap;
  struct worker w[MAX_WORKERS];
  unsigned nw;
  char *addr[MAX_ADDR];
  unsigned naddr;
  int tcpfd[MAX_ADDR];
  unsigned ntcp;
  const char *user, *root, *workdir, *pidfile, *statsfile, *logfile;
  uint32_t check;
  int foreground, quiet, logfd, logflush;
  struct tcp_stats { _Atomic unsigned long long q; } tcp;
} G;

static void usage(void)
{
  die_msg(EXIT_PERM, "usage: rbld -b addr[/port] [-u user[:group]] "
          "[-r root] [-w dir] [-t def:min:max] [-c check] [-enaACqv] "
          "[-p pidfile] [-s statsfile] [-l logfile] [-W workers] "
          "zone:type:file[,file...] ...", NULL);
}

static int64_t ms_now(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- answering ---- */

static struct zoneset *hold(struct worker *w)
{
  struct zoneset *s;

  for (;;) {                  /* publish, then re-check: see snapshot_swap */
    s = atomic_load(&G.snap);
    atomic_store(&w->inuse, s);
    if (atomic_load(&G.snap) == s) return s;
  }
}

static void count(struct stats *st, const struct zoneset *zs, int zi,
                  int rcode, size_t in, size_t out)
{
  struct stats *s = &st[zi >= 0 ? (unsigned)zi : zs->nz];

  s->q++;
  s->bin += in;
  s->bout += out;
  if (rcode == 0) s->ok++;
  else if (rcode == 3) s->nxd++;
  else s->err++;
}

static void query_log(const uint8_t *q, size_t n, const struct sockaddr *sa,
                      int rcode, size_t outlen)
{
  char line[600], ip[64] = "?", name[DN_MAX * 4 + 2];
  size_t p = 12, o = 0;
  int l;

  if (G.logfd < 0 || n < 17) return;
  if (sa->sa_family == AF_INET)
    inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, ip,
              sizeof ip);
  else if (sa->sa_family == AF_INET6)
    inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, ip,
              sizeof ip);
  while (p < n && q[p] && q[p] < 64 && o < sizeof name - 70) {
    unsigned k, len = q[p++];
    if (o) name[o++] = '.';
    for (k = 0; k < len && p < n; k++, p++)
      name[o++] = (q[p] > 32 && q[p] < 127) ? (char)q[p] : '?';
  }
  name[o] = 0;
  if (p + 5 > n) return;
  l = snprintf(line, sizeof line, "%lu %s %s type%u class%u: rcode%d/%zu\n",
               (unsigned long)time(NULL), ip, o ? name : ".",
               (q[p + 1] << 8) | q[p + 2], (q[p + 3] << 8) | q[p + 4],
               rcode, outlen);
  if (l > 0) (void)!write(G.logfd, line, (size_t)l);
}

/* recvmmsg and sendmmsg without libc's wrappers: those are thread
 * cancellation points, and entering and leaving the asynchronous
 * cancellation state cost about as much user time as the calls
 * themselves at one query a call.  rbld never cancels a thread. */
static int recv_batch(int fd, struct mmsghdr *m, unsigned n, int flags)
{
  return (int)syscall(SYS_recvmmsg, fd, m, n, flags, NULL);
}

static int send_batch(int fd, struct mmsghdr *m, unsigned n)
{
  return (int)syscall(SYS_sendmmsg, fd, m, n, 0);
}

/* Queries i to i + GROUP of a batch read and their lookups' memory
 * asked for, before the first of them is answered (see reply_prepare).
 * A group, not the whole batch: what 64 queries ask for would not all
 * stay in the first-level cache until their turn. */
static void prepare_group(const struct zoneset *zs, const struct mmsghdr *rm,
                          uint8_t (*in)[PKT], struct query *qs, unsigned i,
                          unsigned n)
{
  unsigned e = i + GROUP < n ? i + GROUP : n, j;

  for (j = i; j < e; j++)
    reply_prepare(zs, in[j], rm[j].msg_len, &qs[j - i]);
  for (j = i; j < e; j++) reply_prefetch(&qs[j - i]);
}

static void *worker_run(void *arg)
{
  struct worker *w = arg;
  uint8_t (*in)[PKT] = malloc(BATCH * PKT), (*out)[PKT] = malloc(BATCH * PKT);
  struct query *qs = malloc(GROUP * sizeof *qs);
  struct mmsghdr rm[BATCH], sm[BATCH];
  struct iovec riov[BATCH], siov[BATCH];
  struct sockaddr_storage from[BATCH];
  struct pollfd pf[MAX_ADDR];
  unsigned i, k;
  int n, m;

  if (!in || !out || !qs) die_msg(EXIT_TEMP, "out of memory", NULL);
  /* set up once; after each call only what the kernel changed is reset,
   * so a batch of one costs no more than one packet's worth of work */
  memset(rm, 0, sizeof rm);
  memset(sm, 0, sizeof sm);
  for (i = 0; i < BATCH; i++) {
    riov[i].iov_base = in[i]; riov[i].iov_len = PKT;
    rm[i].msg_hdr.msg_iov = &riov[i]; rm[i].msg_hdr.msg_iovlen = 1;
    rm[i].msg_hdr.msg_name = &from[i];
    rm[i].msg_hdr.msg_namelen = sizeof from[i];
    siov[i].iov_base = out[i];
    sm[i].msg_hdr.msg_iov = &siov[i]; sm[i].msg_hdr.msg_iovlen = 1;
  }
  for (;;) {
    if (w->nfd > 1) {
      for (i = 0; i < w->nfd; i++) {
        pf[i].fd = w->fd[i];
        pf[i].events = POLLIN;
      }
      if (poll(pf, w->nfd, -1) < 0) continue;
    }
    for (k = 0; k < w->nfd; k++) {
      if (w->nfd > 1 && !(pf[k].revents & POLLIN)) continue;
      n = recv_batch(w->fd[k], rm, BATCH,
                     w->nfd > 1 ? MSG_DONTWAIT : MSG_WAITFORONE);
      if (n <= 0) continue;
      struct zoneset *zs = hold(w);
      for (i = 0, m = 0; i < (unsigned)n; i++) {
        struct peer p = { (struct sockaddr *)&from[i],
                          rm[i].msg_hdr.msg_namelen };
        int zi, rc;
        size_t len;
        if (i % GROUP == 0) prepare_group(zs, rm, in, qs, i, (unsigned)n);
        len = reply_answer(zs, &qs[i % GROUP], in[i], out[m], PKT, 0, &p,
                           &zi, &rc);
        count(w->st, zs, zi, rc, rm[i].msg_len, len);
        if (G.logfd >= 0 && len) query_log(in[i], rm[i].msg_len, p.sa, rc, len);
        if (!len) continue;
        siov[m].iov_len = len;
        sm[m].msg_hdr.msg_name = &from[i];
        sm[m].msg_hdr.msg_namelen = rm[i].msg_hdr.msg_namelen;
        m++;
      }
      for (i = 0; i < (unsigned)n; i++)
        rm[i].msg_hdr.msg_namelen = sizeof from[i];
      atomic_store(&w->inuse, NULL);
      for (i = 0; i < (unsigned)m; ) {
        int s = send_batch(w->fd[k], sm + i, (unsigned)m - i);
        if (s <= 0) { if (s < 0 && errno == EINTR) continue; break; }
        i += (unsigned)s;
      }
    }
  }
  return NULL;
}

/* ---- TCP (RFC 7766): one thread, poll, a length-prefixed query at a
 * time per connection; a connection is closed 5 s after its last
 * complete query (bytes dribbled in do not keep it), and when all
 * slots are taken a new one takes the slot idle the longest ---- */

struct tconn {
  int fd;
  int64_t last;
  uint8_t in[2 + PKT];
  size_t have;
  uint8_t *out;
  size_t olen, osent;
};

static void tcp_close(struct tconn *c)
{
  close(c->fd);
  c->fd = -1;
  free(c->out);
  c->out = NULL;
}

static int tcp_flush(struct tconn *c)
{
  while (c->osent < c->olen) {
    ssize_t r = send(c->fd, c->out + c->osent, c->olen - c->osent,
                     MSG_DONTWAIT | MSG_NOSIGNAL);
    if (r < 0) return errno == EAGAIN ? 1 : 0;
    c->osent += (size_t)r;
  }
  c->olen = c->osent = 0;
  return 1;
}

static int tcp_answer(struct tconn *c, struct worker *w)
{
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  size_t qlen, len;
  int zi, rc;

  while (c->olen == 0 && c->have >= 2 &&
         c->have >= 2 + (qlen = (size_t)c->in[0] << 8 | c->in[1])) {
    struct zoneset *zs;
    struct peer p;
    if (!c->out && !(c->out = malloc(2 + 65535))) return 0;
    getpeername(c->fd, (struct sockaddr *)&ss, &sl);
    p.sa = (struct sockaddr *)&ss;
    p.len = sl;
    zs = hold(w);
    len = reply(zs, c->in + 2, qlen, c->out + 2, 65535, 1, &p, &zi, &rc);
    count(w->st, zs, zi, rc, qlen, len);
    if (G.logfd >= 0 && len) query_log(c->in + 2, qlen, p.sa, rc, len);
    atomic_store(&w->inuse, NULL);
    memmove(c->in, c->in + 2 + qlen, c->have - 2 - qlen);
    c->have -= 2 + qlen;
    c->last = ms_now();                /* idle time counts from here */
    if (!len) return 0;                /* malformed: drop the connection */
    c->out[0] = (uint8_t)(len >> 8);
    c->out[1] = (uint8_t)len;
    c->olen = len + 2;
    c->osent = 0;
    if (!tcp_flush(c)) return 0;
  }
  return 1;
}

/* The slot for a new connection: a free one, else the connection idle
   the longest, one without a query or answer in progress first, so
   that idle clients cannot lock new queries out. */
static int tcp_slot(struct tconn *cs)
{
  int i, old = -1, busy = -1;

  for (i = 0; i < TCP_CONNS; i++) {
    if (cs[i].fd < 0) return i;
    if (cs[i].have || cs[i].olen) {
      if (busy < 0 || cs[i].last < cs[busy].last) busy = i;
    } else if (old < 0 || cs[i].last < cs[old].last) old = i;
  }
  i = old >= 0 ? old : busy;
  tcp_close(&cs[i]);
  return i;
}

static void tcp_accept(int lfd, struct tconn *cs)
{
  int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), i;

  if (fd < 0) return;
  i = tcp_slot(cs);
  cs[i].fd = fd;
  cs[i].have = cs[i].olen = cs[i].osent = 0;
  cs[i].last = ms_now();
}

static void tcp_io(struct tconn *c, short rev, struct worker *w)
{
  ssize_t r;

  if ((rev & POLLOUT) && !tcp_flush(c)) { tcp_close(c); return; }
  if (rev & (POLLIN | POLLHUP | POLLERR)) {
    if (c->have >= sizeof c->in) { tcp_close(c); return; }
    r = recv(c->fd, c->in + c->have, sizeof c->in - c->have, MSG_DONTWAIT);
    if (r <= 0) { if (r < 0 && errno == EAGAIN) return; tcp_close(c); return; }
    c->have += (size_t)r;
    if (c->have >= 2 && ((size_t)c->in[0] << 8 | c->in[1]) > PKT) {
      tcp_close(c);                    /* no query of ours is that big */
      return;
    }
  }
  if (!tcp_answer(c, w)) tcp_close(c);
}

static void *tcp_run(void *arg)
{
  struct worker *w = arg;
  static struct tconn cs[TCP_CONNS];
  struct pollfd pf[MAX_ADDR + TCP_CONNS];
  int map[MAX_ADDR + TCP_CONNS];
  unsigned i, n;

  for (i = 0; i < TCP_CONNS; i++) cs[i].fd = -1;
  for (;;) {
    int64_t now = ms_now();
    n = 0;
    for (i = 0; i < G.ntcp; i++) {
      pf[n].fd = G.tcpfd[i]; pf[n].events = POLLIN; map[n++] = -1;
    }
    for (i = 0; i < TCP_CONNS; i++) {
      if (cs[i].fd < 0) continue;
      if (now - cs[i].last > TCP_IDLE_MS) { tcp_close(&cs[i]); continue; }
      pf[n].fd = cs[i].fd;
      pf[n].events = cs[i].olen ? POLLOUT : POLLIN;
      map[n++] = (int)i;
    }
    if (poll(pf, n, 1000) <= 0) continue;
    for (i = 0; i < n; i++) {
      if (!pf[i].revents) continue;
      if (map[i] < 0) tcp_accept(pf[i].fd, cs);
      else if (cs[map[i]].fd >= 0) tcp_io(&cs[map[i]], pf[i].revents, w);
    }
  }
  return NULL;
}

/* ---- sockets ---- */

static struct addrinfo *resolve(const char *spec, int type)
{
  char host[256], *port = "53", *sl;
  struct addrinfo hints, *ai = NULL;

  if (strlen(spec) >= sizeof host) die_msg(EXIT_PERM, "address too long", spec);
  strcpy(host, spec);
  if ((sl = strrchr(host, '/'))) { *sl = 0; port = sl + 1; }
  memset(&hints, 0, sizeof hints);
  hints.ai_socktype = type;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
  if (getaddrinfo(*host ? host : NULL, port, &hints, &ai) || !ai)
    die_msg(EXIT_PERM, "unable to parse listen address (-b addr/port)", spec);
  return ai;
}

static int open_sock(const struct addrinfo *ai, int type, const char *spec)
{
  int fd = socket(ai->ai_family, type | SOCK_CLOEXEC, 0), one = 1;
  int buf = 4 << 20;

  if (fd < 0) die_sys(EXIT_TEMP, "create socket for", spec);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (type == SOCK_STREAM)
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  else if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf) < 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  if (ai->ai_family == AF_INET6)
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0)
    die_sys(EXIT_TEMP, "bind", spec);
  if (type == SOCK_STREAM && listen(fd, 128) < 0)
    die_sys(EXIT_TEMP, "listen on", spec);
  return fd;
}

static void open_sockets(void)
{
  unsigned a, i;

  for (a = 0; a < G.naddr; a++) {
    struct addrinfo *u = resolve(G.addr[a], SOCK_DGRAM);
    struct addrinfo *t = resolve(G.addr[a], SOCK_STREAM);
    for (i = 0; i < G.nw; i++)
      G.w[i].fd[G.w[i].nfd++] = open_sock(u, SOCK_DGRAM, G.addr[a]);
    G.tcpfd[G.ntcp++] = open_sock(t, SOCK_STREAM, G.addr[a]);
    freeaddrinfo(u);
    freeaddrinfo(t);
  }
}

/* ---- privileges: resolve, chroot, chdir, groups, gid, uid ---- */

static void drop_privileges(void)
{
  struct passwd *pw = NULL;
  struct group *gr;
  char user[128], *colon;
  gid_t gid;

  if (!G.user) G.user = "rbldns";
  if (strlen(G.user) >= sizeof user) die_msg(EXIT_PERM, "bad -u", G.user);
  strcpy(user, G.user);
  if ((colon = strchr(user, ':'))) *colon++ = 0;
  if (!(pw = getpwnam(user))) die_msg(EXIT_PERM, "unknown user", user);
  gid = pw->pw_gid;
  if (colon) {
    if (!(gr = getgrnam(colon))) die_msg(EXIT_PERM, "unknown group", colon);
    gid = gr->gr_gid;
  }
  if (pw->pw_uid == 0)
    die_msg(EXIT_PERM, "refusing to run as root: give -u user", NULL);
  if (G.root && (chroot(G.root) < 0 || chdir("/") < 0))
    die_sys(EXIT_TEMP, "chroot to", G.root);
  if (G.workdir && chdir(G.workdir) < 0)
    die_sys(EXIT_TEMP, "chdir to", G.workdir);
  if (getuid() == 0 && setgroups(1, &gid) < 0)
    die_sys(EXIT_TEMP, "setgroups for", user);
  if (setgid(gid) < 0) die_sys(EXIT_TEMP, "setgid for", user);
  if (setuid(pw->pw_uid) < 0) die_sys(EXIT_TEMP, "setuid to", user);
  if (getuid() == 0 || geteuid() == 0)
    die_msg(EXIT_TEMP, "still root after setuid", user);
}

/* ---- reloads ---- */

static void snapshot_swap(struct zoneset *ns)
{
  struct zoneset *old = atomic_exchange(&G.snap, ns);
  unsigned i;

  if (!old) { config_free_retired(&G.cfg); malloc_trim(0); return; }
  /* A worker publishes what it holds before it re-reads G.snap, so once
   * none shows old, none can pick it up any more. */
  /* no time limit: freeing data a worker still reads would be worse
   * than waiting, and a worker holds a snapshot only for one batch */
  for (i = 0; i < G.nw + 1; i++)
    while (atomic_load(&G.w[i].inuse) == old) {
      struct timespec ts = { 0, 200000 };
      nanosleep(&ts, NULL);
    }
  snapshot_free(old);
  config_free_retired(&G.cfg);
  malloc_trim(0);
}

static void check_now(int first)
{
  int n = config_check(&G.cfg, first);
  struct zoneset *zs;

  if (n < 0 && !G.quiet)
    die_msg(EXIT_TEMP, "unable to load the data (see the warnings above)",
            NULL);
  if (!first && n == 0) {
    /* datasets may still expire ($TIMESTAMP) */
    time_t now = time(NULL);
    unsigned i, j, exp = 0;
    for (i = 0; i < G.cfg.ns; i++)
      if (G.cfg.s[i].cur && G.cfg.s[i].cur->expires &&
          G.cfg.s[i].cur->expires < now) exp = 1;
    if (!exp) return;
    (void)j;
  }
  if (!(zs = snapshot_build(&G.cfg))) {
    warn_msg("out of memory building a snapshot; keeping the old one", NULL);
    return;
  }
  snapshot_swap(zs);
}

/* The statistics line: the time, then zone:queries:ok:nxdomain:in:out
 * for each zone and "*" for all.  Its buffer is sized for the zones
 * (names and six numbers of at most 20 digits each), so no zone is
 * ever cut off however many there are. */
static char *stats_buf(size_t *size)
{
  size_t n = 160;                  /* the time, " *:" and five numbers */
  unsigned z;

  for (z = 0; z < G.cfg.nz; z++) n += strlen(G.cfg.z[z].name) + 6 * 21 + 2;
  *size = n;
  return malloc(n);
}

static void write_stats(int fd)
{
  char *buf = NULL;
  size_t o = 0, size = 0;
  unsigned z, i;
  struct stats tot = { 0, 0, 0, 0, 0, 0 };

  if (fd >= 0) {
    if (!(buf = stats_buf(&size))) {
      warn_msg("out of memory writing statistics", NULL);
      return;
    }
    o = (size_t)snprintf(buf, size, "%lu", (unsigned long)time(NULL));
  }
  for (z = 0; z <= G.cfg.nz; z++) {
    struct stats s = { 0, 0, 0, 0, 0, 0 };
    for (i = 0; i < G.nw + 1; i++) {
      struct stats *p = &G.w[i].st[z];
      s.q += p->q; s.ok += p->ok; s.nxd += p->nxd;
      s.bin += p->bin; s.bout += p->bout; s.err += p->err;
    }
    tot.q += s.q; tot.ok += s.ok; tot.nxd += s.nxd;
    tot.bin += s.bin; tot.bout += s.bout;
    if (z == G.cfg.nz) break;
    if (fd >= 0)
      o += (size_t)snprintf(buf + o, size - o,
                            " %s:%llu:%llu:%llu:%llu:%llu",
                            G.cfg.z[z].name, s.q, s.ok, s.nxd, s.bin, s.bout);
    if (fd < 0) {
      struct logline l;
      log_start(&l, "info", "stats");
      log_str(&l, "zone", G.cfg.z[z].name);
      log_uint(&l, "queries", s.q);
      log_uint(&l, "ok", s.ok);
      log_uint(&l, "nxdomain", s.nxd);
      log_uint(&l, "other", s.err);
      log_end(&l);
    }
  }
  if (fd >= 0) {
    o += (size_t)snprintf(buf + o, size - o,
                          " *:%llu:%llu:%llu:%llu:%llu\n",
                          tot.q, tot.ok, tot.nxd, tot.bin, tot.bout);
    (void)!write(fd, buf, o);
    free(buf);
  }
}

static void stats_file(void)
{
  const char *f = G.statsfile;
  int fd;

  if (!f) return;
  if (*f == '+') f++;
  fd = open(f, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) { warn_sys("open statistics file", f); return; }
  write_stats(fd);
  close(fd);
}

static void main_loop(void)
{
  sigset_t set;
  int64_t next = ms_now() + (int64_t)G.check * 1000;

  sigemptyset(&set);
  sigaddset(&set, SIGHUP); sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT); sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGUSR2);
  for (;;) {
    int64_t now = ms_now(), wait = G.check ? next - now : 3600000;
    struct timespec ts;
    int sig;
    if (wait < 0) wait = 0;
    ts.tv_sec = wait / 1000;
    ts.tv_nsec = (wait % 1000) * 1000000;
    sig = sigtimedwait(&set, NULL, &ts);
    if (sig == SIGTERM || sig == SIGINT) {
      write_stats(-1);
      _exit(0);              /* nothing buffered: every line is a write */
    }
    if (sig == SIGUSR1 || sig == SIGUSR2) { write_stats(-1); continue; }
    if (sig == SIGHUP || (G.check && ms_now() >= next)) {
      check_now(0);
      stats_file();
      if (G.check) next = ms_now() + (int64_t)G.check * 1000;
    }
  }
}

/* ---- options ---- */

static void parse_ttls(char *s)
{
  uint32_t v[3] = { g_opts.defttl, g_opts.minttl, g_opts.maxttl };
  int i;

  for (i = 0; i < 3 && *s; i++) {
    if (*s != ':') {
      if (!(s = parse_time(s, &v[i]))) die_msg(EXIT_PERM, "bad -t value", NULL);
    }
    if (*s == ':') s++;
    else if (*s) die_msg(EXIT_PERM, "bad -t value", NULL);
  }
  g_opts.defttl = v[0] ? v[0] : 2100;
  g_opts.minttl = v[1];
  g_opts.maxttl = v[2];
}

static unsigned default_workers(void)
{
  cpu_set_t cs;
  int n;

  if (sched_getaffinity(0, sizeof cs, &cs) < 0) return 1;
  n = CPU_COUNT(&cs);
  return n < 1 ? 1 : n > 8 ? 8 : (unsigned)n;
}

static void options(int argc, char **argv)
{
  int o, vflag = 0;
  uint32_t t;

  G.check = 60;
  G.logfd = -1;
  while ((o = getopt(argc, argv,
                     "u:r:w:b:46t:c:eqnfdvCaAp:l:s:x:X:F:W:h")) != -1)
    switch (o) {
    case 'u': G.user = optarg; break;
    case 'r': G.root = optarg; break;
    case 'w': G.workdir = optarg; break;
    case 'b':
      if (G.naddr >= MAX_ADDR) die_msg(EXIT_PERM, "too many -b", NULL);
      G.addr[G.naddr++] = optarg; break;
    case 't': parse_ttls(optarg); break;
    case 'c':
      if (!parse_time(optarg, &t)) die_msg(EXIT_PERM, "bad -c", optarg);
      G.check = t; break;
    case 'e': g_opts.accept_host_bits = 1; break;
    case 'q': G.quiet = 1; break;
    case 'n': G.foreground = 1; break;
    case 'a': g_opts.lazy = 1; break;
    case 'A': g_opts.lazy = 0; break;
    case 'C': g_opts.nogzip = 1; break;
    case 'v': version_text = ++vflag > 1 ? NULL : "rbld"; break;
    case 'p': G.pidfile = optarg; break;
    case 's': G.statsfile = optarg; break;
    case 'l': G.logfile = optarg; break;
    case 'W': G.nw = (unsigned)atoi(optarg);
      if (G.nw < 1 || G.nw > MAX_WORKERS - 1)
        die_msg(EXIT_PERM, "bad -W", optarg);
      break;
    case '4': case '6': case 'f': case 'x': case 'X': case 'F': break;
    case 'd': die_msg(EXIT_PERM, "-d (dump) is not supported", NULL);
    default: usage();
    }
  if (!G.naddr || optind >= argc) usage();
  if (!G.nw) G.nw = default_workers();
}

static void open_log(void)
{
  const char *f = G.logfile;

  if (!f) return;
  if (*f == '+') { G.logflush = 1; f++; }
  if (!strcmp(f, "-")) { G.logfd = 1; return; }
  G.logfd = open(f, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (G.logfd < 0) die_sys(EXIT_TEMP, "open query log", f);
}

static void start_threads(void)
{
  sigset_t all;
  pthread_attr_t attr;
  unsigned i, nz = G.cfg.nz + 1;

  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, NULL);
  for (i = 0; i < G.nw + 1; i++)
    if (!(G.w[i].st = calloc(nz, sizeof *G.w[i].st)))
      die_msg(EXIT_TEMP, "out of memory", NULL);
  /* a fixed stack: under softlimit -m the default would be the whole
   * stack limit, for every thread */
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 1 << 20);
  for (i = 0; i < G.nw; i++)
    if (pthread_create(&G.w[i].th, &attr, worker_run, &G.w[i]))
      die_msg(EXIT_TEMP, "unable to start a worker thread", NULL);
  if (pthread_create(&G.w[G.nw].th, &attr, tcp_run, &G.w[G.nw]))
    die_msg(EXIT_TEMP, "unable to start the TCP thread", NULL);
}

int main(int argc, char **argv)
{
  struct logline l;
  int i, pidfd = -1;
  const char *err;

  log_init("rbld");
  signal(SIGPIPE, SIG_IGN);
  /* Big load-time arrays come from mmap and go back to the system when
   * freed, instead of staying in a heap that only grows. */
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  mallopt(M_TRIM_THRESHOLD, 256 * 1024);
  mallopt(M_ARENA_MAX, 2);
  options(argc, argv);
  G.cfg.gacl = -1;
  for (i = optind; i < argc; i++)
    if (!config_add(&G.cfg, argv[i], &err)) die_msg(EXIT_PERM, err, argv[i]);
  open_sockets();
  if (G.pidfile) {
    pidfd = open(G.pidfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (pidfd < 0) die_sys(EXIT_TEMP, "create pid file", G.pidfile);
  }
  drop_privileges();
  open_log();
  check_now(1);
  if (!G.foreground) {
    pid_t p = fork();
    if (p < 0) die_sys(EXIT_TEMP, "fork", NULL);
    if (p > 0) _exit(0);
    setsid();
  }
  if (pidfd >= 0) {
    char b[32];
    int n = snprintf(b, sizeof b, "%ld\n", (long)getpid());
    (void)!write(pidfd, b, (size_t)n);
    close(pidfd);
  }
  start_threads();
  log_start(&l, "info", "start");
  log_uint(&l, "zones", G.cfg.nz);
  log_uint(&l, "datasets", G.cfg.ns);
  log_uint(&l, "workers", G.nw);
  log_end(&l);
  stats_file();
  main_loop();
  return 0;
}
