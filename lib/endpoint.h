/*
 * endpoint.h - the one grammar of socket addresses in settings and on
 * command lines, for the servers that listen and the tools that dial:
 *
 *   unix:/path  or  /path            a unix stream socket
 *   inet:ADDR:PORT  or  ADDR:PORT    TCP; ADDR is IPv4 or [IPv6]
 */
#ifndef IMGATE_ENDPOINT_H
#define IMGATE_ENDPOINT_H

#include <stddef.h>

enum { EP_UNIX = 1, EP_INET4, EP_INET6 };

struct endpoint {
  int kind;
  const char *path;           /* EP_UNIX: points into the spec */
  char ip[16];                /* EP_INET4: first 4 bytes */
  unsigned port;
};

/* A setting may list several endpoints, separated by commas and/or
 * spaces.  Copies the next one from *list into one (room bytes, NUL
 * ended) and moves *list past it: 1, or 0 at the end of the list, or
 * -1 for an endpoint of room bytes or more (*list then points at it). */
int endpoint_next(const char **list, char *one, size_t room);

/* Returns 0 and fills e, or -1 for a spec outside the grammar (a unix
 * path too long for sockaddr_un, a port outside 1..65535). */
int endpoint_parse(const char *spec, struct endpoint *e);

/* Whether e is a unix socket or on the loopback network (127.0.0.0/8,
 * ::1, ::ffff:127.0.0.0/104): where a listener without access control
 * may be. */
int endpoint_local(const struct endpoint *e);

/* A listening socket (non-blocking, close-on-exec, backlog 1024) on e;
 * at a unix path, a socket nobody answers (left by a server that
 * stopped) is removed first, and the new one gets mode.  Returns -1 with
 * errno set; *what names the step that failed, except for ENOTSOCK:
 * something other than a socket is at the path (never removed, never
 * followed), and *what names it ("a regular file", "a directory", "a
 * symbolic link", ...).  That is a setting to fix, not a passing fault. */
int endpoint_listen(const struct endpoint *e, unsigned mode,
                    const char **what);

/* Connects to spec (blocking, TCP_NODELAY on TCP); returns the socket,
 * or -1 with errno set (EINVAL for a spec outside the grammar). */
int dial(const char *spec);

#endif
