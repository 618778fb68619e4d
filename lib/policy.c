/* policy.c - parse one policy request, format one reply. */
#include <string.h>
#include "policy.h"

struct attr { const char *name; size_t len, off; };

#define FIELD(f) { #f, sizeof #f - 1, offsetof(struct policy_request, f) }
static const struct attr attrs[] = {
  FIELD(request), FIELD(protocol_state), FIELD(client_address),
  FIELD(client_name), FIELD(reverse_client_name), FIELD(helo_name),
  FIELD(sender), FIELD(recipient), FIELD(instance), FIELD(queue_id),
};

static void clear(struct policy_request *r)
{
  size_t i;

  for (i = 0; i < sizeof attrs / sizeof attrs[0]; i++)
    *(const char **)((char *)r + attrs[i].off) = "";
  r->attributes = 0;
}

/* Remember value if name is one we use and not yet set. */
static void take(struct policy_request *r, const char *name, size_t nlen,
                 const char *value, unsigned char *seen)
{
  size_t i;

  for (i = 0; i < sizeof attrs / sizeof attrs[0]; i++) {
    if (seen[i] || attrs[i].len != nlen) continue;
    if (memcmp(attrs[i].name, name, nlen)) continue;
    *(const char **)((char *)r + attrs[i].off) = value;
    seen[i] = 1;
    return;
  }
}

/* Where the request ends: the offset just past "\n\n" (or a leading
 * "\n"), or 0 if it has not all arrived. */
static size_t request_end(const char *buf, size_t len)
{
  const char *p = buf, *end = buf + len, *nl;

  /* Postfix ends lines with LF alone; a client that sends CRLF is
   * answered too, rather than left waiting for an LF LF never sent */
  if (len >= 1 && buf[0] == '\n') return 1;
  if (len >= 2 && buf[0] == '\r' && buf[1] == '\n') return 2;
  /* line by line (memchr), not byte by byte: this runs per request */
  while ((nl = memchr(p, '\n', (size_t)(end - p))) && nl + 1 < end) {
    if (nl[1] == '\n') return (size_t)(nl - buf) + 2;
    if (nl[1] == '\r' && nl + 2 < end && nl[2] == '\n')
      return (size_t)(nl - buf) + 3;
    p = nl + 1;
  }
  return 0;
}

/* Where the closing empty line ("\n" or "\r\n") starts. */
static size_t empty_line_start(const char *buf, size_t end)
{
  if (end >= 2 && buf[end - 2] == '\r' && (end == 2 || buf[end - 3] == '\n'))
    return end - 2;
  return end - 1;
}

long policy_parse(char *buf, size_t len, struct policy_request *r)
{
  unsigned char seen[sizeof attrs / sizeof attrs[0]] = { 0 };
  size_t end = request_end(buf, len), pos = 0, last;

  clear(r);
  if (end == 0) return memchr(buf, 0, len) ? POLICY_MALFORMED : 0;
  if (memchr(buf, 0, end)) return POLICY_MALFORMED;
  last = empty_line_start(buf, end);
  while (pos < last) {
    char *line = buf + pos, *nl = memchr(line, '\n', end - pos);
    char *eq = memchr(line, '=', (size_t)(nl - line));

    if (!eq || eq == line) return POLICY_MALFORMED;
    *nl = 0;
    if (nl > eq + 1 && nl[-1] == '\r') nl[-1] = 0;
    take(r, line, (size_t)(eq - line), eq + 1, seen);
    r->attributes++;
    pos = (size_t)(nl - buf) + 1;
  }
  return (long)end;
}

size_t policy_format(char *out, size_t room, const char *action,
                     const char *text)
{
  size_t a = strlen(action), t = text ? strlen(text) : 0, n, i;

  n = 7 + a + (t ? 1 + t : 0) + 2;
  if (n + 1 > room) return 0;
  memcpy(out, "action=", 7);
  memcpy(out + 7, action, a);
  if (t) {
    out[7 + a] = ' ';
    for (i = 0; i < t; i++) {
      unsigned char c = (unsigned char)text[i];
      out[8 + a + i] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
  }
  out[n - 2] = '\n';
  out[n - 1] = '\n';
  out[n] = 0;
  return n;
}
