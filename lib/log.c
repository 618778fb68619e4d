/* log.c - the key=value log line; see log.h for the grammar. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "log.h"

static const char *prog_name = "imgate";

void log_init(const char *prog) { prog_name = prog; }

const char *log_prog(void) { return prog_name; }

static void put(struct logline *l, const char *s, size_t n)
{
  /* keep room for " cut=1\n" */
  size_t room = LOG_LINE_MAX - 8;

  if (l->cut) return;
  if (l->len + n > room) { l->cut = 1; return; }
  memcpy(l->buf + l->len, s, n);
  l->len += n;
}

static void puts_(struct logline *l, const char *s) { put(l, s, strlen(s)); }

void log_start(struct logline *l, const char *level, const char *event)
{
  l->len = 0;
  l->cut = 0;
  puts_(l, prog_name);
  puts_(l, ": ");
  puts_(l, level);
  puts_(l, ": ");
  puts_(l, event);
}

static int is_bare(unsigned char c)
{
  return c > 0x20 && c < 0x7f && c != '"' && c != '\\';
}

static int needs_quotes(const char *v, size_t n)
{
  size_t i;

  if (n > LOG_VALUE_MAX) return 1;
  for (i = 0; i < n; i++)
    if (!is_bare((unsigned char)v[i])) return 1;
  return 0;
}

size_t log_escape(char *out, size_t room, const char *v, size_t n)
{
  static const char hex[] = "0123456789abcdef";
  size_t o = 0, i, take = n > LOG_VALUE_MAX ? LOG_VALUE_MAX : n;
  int quote = needs_quotes(v, n);

  if (room == 0) return 0;
  if (quote && o + 1 < room) out[o++] = '"';
  for (i = 0; i < take; i++) {
    unsigned char c = (unsigned char)v[i];
    char e[4];
    size_t k = 0;

    if (c == '"' || c == '\\') { e[k++] = '\\'; e[k++] = (char)c; }
    else if (c < 0x20 || c > 0x7e) {
      e[k++] = '\\'; e[k++] = 'x'; e[k++] = hex[c >> 4]; e[k++] = hex[c & 15];
    } else e[k++] = (char)c;
    if (o + k + 5 >= room) break;      /* room for ..." and the NUL */
    memcpy(out + o, e, k);
    o += k;
  }
  if (take < n || i < take) { memcpy(out + o, "...", 3); o += 3; }
  if (quote) out[o++] = '"';
  out[o] = 0;
  return o;
}

void log_strn(struct logline *l, const char *key, const char *v, size_t n)
{
  char esc[LOG_VALUE_MAX * 4 + 8];

  put(l, " ", 1);
  puts_(l, key);
  put(l, "=", 1);
  /* most values are bare and go in as they are: escaping them byte by
   * byte was a fifth of a busy greyd's user time */
  if (!needs_quotes(v, n)) put(l, v, n);
  else put(l, esc, log_escape(esc, sizeof esc, v, n));
}

void log_str(struct logline *l, const char *key, const char *v)
{
  if (!v) v = "";
  log_strn(l, key, v, strlen(v));
}

void log_uint(struct logline *l, const char *key, unsigned long long v)
{
  char num[32];
  int n = snprintf(num, sizeof num, "%llu", v);

  put(l, " ", 1);
  puts_(l, key);
  put(l, "=", 1);
  put(l, num, (size_t)n);
}

void log_ms(struct logline *l, const char *key, unsigned long long usec)
{
  char num[48];
  int n = snprintf(num, sizeof num, "%llu.%03llu", usec / 1000, usec % 1000);

  put(l, " ", 1);
  puts_(l, key);
  put(l, "=", 1);
  put(l, num, (size_t)n);
}

/* Lines held by log_batch(): whole lines, written together by
 * log_batch_flush() in one write of at most PIPE_BUF (4096) bytes,
 * which a pipe to multilog keeps whole. */
static struct { char buf[4096]; size_t len; int on; } held;

static void write_all(const char *p, size_t n)
{
  size_t off = 0;
  ssize_t w;

  /* a short write on a full pipe is finished off */
  while (off < n) {
    w = write(2, p + off, n - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    off += (size_t)w;
  }
}

void log_batch_flush(void)
{
  if (!held.len) return;
  write_all(held.buf, held.len);
  held.len = 0;
}

void log_batch(int on)
{
  static int registered;

  if (!on) log_batch_flush();
  held.on = on;
  if (on && !registered) {
    registered = 1;
    atexit(log_batch_flush);          /* the last lines, and die_*()'s own */
  }
}

void log_end(struct logline *l)
{
  if (l->cut) {
    memcpy(l->buf + l->len, " cut=1", 6);
    l->len += 6;
  }
  l->buf[l->len++] = '\n';
  if (held.on) {
    if (held.len + l->len > sizeof held.buf) log_batch_flush();
    memcpy(held.buf + held.len, l->buf, l->len);
    held.len += l->len;
    return;
  }
  /* one write: stderr is a pipe to multilog, and PIPE_BUF >= 4096 keeps
   * the line whole */
  write_all(l->buf, l->len);
}

static void say(const char *level, const char *a, const char *b,
                const char *c)
{
  struct logline l;
  char esc[LOG_VALUE_MAX * 4 + 8];

  log_start(&l, level, a);
  if (b) { put(&l, " ", 1); put(&l, esc, log_escape(esc, sizeof esc, b,
                                                   strlen(b))); }
  if (c) { put(&l, ": ", 2); puts_(&l, c); }
  log_end(&l);
}

void warn_msg(const char *text, const char *obj)
{
  say("warning", text, obj, NULL);
}

void warn_sys(const char *what, const char *obj)
{
  char text[128];
  const char *err = strerror(errno);

  snprintf(text, sizeof text, "unable to %s", what);
  say("warning", text, obj, err);
}

void die_sys(int code, const char *what, const char *obj)
{
  char text[128];
  const char *err = strerror(errno);

  snprintf(text, sizeof text, "unable to %s", what);
  say("fatal", text, obj, err);
  exit(code);
}

void die_msg(int code, const char *text, const char *obj)
{
  say("fatal", text, obj, NULL);
  exit(code);
}
