/*
 * acctd-bench-echo - the floor of a request/response round trip: one
 * process, one epoll loop, every byte read is written straight back.
 * The benchmark runs it beside acctd on the same socket type.
 *
 *   acctd-bench-echo unix:/path | 127.0.0.1:PORT
 *
 * Runs until SIGTERM.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int listen_on(const char *addr)
{
  int fd, one = 1;

  if (!strncmp(addr, "unix:", 5)) {
    struct sockaddr_un sun;

    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", addr + 5);
    unlink(sun.sun_path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0)
      return -1;
  } else {
    struct sockaddr_in sin;
    char ip[64];
    const char *colon = strrchr(addr, ':');

    if (!colon || (size_t)(colon - addr) >= sizeof ip) return -1;
    memcpy(ip, addr, (size_t)(colon - addr));
    ip[colon - addr] = 0;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((unsigned short)atoi(colon + 1));
    if (inet_pton(AF_INET, ip, &sin.sin_addr) != 1) return -1;
    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0) return -1;
  }
  return listen(fd, 1024) < 0 ? -1 : fd;
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
