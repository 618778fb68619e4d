/* settings.c - typed, bounded settings from the environment. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "log.h"
#include "settings.h"

/* Decimal (base 10) or octal (base 8) digits only, no sign, no spaces. */
static int parse_number(const char *t, int base, unsigned long long *out)
{
  unsigned long long v = 0;

  if (!*t) return -1;
  for (; *t; t++) {
    unsigned d = (unsigned)(*t - '0');

    if (d >= (unsigned)base) return -1;
    if (__builtin_mul_overflow(v, (unsigned long long)base, &v)) return -1;
    if (__builtin_add_overflow(v, d, &v)) return -1;
  }
  *out = v;
  return 0;
}

int parse_seconds(const char *text, unsigned long long max,
                  unsigned long long *out)
{
  char digits[32];
  size_t n = strlen(text);
  unsigned long long unit = 1, v;

  if (n == 0 || n >= sizeof digits) return -1;
  memcpy(digits, text, n + 1);
  switch (digits[n - 1]) {
  case 's': unit = 1; break;
  case 'm': unit = 60; break;
  case 'h': unit = 3600; break;
  case 'd': unit = 86400; break;
  case 'w': unit = 604800; break;
  default: n++; break;
  }
  digits[n - 1] = 0;
  if (parse_number(digits, 10, &v) < 0) return -1;
  if (__builtin_mul_overflow(v, unit, &v) || v > max) return -1;
  *out = v;
  return 0;
}

static int parse_bool(const char *t, unsigned long long *out)
{
  static const char *yes[] = { "1", "yes", "true", "on" };
  static const char *no[] = { "0", "no", "false", "off" };
  size_t i;

  for (i = 0; i < 4; i++) {
    if (!strcasecmp(t, yes[i])) { *out = 1; return 0; }
    if (!strcasecmp(t, no[i])) { *out = 0; return 0; }
  }
  return -1;
}

/* A byte below space or DEL: no setting wants one, and each is a slip
 * that stays invisible in a message (the CR of an env file saved with
 * CRLF line ends: "10\r" read as a bad time, "+\r" as a delimiter). */
static int has_control(const char *t)
{
  for (; *t; t++)
    if ((unsigned char)*t < 0x20 || *t == 0x7f) return 1;
  return 0;
}

int setting_parse(struct setting *s, const char *t, const char **why)
{
  unsigned long long v = 0, cap = s->max ? s->max : 4096;

  if (has_control(t)) {
    *why = "holds a control character (a file saved with CRLF line ends?)";
    return -1;
  }
  switch (s->type) {
  case SET_UINT:
  case SET_OCTAL:
    if (parse_number(t, s->type == SET_OCTAL ? 8 : 10, &v) < 0) {
      *why = s->type == SET_OCTAL ? "is not an octal number"
                                   : "is not a decimal number";
      return -1;
    }
    break;
  case SET_SECONDS:
    if (parse_seconds(t, ~0ULL, &v) < 0) {
      *why = "is not a time (number with s, m, h, d or w)";
      return -1;
    }
    break;
  case SET_BOOL:
    if (parse_bool(t, &v) < 0) { *why = "is not yes or no"; return -1; }
    break;
  case SET_STRING:
  case SET_STRING0:
    if (strlen(t) > cap) { *why = "is too long"; return -1; }
    s->str = t;
    return 0;
  }
  if (s->type != SET_BOOL && (v < s->min || v > s->max)) {
    *why = "is out of range";
    return -1;
  }
  s->num = v;
  s->str = t;
  return 0;
}

/* The value as the log grammar writes it (quoted, \xHH for a byte
 * outside printable ASCII, cut at about 64 bytes), so that what made it
 * bad shows. */
static void bad(const struct setting *s, const char *value, const char *why)
{
  char text[400], range[96] = "", shown[72];

  if ((s->type == SET_UINT || s->type == SET_SECONDS) && !has_control(value))
    snprintf(range, sizeof range, " (allowed %llu to %llu%s)", s->min,
             s->max, s->type == SET_SECONDS ? " seconds" : "");
  log_escape(shown, sizeof shown, value, strlen(value));
  snprintf(text, sizeof text, "setting %s=%s %s%s", s->name, shown, why,
           range);
  die_msg(EXIT_PERM, text, NULL);
}

void settings_load(struct setting *tab, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++) {
    struct setting *s = &tab[i];
    const char *t = getenv(s->name), *why = NULL;

    s->num = 0;
    s->str = NULL;
    if (!t || (!*t && s->type != SET_STRING0)) t = s->def;
    if (!t) continue;
    if (setting_parse(s, t, &why) < 0) bad(s, t, why);
  }
}
