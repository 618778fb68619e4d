/* t_endpoint.c - the address grammar, the loopback judgement, dial(). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "endpoint.h"
#include "test.h"

static void test_parse(void)
{
  static const struct {
    const char *spec;
    int kind;              /* 0: refused */
    unsigned port;
    int local;
  } cases[] = {
    { "unix:/run/imgate/greyd.sock", EP_UNIX, 0, 1 },
    { "/run/imgate/greyd.sock", EP_UNIX, 0, 1 },
    { "unix:", 0, 0, 0 },
    { "unix:relative/greyd.sock", 0, 0, 0 },
    { "unix:/", EP_UNIX, 0, 1 },
    { "127.0.0.1:10023", EP_INET4, 10023, 1 },
    { "inet:127.1.2.3:1", EP_INET4, 1, 1 },
    { "inet:[::1]:65535", EP_INET6, 65535, 1 },
    { "[::1]:25", EP_INET6, 25, 1 },
    { "0.0.0.0:25", EP_INET4, 25, 0 },
    { "[::]:25", EP_INET6, 25, 0 },
    { "10.0.0.1:25", EP_INET4, 25, 0 },
    { "[::ffff:127.0.0.1]:25", EP_INET6, 25, 1 },
    { "[::ffff:10.0.0.1]:25", EP_INET6, 25, 0 },
    { "128.0.0.1:25", EP_INET4, 25, 0 },
    { "127.0.0.1:0", 0, 0, 0 },
    { "127.0.0.1:65536", 0, 0, 0 },
    { "127.0.0.1:", 0, 0, 0 },
    { "127.0.0.1:25x", 0, 0, 0 },
    { "127.0.0.1", 0, 0, 0 },
    { "[::1:25", 0, 0, 0 },
    { "::1:25", 0, 0, 0 },
    { "localhost:25", 0, 0, 0 },
    { "", 0, 0, 0 },
  };
  char name[160];
  size_t i;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct endpoint e;
    int rc = endpoint_parse(cases[i].spec, &e);

    snprintf(name, sizeof name, "parse \"%s\"", cases[i].spec);
    if (!cases[i].kind) { test_num(rc, -1, name); continue; }
    test_ok(rc == 0 && e.kind == cases[i].kind && e.port == cases[i].port,
            name);
    snprintf(name, sizeof name, "\"%s\" local=%d", cases[i].spec,
             cases[i].local);
    test_num(endpoint_local(&e), cases[i].local, name);
  }
}

static void test_long_path(void)
{
  struct sockaddr_un sun;
  char spec[sizeof sun.sun_path + 8];
  struct endpoint e;

  memcpy(spec, "unix:", 5);
  memset(spec + 5, 'a', sizeof sun.sun_path - 1);
  spec[5 + sizeof sun.sun_path - 1] = 0;
  spec[5] = '/';
  test_num(endpoint_parse(spec, &e), 0, "longest unix path fits");
  memset(spec + 5, 'a', sizeof sun.sun_path);
  spec[5] = '/';
  spec[5 + sizeof sun.sun_path] = 0;
  test_num(endpoint_parse(spec, &e), -1, "unix path one byte too long");
}

/* A listener on 127.0.0.1, port chosen by the kernel. */
static int tcp_listener(unsigned *port)
{
  struct sockaddr_in sin;
  socklen_t n = sizeof sin;
  int fd = socket(AF_INET, SOCK_STREAM, 0);

  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0
      || listen(fd, 4) < 0 || getsockname(fd, (struct sockaddr *)&sin, &n))
    return -1;
  *port = ntohs(sin.sin_port);
  return fd;
}

static int unix_listener(const char *path)
{
  struct sockaddr_un sun;
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);

  memset(&sun, 0, sizeof sun);
  sun.sun_family = AF_UNIX;
  snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
  if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0
      || listen(fd, 4) < 0)
    return -1;
  return fd;
}

/* What dial() sent arrives at the listener's accepted socket. */
static int carries(int lfd, int cfd)
{
  char buf[8];
  int afd = accept(lfd, NULL, NULL);
  ssize_t n;

  if (afd < 0 || write(cfd, "ping", 4) != 4) return 0;
  n = read(afd, buf, sizeof buf);
  close(afd);
  return n == 4 && !memcmp(buf, "ping", 4);
}

static void test_dial(void)
{
  char dir[] = "/tmp/t_endpoint.XXXXXX", path[64], spec[96];
  unsigned port = 0;
  int lfd, cfd;

  test_ok(mkdtemp(dir) != NULL, "temporary directory");
  snprintf(path, sizeof path, "%s/s", dir);
  lfd = unix_listener(path);
  snprintf(spec, sizeof spec, "unix:%s", path);
  cfd = dial(spec);
  test_ok(lfd >= 0 && cfd >= 0 && carries(lfd, cfd), "dial unix:PATH");
  close(cfd);
  cfd = dial(path);
  test_ok(cfd >= 0 && carries(lfd, cfd), "dial /PATH");
  close(cfd);
  close(lfd);
  unlink(path);
  errno = 0;
  test_ok(dial(spec) == -1 && errno == ENOENT, "dial a gone socket: ENOENT");
  rmdir(dir);

  lfd = tcp_listener(&port);
  snprintf(spec, sizeof spec, "127.0.0.1:%u", port);
  cfd = dial(spec);
  test_ok(lfd >= 0 && cfd >= 0 && carries(lfd, cfd), "dial ADDR:PORT");
  close(cfd);
  snprintf(spec, sizeof spec, "inet:127.0.0.1:%u", port);
  cfd = dial(spec);
  test_ok(cfd >= 0 && carries(lfd, cfd), "dial inet:ADDR:PORT");
  close(cfd);
  close(lfd);
  errno = 0;
  test_ok(dial(spec) == -1 && errno == ECONNREFUSED,
          "dial a closed port: ECONNREFUSED");
  errno = 0;
  test_ok(dial("localhost:25") == -1 && errno == EINVAL,
          "dial a name: EINVAL, no resolver asked");
}

/* A port taken by a listener is refused to a second one (no
 * SO_REUSEPORT: two servers would split the clients). */
/* A live datagram socket at the path (syslog's, say) is someone else's:
 * refused, not removed (the stream probe once took it for a leftover). */
static void test_datagram_kept(const char *dir)
{
  struct sockaddr_un sun;
  struct endpoint e;
  struct stat before, after;
  char spec[256];
  const char *what = "";
  int dfd = socket(AF_UNIX, SOCK_DGRAM, 0), lfd;

  memset(&sun, 0, sizeof sun);
  sun.sun_family = AF_UNIX;
  snprintf(sun.sun_path, sizeof sun.sun_path, "%s/dgram", dir);
  test_ok(dfd >= 0 && bind(dfd, (struct sockaddr *)&sun, sizeof sun) == 0
          && stat(sun.sun_path, &before) == 0, "a datagram socket bound");
  snprintf(spec, sizeof spec, "unix:%s", sun.sun_path);
  endpoint_parse(spec, &e);
  errno = 0;
  lfd = endpoint_listen(&e, 0600, &what);
  test_ok(lfd == -1 && errno == EADDRINUSE
          && stat(sun.sun_path, &after) == 0 && after.st_ino == before.st_ino,
          "a live datagram socket is not taken over: EADDRINUSE, kept");
  close(dfd);
  unlink(sun.sun_path);
}

static void test_tcp_twice(void)
{
  unsigned port = 0;
  int probe = tcp_listener(&port), a, b;
  char spec[64];
  struct endpoint e;
  const char *what = "";

  close(probe);
  snprintf(spec, sizeof spec, "127.0.0.1:%u", port);
  endpoint_parse(spec, &e);
  a = endpoint_listen(&e, 0, &what);
  errno = 0;
  b = endpoint_listen(&e, 0, &what);
  test_ok(a >= 0 && b == -1 && errno == EADDRINUSE && !strcmp(what, "bind"),
          "a TCP port in use is not bound twice: bind, EADDRINUSE");
  close(a);
  a = endpoint_listen(&e, 0, &what);
  test_ok(a >= 0, "the port is free again once its listener closed");
  close(a);
}

static void test_listen(void)
{
  char dir[] = "/tmp/t_endpoint.XXXXXX", spec[96];
  struct endpoint e;
  struct stat st;
  const char *what = "";
  int lfd, cfd;

  test_ok(mkdtemp(dir) != NULL, "temporary directory");
  snprintf(spec, sizeof spec, "unix:%s/l", dir);
  endpoint_parse(spec, &e);
  lfd = endpoint_listen(&e, 0640, &what);
  test_ok(lfd >= 0 && stat(e.path, &st) == 0 && (st.st_mode & 0777) == 0640,
          "listen on unix: with mode 0640");
  cfd = dial(spec);
  test_ok(cfd >= 0 && carries(lfd, cfd), "a listener dial() reaches");
  close(cfd);
  close(lfd);
  lfd = endpoint_listen(&e, 0600, &what);
  test_ok(lfd >= 0, "a stale socket file is replaced");
  errno = 0;
  cfd = endpoint_listen(&e, 0600, &what);
  test_ok(cfd == -1 && errno == EADDRINUSE
          && !strcmp(what, "take over the live socket"),
          "a live socket is not taken over: EADDRINUSE");
  close(accept(lfd, NULL, NULL));         /* the probe that found it live */
  cfd = dial(spec);
  test_ok(cfd >= 0 && carries(lfd, cfd), "the first listener still serves");
  close(cfd);
  close(lfd);
  unlink(e.path);
  test_datagram_kept(dir);
  test_tcp_twice();
  snprintf(spec, sizeof spec, "unix:%s/no/such/dir", dir);
  endpoint_parse(spec, &e);
  errno = 0;
  lfd = endpoint_listen(&e, 0600, &what);
  test_ok(lfd == -1 && errno == ENOENT && !strcmp(what, "bind"),
          "listen in a missing directory: bind, ENOENT");
  rmdir(dir);
}

static void test_next(void)
{
  static const struct { const char *list, *want; } t[] = {
    { "", "" }, { " , ", "" }, { "unix:/a", "unix:/a|" },
    { "unix:/a,127.0.0.1:1", "unix:/a|127.0.0.1:1|" },
    { " unix:/a , ,127.0.0.1:1 ", "unix:/a|127.0.0.1:1|" },
    { "a b,c", "a|b|c|" }, { "ok,0123456789abcdef", "ok|-1" },
  };
  char got[128], one[16], name[96];

  for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
    const char *p = t[i].list;
    int more;

    got[0] = 0;
    while ((more = endpoint_next(&p, one, sizeof one)) > 0)
      snprintf(got + strlen(got), sizeof got - strlen(got), "%s|", one);
    if (more < 0) strcat(got, "-1");
    snprintf(name, sizeof name, "endpoint_next \"%s\"", t[i].list);
    test_str(got, t[i].want, name);
  }
}

/* What path holds: its kind and, for a regular file, its bytes;
 * "symlink->TARGET"; "none" when nothing is there. */
static void describe(const char *path, char *out, size_t room)
{
  struct stat st;
  char buf[64];
  ssize_t n;
  int fd;

  if (lstat(path, &st) < 0) { snprintf(out, room, "none"); return; }
  if (S_ISDIR(st.st_mode)) { snprintf(out, room, "dir"); return; }
  if (S_ISSOCK(st.st_mode)) { snprintf(out, room, "socket"); return; }
  if (S_ISFIFO(st.st_mode)) { snprintf(out, room, "fifo"); return; }
  if (S_ISLNK(st.st_mode)) {
    n = readlink(path, buf, sizeof buf - 1);
    buf[n < 0 ? 0 : n] = 0;
    snprintf(out, room, "symlink->%s", buf);
    return;
  }
  fd = open(path, O_RDONLY);
  n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
  if (fd >= 0) close(fd);
  buf[n < 0 ? 0 : n] = 0;
  snprintf(out, room, "file:%s", buf);
}

static void put_file(const char *path, const char *text)
{
  FILE *f = fopen(path, "w");

  if (f) { fputs(text, f); fclose(f); }
}

/* Makes the case's object at path; returns what describe() should say. */
static const char *make(int kind, const char *path, const char *target)
{
  static char link[128];

  switch (kind) {
  case 0: put_file(path, "precious\n"); return "file:precious\n";
  case 1: mkdir(path, 0700); return "dir";
  case 2: symlink(target, path); break;
  case 3: target = "/no/such"; symlink(target, path); break;
  case 4: mkfifo(path, 0600); return "fifo";
  }
  snprintf(link, sizeof link, "symlink->%s", target);
  return link;
}

/* Anything but a socket at a unix path is refused with ENOTSOCK, *what
 * naming it, and left as it was: the tester's acctd SOCKETMAP named a
 * real CDB, and the CDB was unlinked for the socket. */
static void test_not_socket(void)
{
  static const char *kind[] = { "file", "dir", "link", "dangling", "fifo" };
  static const char *says[] = { "a regular file", "a directory",
    "a symbolic link", "a symbolic link", "a named pipe" };
  char dir[] = "/tmp/t_endpoint.XXXXXX", spec[96], target[96];
  char got[128], name[160];
  struct endpoint e;
  int i;

  test_ok(mkdtemp(dir) != NULL, "temporary directory");
  snprintf(target, sizeof target, "%s/target", dir);
  put_file(target, "precious\n");
  for (i = 0; i < 5; i++) {
    const char *want, *what = "";
    int fd;

    snprintf(spec, sizeof spec, "unix:%s/%s", dir, kind[i]);
    endpoint_parse(spec, &e);
    want = make(i, e.path, target);
    errno = 0;
    fd = endpoint_listen(&e, 0600, &what);
    snprintf(name, sizeof name, "%s at the path: refused, ENOTSOCK, "
             "\"%s\"", kind[i], says[i]);
    test_ok(fd == -1 && errno == ENOTSOCK && !strcmp(what, says[i]), name);
    describe(e.path, got, sizeof got);
    snprintf(name, sizeof name, "%s at the path: left as it was", kind[i]);
    test_str(got, want, name);
    if (i == 1) rmdir(e.path); else unlink(e.path);
  }
  describe(target, got, sizeof got);
  test_str(got, "file:precious\n", "the link's target: untouched");
  unlink(target);
  rmdir(dir);
}

int main(void)
{
  test_next();
  test_parse();
  test_long_path();
  test_dial();
  test_listen();
  test_not_socket();
  return test_done();
}
