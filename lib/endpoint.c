/* endpoint.c - parse, judge and dial the addresses of endpoint.h. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <ip4.h>
#include <ip6.h>
#include <scan.h>
#include <socket.h>
#include "endpoint.h"

static int parse_inet(const char *p, struct endpoint *e)
{
  unsigned long port;
  size_t n;
  int v6 = *p == '[';

  memset(e->ip, 0, sizeof e->ip);
  n = v6 ? scan_ip6(p + 1, e->ip) : scan_ip4(p, e->ip);
  if (n == 0) return -1;
  p += n + (v6 ? 1 : 0);
  if (v6 && *p++ != ']') return -1;
  if (*p != ':' || !p[1] || scan_ulong(p + 1, &port) != strlen(p + 1)
      || port == 0 || port > 65535)
    return -1;
  e->kind = v6 ? EP_INET6 : EP_INET4;
  e->port = (unsigned)port;
  return 0;
}

int endpoint_next(const char **list, char *one, size_t room)
{
  const char *p = *list + strspn(*list, ", ");
  size_t n = strcspn(p, ", ");

  *list = p;
  if (!n) return 0;
  if (n >= room) return -1;
  memcpy(one, p, n);
  one[n] = 0;
  *list = p + n;
  return 1;
}

int endpoint_parse(const char *spec, struct endpoint *e)
{
  struct sockaddr_un sun;

  memset(e, 0, sizeof *e);
  if (!strncmp(spec, "unix:", 5) || spec[0] == '/') {
    e->kind = EP_UNIX;
    e->path = spec[0] == '/' ? spec : spec + 5;
    /* absolute: a relative path would hang on the daemon's working
     * directory; the path and its NUL must fit in sun_path */
    return e->path[0] == '/' && strlen(e->path) < sizeof sun.sun_path
           ? 0 : -1;
  }
  if (!strncmp(spec, "inet:", 5)) spec += 5;
  return parse_inet(spec, e);
}

int endpoint_local(const struct endpoint *e)
{
  switch (e->kind) {
  case EP_UNIX: return 1;
  case EP_INET4: return (unsigned char)e->ip[0] == 127;
  case EP_INET6:
    return !memcmp(e->ip, V6loopback, 16)
           || (ip6_isv4mapped(e->ip) && (unsigned char)e->ip[12] == 127);
  }
  return 0;
}

/* Closes fd keeping errno, names the failed step; returns -1. */
static int failed(int fd, const char *step, const char **what)
{
  int err = errno;

  if (fd >= 0) close(fd);
  errno = err;
  *what = step;
  return -1;
}

static int dial_unix(const char *path)
{
  struct sockaddr_un sun;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const char *step;

  if (fd < 0) return -1;
  memset(&sun, 0, sizeof sun);
  sun.sun_family = AF_UNIX;
  memcpy(sun.sun_path, path, strlen(path) + 1);
  if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0) return fd;
  return failed(fd, "connect", &step);
}

/* Whether a server answers at path: its file is then no stale leftover
 * to remove, and taking it over would split the clients between two
 * servers (a second instance started by mistake). */
static int unix_live(const char *path)
{
  int fd = dial_unix(path);

  if (fd >= 0) { close(fd); return 1; }
  /* a datagram or seqpacket socket refuses a stream: someone else's
   * (syslog's /dev/log, say), live, no leftover of ours */
  return errno == EPROTOTYPE;
}

/* What lstat found at a unix path, for the message that refuses it. */
static const char *file_kind(mode_t m)
{
  if (S_ISREG(m)) return "a regular file";
  if (S_ISDIR(m)) return "a directory";
  if (S_ISLNK(m)) return "a symbolic link";
  if (S_ISFIFO(m)) return "a named pipe";
  if (S_ISCHR(m) || S_ISBLK(m)) return "a device";
  return "a file that is not a socket";
}

/* Clears path for bind().  Only a socket nobody answers is a leftover
 * of a server that stopped; anything else there (a CDB, a directory, a
 * symbolic link, not followed) is a path set by mistake, and removing
 * it would lose data: refused with ENOTSOCK, *what naming it. */
static int clear_path(const char *path, const char **what)
{
  struct stat st;

  if (lstat(path, &st) < 0) {
    if (errno == ENOENT) return 0;
    *what = "examine the socket path";
    return -1;
  }
  if (!S_ISSOCK(st.st_mode)) {
    *what = file_kind(st.st_mode);
    errno = ENOTSOCK;
    return -1;
  }
  if (unix_live(path)) {
    *what = "take over the live socket";
    errno = EADDRINUSE;
    return -1;
  }
  if (unlink(path) < 0 && errno != ENOENT) {
    *what = "remove stale socket";
    return -1;
  }
  return 0;
}

static int listen_unix(const char *path, unsigned mode, const char **what)
{
  struct sockaddr_un sun;
  int fd;

  if (clear_path(path, what) < 0) return -1;
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return failed(fd, "create socket for", what);
  memset(&sun, 0, sizeof sun);
  sun.sun_family = AF_UNIX;
  memcpy(sun.sun_path, path, strlen(path) + 1);
  if (bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0)
    return failed(fd, "bind", what);
  if (chmod(path, mode) < 0) return failed(fd, "chmod", what);
  if (listen(fd, 1024) < 0) return failed(fd, "listen on", what);
  return fd;
}

static int listen_inet(const struct endpoint *e, const char **what)
{
  int v6 = e->kind == EP_INET6, one = 1;
  int fd = v6 ? socket_tcp6b() : socket_tcp4b();

  if (fd < 0) return failed(fd, "create socket for", what);
  /* SO_REUSEADDR lets a restarted server bind past TIME_WAIT; not
   * libowfat's _reuse, which adds SO_REUSEPORT and so lets a second
   * server bind the same port and take half the clients */
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
    return failed(fd, "set SO_REUSEADDR on", what);
  if ((v6 ? socket_bind6(fd, e->ip, (uint16)e->port, 0)
          : socket_bind4(fd, e->ip, (uint16)e->port)) < 0)
    return failed(fd, "bind", what);
  if (socket_listen(fd, 1024) < 0) return failed(fd, "listen on", what);
  if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0
      || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
    return failed(fd, "set flags of", what);
  return fd;
}

int endpoint_listen(const struct endpoint *e, unsigned mode,
                    const char **what)
{
  if (e->kind == EP_UNIX) return listen_unix(e->path, mode, what);
  return listen_inet(e, what);
}

static int dial_inet(const struct endpoint *e)
{
  int v6 = e->kind == EP_INET6, one = 1;
  int fd = v6 ? socket_tcp6b() : socket_tcp4b();
  const char *step;

  if (fd < 0) return -1;
  /* request and answer are each one small write: no Nagle delay */
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if ((v6 ? socket_connect6(fd, e->ip, (uint16)e->port, 0)
          : socket_connect4(fd, e->ip, (uint16)e->port)) == 0)
    return fd;
  return failed(fd, "connect", &step);
}

int dial(const char *spec)
{
  struct endpoint e;

  if (endpoint_parse(spec, &e) < 0) { errno = EINVAL; return -1; }
  return e.kind == EP_UNIX ? dial_unix(e.path) : dial_inet(&e);
}
