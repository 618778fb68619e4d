/*
 * acctd-bench-echo - the floor of a request/response round trip: one
 * process, one epoll loop, every byte read is written straight back.
 * The benchmark runs it beside acctd on the same socket type.
 *
 *   acctd-bench-echo unix:/path | 127.0.0.1:PORT
 *
 * Runs until SIGTERM.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include "endpoint.h"

static int listen_on(const char *spec)
{
  struct endpoint e;
  const char *what;

  if (endpoint_parse(spec, &e) < 0) { errno = EINVAL; return -1; }
  return endpoint_listen(&e, 0600, &what);
}

int main(int argc, char **argv)
{
  struct epoll_event ev, evs[64];
  char buf[16384];
  int lfd, ep;

  if (argc != 2) {
    fprintf(stderr, "usage: acctd-bench-echo unix:/path|ADDR:PORT\n");
    return 100;
  }
  signal(SIGPIPE, SIG_IGN);
  if ((lfd = listen_on(argv[1])) < 0) { perror(argv[1]); return 111; }
  ep = epoll_create1(0);
  ev.events = EPOLLIN;
  ev.data.fd = lfd;
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  for (;;) {
    int n = epoll_wait(ep, evs, 64, -1), i;

    for (i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      ssize_t r;

      if (fd == lfd) {
        int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);

        if (c < 0) continue;
        ev.events = EPOLLIN;
        ev.data.fd = c;
        epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
        continue;
      }
      r = read(fd, buf, sizeof buf);
      if (r <= 0 || write(fd, buf, (size_t)r) != r) close(fd);
    }
  }
}
