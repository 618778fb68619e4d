/*
 * t_server.c - the daemon skeleton, exercised over a real unix socket:
 * a child runs a line server ("echo X", "hold" answers 300 ms later,
 * "reloads" counts SIGHUPs); the parent talks to it as Postfix would.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "server.h"
#include "test.h"

struct ctx {
  unsigned reloads;
  struct conn *held;
  unsigned long long release_at;
};

static long line_request(struct conn *c, char *buf, size_t len)
{
  struct ctx *x = server_ctx(conn_server(c));
  char *nl = memchr(buf, '\n', len), out[64];
  size_t n;

  if (!nl) return 0;
  n = (size_t)(nl - buf);
  if (n >= 5 && !memcmp(buf, "echo ", 5)) {
    conn_write(c, buf + 5, n - 4);
  } else if (n == 4 && !memcmp(buf, "hold", 4)) {
    conn_hold(c);
    x->held = c;
    x->release_at = now_usec() + 300000;
  } else if (n == 7 && !memcmp(buf, "reloads", 7)) {
    snprintf(out, sizeof out, "%u\n", x->reloads);
    conn_write(c, out, strlen(out));
  } else return -1;
  return (long)n + 1;
}

static void line_overflow(struct conn *c) { conn_write(c, "TOOLONG\n", 8); }
static void reload(void *v) { ((struct ctx *)v)->reloads++; }

static void closed(struct conn *c)
{
  struct ctx *x = server_ctx(conn_server(c));

  if (x->held == c) x->held = NULL;
}

static int next_timeout(void *v)
{
  struct ctx *x = v;
  unsigned long long now = now_usec();

  if (!x->held) return -1;
  return x->release_at > now ? (int)((x->release_at - now) / 1000) : 0;
}

static void expire(void *v)
{
  struct ctx *x = v;
  struct conn *c = x->held;

  if (!c || now_usec() < x->release_at) return;
  x->held = NULL;
  conn_write(c, "held\n", 5);
  conn_release(c);
}

static const struct server_ops ops = {
  .max_request = 64, .max_output = 4096, .read_timeout = 1,
  .idle_timeout = 2, .max_conns = 8, .request = line_request,
  .overflow = line_overflow, .closed = closed, .reload = reload,
  .next_timeout = next_timeout, .expire = expire,
};

/* the same at max_conns 4, evicting instead of refusing */
static const struct server_ops evict_ops = {
  .max_request = 64, .max_output = 4096, .read_timeout = 10,
  .idle_timeout = 10, .max_conns = 4, .evict_when_full = 1,
  .request = line_request, .overflow = line_overflow, .closed = closed,
  .next_timeout = next_timeout, .expire = expire,
};

static char sock_path[108], log_path[108];

static pid_t start_server(const struct server_ops *o)
{
  pid_t pid = fork();

  if (pid == 0) {
    static struct ctx x;
    static struct server *s;     /* reachable at exit: no leak report */

    prctl(PR_SET_PDEATHSIG, SIGKILL);  /* never outlive the test */
    if (!freopen(log_path, "w", stderr)) exit(111);
    s = server_new(o, &x);

    server_listen_list(s, sock_path, 0600);
    exit(server_run(s));
  }
  for (int i = 0; i < 100 && access(sock_path + 5, F_OK); i++) usleep(10000);
  return pid;
}

static int dial(void)
{
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);

  strcpy(sun.sun_path, sock_path + 5);
  if (connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Send text, read until a newline or EOF (2 s at most). */
static const char *ask(int fd, const char *text)
{
  static char buf[256];
  size_t len = 0;
  struct timeval tv = { 2, 0 };

  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  /* a peer that closed shows as EPIPE on write or ECONNRESET on read:
   * both mean the server hung up, like a plain EOF */
  if (*text && write(fd, text, strlen(text)) < 0)
    return errno == EPIPE ? "EOF" : "WRITE-ERROR";
  while (len < sizeof buf - 1) {
    ssize_t r = read(fd, buf + len, 1);
    if (r < 0 && errno == ECONNRESET) break;
    if (r <= 0) { if (r < 0) return "TIMEOUT"; break; }
    len++;
    if (buf[len - 1] == '\n') break;
  }
  buf[len] = 0;
  return len ? buf : "EOF";
}

static void test_basics(void)
{
  int a = dial(), b = dial(), c;
  char big[200];

  test_str(ask(a, "echo one\n"), "one\n", "echo answers");
  test_str(ask(a, "echo x\necho y\n"), "x\n", "pipelined first");
  test_str(ask(a, ""), "y\n", "pipelined second");
  test_str(ask(b, "echo b\n"), "b\n", "second connection served");
  memset(big, 'z', sizeof big);
  c = dial();
  if (write(c, big, sizeof big) < 0) test_ok(0, "write big");
  test_str(ask(c, ""), "TOOLONG\n", "over-long request gets the overflow");
  test_str(ask(c, ""), "EOF", "and is closed");
  close(c);
  test_str(ask(b, "bogus\n"), "EOF", "protocol error closes");
  test_str(ask(a, "echo still\n"), "still\n", "others unaffected");
  close(a);
  close(b);
}

static void test_hold(void)
{
  int a = dial(), b = dial();

  if (write(a, "hold\necho after\n", 16) < 0) test_ok(0, "write hold");
  test_str(ask(b, "echo meanwhile\n"), "meanwhile\n",
           "others served while one is held");
  test_str(ask(a, ""), "held\n", "held request answered later");
  test_str(ask(a, ""), "after\n", "input behind a held request is kept");
  close(a);
  close(b);
}

static void test_timeouts(void)
{
  int a = dial(), b = dial();

  if (write(a, "echo half", 9) < 0) test_ok(0, "write half");
  test_str(ask(a, ""), "EOF", "half request closed after read_timeout");
  sleep(3);
  test_str(ask(b, "echo late\n"), "EOF", "idle connection closed");
  close(a);
  close(b);
}

/* Lines of the child's log with "what", and the sum of their KEY=N. */
static int log_lines(const char *what, const char *key, long *sum)
{
  char line[512];
  FILE *f = fopen(log_path, "r");
  int n = 0;

  *sum = 0;
  if (!f) return -1;
  while (fgets(line, sizeof line, f)) {
    char *k;

    if (!strstr(line, what)) continue;
    n++;
    if ((k = strstr(line, key))) *sum += strtol(k + strlen(key), NULL, 10);
  }
  fclose(f);
  return n;
}

static void test_limits(void)
{
  int fds[38], i, refused = 0;
  long sum;

  for (i = 0; i < 38; i++) fds[i] = dial();
  usleep(200000);
  for (i = 0; i < 38; i++) {
    const char *r = ask(fds[i], "echo n\n");
    if (!strcmp(r, "EOF")) refused++;
  }
  test_num(refused, 30, "connections over max_conns are refused");
  sleep(2);
  test_num(log_lines("refuse", "refused=", &sum), 2,
           "a burst of refusals makes two log lines, not thirty");
  test_num(sum, 30, "and they count every refused connection");
  for (i = 0; i < 38; i++) close(fds[i]);
}

static void test_signals(pid_t pid)
{
  int a = dial(), status = -1;

  kill(pid, SIGHUP);
  usleep(100000);
  test_str(ask(a, "reloads\n"), "1\n", "SIGHUP calls reload");
  kill(pid, SIGUSR1);
  kill(pid, SIGUSR2);
  usleep(100000);
  test_num(waitpid(pid, NULL, WNOHANG), 0, "SIGUSR1, SIGUSR2: still running");
  test_str(ask(a, "reloads\n"), "1\n", "and answers, no reload");
  if (write(a, "hold\n", 5) < 0) test_ok(0, "write hold");
  usleep(50000);
  kill(pid, SIGTERM);
  usleep(50000);
  test_num(dial(), -1, "SIGTERM stops accepting");
  test_str(ask(a, ""), "held\n", "in-flight request finished after SIGTERM");
  test_str(ask(a, ""), "EOF", "then the connection is closed");
  waitpid(pid, &status, 0);
  test_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exit 0 after drain");
  close(a);
}

/* Which listen specs count as local (protocols with no access control
 * may listen only there); -1: malformed, refused by server_listen too. */
static void test_spec_local(void)
{
  static const struct { const char *spec; int want; } t[] = {
    { "127.0.0.1:25", 1 }, { "inet:127.0.0.1:25", 1 },
    { "127.1.2.3:10023", 1 }, { "inet:127.255.255.254:1", 1 },
    { "[::1]:25", 1 }, { "inet:[::1]:65535", 1 },
    { "[::ffff:127.0.0.1]:25", 1 }, { "unix:/x", 1 }, { "/x", 1 },
    { "0.0.0.0:25", 0 }, { "inet:0.0.0.0:25", 0 }, { "[::]:25", 0 },
    { "10.0.0.1:25", 0 }, { "128.0.0.1:25", 0 }, { "[::2]:25", 0 },
    { "[::ffff:10.0.0.1]:25", 0 }, { "126.255.255.255:25", 0 },
    { "::1:25", -1 }, { "::1", -1 }, { "[::1]", -1 }, { "[::1:25", -1 },
    { "127.0.0.1", -1 }, { "127.0.0.1:", -1 }, { "127.0.0.1:0", -1 },
    { "127.0.0.1:65536", -1 }, { "127.0.0.1:25x", -1 },
    { "localhost:25", -1 }, { "garbage", -1 }, { "", -1 },
    { "inet:", -1 }, { "127.evil.example:25", -1 },
  };
  char name[96];

  for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
    snprintf(name, sizeof name, "spec_local %s", t[i].spec);
    test_num(server_spec_local(t[i].spec), t[i].want, name);
  }
}

/* server_need_local in a child: its exit code and what it said. */
static void need_local(const char *specs, int code, const char *said)
{
  int p[2], status = -1;
  char buf[512], name[128];
  ssize_t n = 0, r;
  pid_t pid;

  if (pipe(p) < 0) { test_ok(0, "pipe"); return; }
  pid = fork();
  if (pid == 0) {
    dup2(p[1], 2);
    server_need_local("LISTEN", specs);
    _exit(0);
  }
  close(p[1]);
  while (n < (ssize_t)sizeof buf - 1
         && (r = read(p[0], buf + n, sizeof buf - 1 - (size_t)n)) > 0)
    n += r;
  buf[n] = 0;
  close(p[0]);
  waitpid(pid, &status, 0);
  snprintf(name, sizeof name, "need_local %s: exit", specs);
  test_num(WIFEXITED(status) ? WEXITSTATUS(status) : -1, code, name);
  snprintf(name, sizeof name, "need_local %s: says", specs);
  test_str(buf, said, name);
}

static void test_need_local(void)
{
  need_local("unix:/x,127.0.0.1:1, inet:[::1]:2", 0, "");
  need_local("unix:/x,0.0.0.0:25", 100, "t_server: fatal: LISTEN: TCP "
             "only on loopback (127.0.0.0/8 or [::1]), the protocol has no "
             "access control: 0.0.0.0:25\n");
  need_local("inet:[::]:25", 100, "t_server: fatal: LISTEN: TCP only on "
             "loopback (127.0.0.0/8 or [::1]), the protocol has no access "
             "control: inet:[::]:25\n");
  need_local("127.0.0.1:25,inet:garbage", 100,
             "t_server: fatal: bad listen address (want unix:/PATH or "
             "ADDR:PORT): inet:garbage\n");
  need_local(" ", 100, "t_server: fatal: LISTEN: no address to listen on "
             "in \" \"\n");
  need_local(",", 100, "t_server: fatal: LISTEN: no address to listen on "
             "in ,\n");
  need_local("unix:relative", 100, "t_server: fatal: bad listen address "
             "(want unix:/PATH or ADDR:PORT): unix:relative\n");
  need_local("127.0.0.1:x", 100, "t_server: fatal: bad listen address "
             "(want unix:/PATH or ADDR:PORT): 127.0.0.1:x\n");
}

/* Full: the connection quiet longest goes, idle or with half a
 * request; the new one is served, the others keep what they sent. */
static void test_evict(void)
{
  int a, b, c, d, e, f, status = -1;
  long sum;
  pid_t pid = start_server(&evict_ops);

  a = dial(); usleep(20000);
  b = dial(); usleep(20000);
  c = dial(); usleep(20000);
  d = dial(); usleep(20000);
  if (write(b, "echo hal", 8) < 0) test_ok(0, "write half");
  usleep(20000);
  e = dial();
  test_str(ask(e, "echo e\n"), "e\n", "full: a new connection is served");
  test_str(ask(a, ""), "EOF", "and the one quiet longest is closed");
  f = dial();
  test_str(ask(f, "echo f\n"), "f\n", "full again: served");
  test_str(ask(c, ""), "EOF", "the next quiet longest is closed");
  test_str(ask(b, "f\n"), "half\n", "a more recent half request is kept");
  test_str(ask(d, "echo d\n"), "d\n", "the others still answer");
  sleep(2);
  test_num(log_lines("evict", "evicted=", &sum), 2,
           "evictions logged at most once a second");
  test_num(sum, 2, "and every one is counted");
  test_num(log_lines("refuse", "refused=", &sum), 0, "none refused");
  kill(pid, SIGTERM);
  waitpid(pid, &status, 0);
  close(a), close(b), close(c), close(d), close(e), close(f);
}

int main(void)
{
  pid_t pid;

  setvbuf(stdout, NULL, _IONBF, 0);
  signal(SIGPIPE, SIG_IGN);
  log_init("t_server");
  snprintf(sock_path, sizeof sock_path, "unix:/tmp/t_server.%d.sock",
           (int)getpid());
  snprintf(log_path, sizeof log_path, "/tmp/t_server.%d.log", (int)getpid());
  test_spec_local();
  test_need_local();
  pid = start_server(&ops);
  test_basics();
  test_hold();
  test_timeouts();
  test_limits();
  test_signals(pid);
  unlink(sock_path + 5);
  unlink(log_path);
  snprintf(sock_path, sizeof sock_path, "unix:/tmp/t_server.%d.ev.sock",
           (int)getpid());
  snprintf(log_path, sizeof log_path, "/tmp/t_server.%d.ev.log",
           (int)getpid());
  test_evict();
  unlink(sock_path + 5);
  unlink(log_path);
  return test_done();
}
