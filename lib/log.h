/*
 * log.h - one line per decision, in a key=value grammar, on stderr.
 *
 * A line is  PROG: LEVEL: EVENT key=value key=value ...\n
 *   PROG   the program's name, set once with log_init()
 *   LEVEL  info | warning | fatal
 *   EVENT  one lower-case word naming what happened (lookup, greylist ...)
 * A value is written bare when every byte is printable ASCII other than
 * space, '"' and '\'; otherwise it is quoted: "..." with \" \\ and \xHH
 * for every byte outside 0x20..0x7e.  Values longer than LOG_VALUE_MAX
 * bytes are cut and end in "..." inside the quotes; a line never grows
 * past LOG_LINE_MAX bytes (the tail is dropped and " cut=1" added).
 * Each line is written with one write(2), so lines from one process
 * never interleave, and no timestamp is added: multilog adds its own.
 * doc/LOGS lists every program's events and keys.
 */
#ifndef IMGATE_LOG_H
#define IMGATE_LOG_H

#include <stddef.h>

#define LOG_LINE_MAX 2048
#define LOG_VALUE_MAX 300

struct logline {
  char buf[LOG_LINE_MAX];
  size_t len;
  int cut;
};

void log_init(const char *prog);
const char *log_prog(void);

void log_start(struct logline *l, const char *level, const char *event);
void log_str(struct logline *l, const char *key, const char *value);
void log_strn(struct logline *l, const char *key, const char *value,
              size_t n);
void log_uint(struct logline *l, const char *key, unsigned long long v);
/* microseconds, written as milliseconds with three decimals: 1.234 */
void log_ms(struct logline *l, const char *key, unsigned long long usec);
void log_end(struct logline *l);

/* log_batch(1): log_end() gathers whole lines and log_batch_flush()
 * writes them in one write(2) (at most 4096 bytes, kept whole by a
 * pipe); a daemon that logs a line per request saves a system call per
 * line.  server_run() flushes before every wait and at exit nothing is
 * lost (atexit); a crash loses the lines of one turn of the loop.  Off
 * by default: every line is then its own write. */
void log_batch(int on);
void log_batch_flush(void);

/* Escape value (n bytes) into out (room bytes) as log_strn would; returns
 * the length written, always less than room.  For tests and reports. */
size_t log_escape(char *out, size_t room, const char *value, size_t n);

/* Plain messages: "PROG: warning: TEXT" and the fatal exits.
 * die_sys prints "PROG: fatal: unable to WHAT OBJ: strerror(errno)". */
void warn_msg(const char *text, const char *obj);
void warn_sys(const char *what, const char *obj);
void die_sys(int code, const char *what, const char *obj)
  __attribute__((noreturn));
void die_msg(int code, const char *text, const char *obj)
  __attribute__((noreturn));

/* Exit codes of every program of the suite. */
enum {
  EXIT_DONE = 0,
  EXIT_PERM = 100,  /* usage, bad settings, bad input: retrying won't help */
  EXIT_BUG = 101,   /* internal error, please report */
  EXIT_TEMP = 111   /* system or resource failure: the supervisor retries */
};

#endif
