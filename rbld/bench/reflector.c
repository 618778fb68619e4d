/* reflector.c - the floor for bench/rbld: answers every UDP query with
 * its own header flipped (QR set, NXDOMAIN), no lookup, batched with
 * recvmmsg/sendmmsg like rbld.  Usage: reflector ADDR PORT */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define BATCH 64

int main(int argc, char **argv)
{
  static unsigned char buf[BATCH][4096];
  struct mmsghdr m[BATCH];
  struct iovec io[BATCH];
  struct sockaddr_in from[BATCH], sin;
  int fd, n, i, rb = 4 << 20;

  if (argc < 3) return 100;
  fd = socket(AF_INET, SOCK_DGRAM, 0);
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_port = htons((unsigned short)atoi(argv[2]));
  inet_pton(AF_INET, argv[1], &sin.sin_addr);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rb, sizeof rb);
  if (bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0) return 111;
  for (;;) {
    for (i = 0; i < BATCH; i++) {
      io[i].iov_base = buf[i]; io[i].iov_len = sizeof buf[i];
      memset(&m[i].msg_hdr, 0, sizeof m[i].msg_hdr);
      m[i].msg_hdr.msg_iov = &io[i]; m[i].msg_hdr.msg_iovlen = 1;
      m[i].msg_hdr.msg_name = &from[i];
      m[i].msg_hdr.msg_namelen = sizeof from[i];
    }
    n = recvmmsg(fd, m, BATCH, MSG_WAITFORONE, NULL);
    if (n <= 0) continue;
    for (i = 0; i < n; i++) {
      if (m[i].msg_len >= 12) { buf[i][2] |= 0x80; buf[i][3] = 3; }
      io[i].iov_len = m[i].msg_len;
    }
    sendmmsg(fd, m, (unsigned)n, 0);
  }
}
