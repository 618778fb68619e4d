/*
 * httpd.c - the status page over HTTP, on the suite's server skeleton.
 *
 *   GET /             the status as HTML (refreshes every 30 s)
 *   GET /status.txt   the same as text
 *   HEAD of either (a query string is ignored); anything else gets 404
 *   or 405, a request line without a target and version 400.
 * One request per connection (Connection: close), at most 8 KiB of
 * request head.  When LISTEN is anything but loopback (or unix
 * sockets), PASSWORD_FILE is required and every request must carry
 * HTTP basic authentication matching one of its "user:password" lines;
 * reportd says which at start.  Services are looked at every second
 * (the tick), so restarts between two page loads are still counted.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <textcode.h>

#include "endpoint.h"
#include "log.h"
#include "server.h"
#include "status.h"

#define REQ_MAX 8192
#define PW_MAX 4096

struct httpd {
  struct status st;
  int need_auth;
  char pw[PW_MAX + 1];      /* the password file: "user:password" lines */
};

/* Whether every listener of LISTEN is a unix socket or on loopback
 * (the grammar and the judgement are lib/endpoint's, as for the other
 * daemons); a malformed one counts as not local, and server_listen
 * refuses it anyway. */
int listen_is_local(const char *specs)
{
  char one[256];
  int more;

  while ((more = endpoint_next(&specs, one, sizeof one)))
    if (more < 0 || server_spec_local(one) != 1) return 0;
  return 1;
}

/* The password file into h->pw; -1 (and a warning) if it cannot be
 * read or has no account, leaving h->pw as it was. */
static int load_passwords(struct httpd *h)
{
  char buf[PW_MAX + 1];
  int fd = open(h->st.password_file, O_RDONLY | O_CLOEXEC);
  ssize_t n;

  if (fd < 0) { warn_sys("open", h->st.password_file); return -1; }
  n = read(fd, buf, PW_MAX);
  close(fd);
  if (n < 0) { warn_sys("read", h->st.password_file); return -1; }
  buf[n] = 0;
  if (!strchr(buf, ':')) {
    warn_msg("no user:password line in ", h->st.password_file);
    return -1;
  }
  memcpy(h->pw, buf, (size_t)n + 1);
  return 0;
}

/* Same time whatever the first differing byte. */
static int same(const char *a, size_t an, const char *b, size_t bn)
{
  unsigned char d = an != bn;
  size_t i;

  for (i = 0; i < an && i < bn; i++) d |= (unsigned char)(a[i] ^ b[i]);
  return !d;
}

static int password_ok(const struct httpd *h, const char *cred, size_t n)
{
  const char *p = h->pw;
  int ok = 0;

  while (*p) {
    size_t l = strcspn(p, "\n");
    size_t ll = l && p[l - 1] == '\r' ? l - 1 : l;

    if (ll && p[0] != '#') ok |= same(p, ll, cred, n);
    p += l;
    if (*p) p++;
  }
  return ok;
}

/* The header named name (case does not matter), its value into *v. */
static size_t header(const char *req, size_t n, const char *name,
                     const char **v)
{
  size_t nl = strlen(name);
  const char *p = memchr(req, '\n', n), *end = req + n;

  while (p && ++p < end) {
    const char *e = memchr(p, '\n', (size_t)(end - p));

    if (!e) e = end;
    if ((size_t)(e - p) > nl && !strncasecmp(p, name, nl) && p[nl] == ':') {
      for (p += nl + 1; p < e && (*p == ' ' || *p == '\t'); p++) ;
      *v = p;
      return (size_t)(e - p) - (e > p && e[-1] == '\r');
    }
    p = e;
  }
  return 0;
}

/* Basic credentials that match a line of the password file. */
static int authorized(const struct httpd *h, const char *req, size_t n)
{
  const char *a;
  char enc[512], dec[512];
  size_t el = header(req, n, "Authorization", &a), dl = 0;

  if (el < 7 || strncasecmp(a, "Basic ", 6)) return 0;
  for (a += 6, el -= 6; el && *a == ' '; a++, el--) ;
  if (el >= sizeof enc) return 0;
  memcpy(enc, a, el);
  enc[el] = 0;
  if (scan_base64(enc, dec, &dl) != el || dl >= sizeof dec) return 0;
  return password_ok(h, dec, dl);
}

static void reply(struct conn *c, const char *code, const char *type,
                  const char *extra, const char *body, size_t len, int head)
{
  char hdr[512];
  int n = snprintf(hdr, sizeof hdr, "HTTP/1.0 %s\r\nServer: reportd\r\n"
                   "Content-Type: %s\r\nContent-Length: %zu\r\n"
                   "Cache-Control: no-store\r\nConnection: close\r\n%s\r\n",
                   code, type, len, extra ? extra : "");

  conn_write(c, hdr, (size_t)n);
  if (!head) conn_write(c, body, len);
  conn_close(c);
}

static void page(struct conn *c, struct httpd *h, int html, int head)
{
  char *body = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&body, &len);
  long long now = (long long)time(NULL);

  if (!m) {
    reply(c, "503 Service Unavailable", "text/plain", NULL, "", 0, head);
    return;
  }
  status_sample(&h->st, now);
  status_write(m, &h->st, html, now);
  fclose(m);
  reply(c, "200 OK", html ? "text/html; charset=utf-8"
        : "text/plain; charset=utf-8",
        html ? "Refresh: 30\r\n" : NULL, body, len, head);
  free(body);
}

static void log_request(struct conn *c, const char *method, size_t ml,
                        const char *path, size_t pl, int code)
{
  struct logline l;

  log_start(&l, "info", "request");
  log_strn(&l, "method", method, ml);
  log_strn(&l, "path", path, pl);
  log_uint(&l, "status", (unsigned long long)code);
  log_uint(&l, "conn", conn_id(c));
  log_end(&l);
}

/* The path of a request target, without its query string: the page
 * is the same whatever a browser or a monitor appends. */
static size_t path_len(const char *t, size_t n)
{
  const char *q = memchr(t, '?', n);

  return q ? (size_t)(q - t) : n;
}

static long request(struct conn *c, char *buf, size_t len)
{
  struct httpd *h = server_ctx(conn_server(c));
  char *end = memmem(buf, len, "\r\n\r\n", 4), *eol, *sp1, *sp2;
  size_t pl;
  int head, code;

  if (!end && !(end = memmem(buf, len, "\n\n", 2))) return 0;
  /* method, target and version are on the first line */
  if (!(eol = memchr(buf, '\n', (size_t)(end - buf)))) eol = end;
  sp1 = memchr(buf, ' ', (size_t)(eol - buf));
  sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
  if (!sp2) {
    reply(c, "400 Bad Request", "text/plain", NULL, "bad request\n", 12, 0);
    log_request(c, "-", 1, "-", 1, 400);
    return (long)len;
  }
  pl = path_len(sp1 + 1, (size_t)(sp2 - sp1 - 1));
  head = sp1 - buf == 4 && !memcmp(buf, "HEAD", 4);
  if (!head && !(sp1 - buf == 3 && !memcmp(buf, "GET", 3))) {
    code = 405;
    reply(c, "405 Method Not Allowed", "text/plain", "Allow: GET, HEAD\r\n",
          "method not allowed\n", 19, 0);
  } else if (h->need_auth
             && !authorized(h, buf, (size_t)(end - buf) + 2)) {
    code = 401;
    reply(c, "401 Unauthorized", "text/plain",
          "WWW-Authenticate: Basic realm=\"imgate status\"\r\n",
          "authentication required\n", 24, head);
  } else if (pl == 1 && sp1[1] == '/') {
    code = 200;
    page(c, h, 1, head);
  } else if (pl == 11 && !memcmp(sp1 + 1, "/status.txt", 11)) {
    code = 200;
    page(c, h, 0, head);
  } else {
    code = 404;
    reply(c, "404 Not Found", "text/plain", NULL, "not found\n", 10, head);
  }
  log_request(c, buf, (size_t)(sp1 - buf), sp1 + 1, (size_t)(sp2 - sp1 - 1),
              code);
  return (long)len;
}

static void too_big(struct conn *c)
{
  reply(c, "413 Request Entity Too Large", "text/plain", NULL,
        "request too large\n", 18, 0);
  log_request(c, "-", 1, "-", 1, 413);
}

static void tick(void *ctx)
{
  struct httpd *h = ctx;

  status_sample(&h->st, (long long)time(NULL));
}

/* SIGHUP: the password file again; a broken one keeps the old. */
static void reload(void *ctx)
{
  struct httpd *h = ctx;
  struct logline l;

  if (!h->st.password_file) return;
  log_start(&l, "info", "reload");
  log_str(&l, "file", h->st.password_file);
  log_str(&l, "result", load_passwords(h) < 0 ? "kept_old" : "ok");
  log_end(&l);
}

/* One request per connection, sent at once by any browser: a client
 * that sends nothing, or half a head, for 2 s only holds a slot, and
 * when all 64 are taken a new client takes the slot quiet longest, so
 * that idle or slow connections (a slow-loris) cannot lock the page. */
static const struct server_ops ops = {
  .max_request = REQ_MAX,
  .max_output = 4 << 20,
  .read_timeout = 2,
  .idle_timeout = 2,
  .max_conns = 64,
  .evict_when_full = 1,
  .request = request,
  .overflow = too_big,
  .tick = tick,
  .reload = reload,
};

int status_serve(void)
{
  struct httpd *h = calloc(1, sizeof *h);
  struct server *s;
  struct logline l;

  if (!h) die_sys(EXIT_TEMP, "allocate", "memory");
  status_init(&h->st);
  h->need_auth = h->st.password_file != NULL;
  server_check_listen("LISTEN", h->st.listen, 0);
  if (!listen_is_local(h->st.listen) && !h->need_auth)
    die_msg(EXIT_PERM, "LISTEN is not loopback: PASSWORD_FILE is required"
            " for", h->st.listen);
  if (h->need_auth && load_passwords(h) < 0)
    die_msg(EXIT_PERM, "no usable password file: ", h->st.password_file);
  status_sample(&h->st, (long long)time(NULL));
  s = server_new(&ops, h);
  server_listen_list(s, h->st.listen, 0600);
  log_start(&l, "info", "listen");
  log_str(&l, "addr", h->st.listen);
  log_str(&l, "scope", listen_is_local(h->st.listen) ? "loopback"
                                                     : "network");
  log_str(&l, "auth", h->need_auth ? "basic" : "none");
  log_end(&l);
  return server_run(s);
}
