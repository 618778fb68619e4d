/*
 * settings.h - settings from the environment, djb style: the service's
 * run script reads env/ with envdir.  Each daemon declares a table; at
 * start settings_load() reads every name, applies defaults, checks types
 * and bounds, and on a bad value prints a clear message and exits 100.
 * No setting of any type may hold a control character (bytes below
 * space, tab and CR included, or DEL); the message shows the value
 * escaped as log lines do ("10\x0d"), so the cause is visible.
 */
#ifndef IMGATE_SETTINGS_H
#define IMGATE_SETTINGS_H

#include <stddef.h>

enum setting_type {
  SET_UINT,     /* decimal number within [min, max] */
  SET_SECONDS,  /* number with optional s, m, h, d or w suffix */
  SET_BOOL,     /* 0/1, yes/no, true/false, on/off */
  SET_STRING,   /* any text up to max bytes (max 0: 4096) */
  SET_STRING0,  /* the same, but set empty it is empty, not the default */
  SET_OCTAL     /* file mode, e.g. 0660, within [min, max] */
};

struct setting {
  const char *name;
  enum setting_type type;
  const char *def;             /* NULL: no default (may stay unset) */
  unsigned long long min, max;
  /* results */
  unsigned long long num;      /* numeric value (bool: 0 or 1) */
  const char *str;             /* text as given, or the default; or NULL */
};

/* Reads getenv() for every entry; exits 100 on any bad value. */
void settings_load(struct setting *tab, size_t n);

/* Same check on one text; returns 0 and fills s, or -1 with *why set. */
int setting_parse(struct setting *s, const char *text, const char **why);

/* Seconds from "90", "5m", "2h", "1d", "1w"; -1 if malformed or > max. */
int parse_seconds(const char *text, unsigned long long max,
                  unsigned long long *out);

#endif
