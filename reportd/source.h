/*
 * source.h - reading logs line by line into a struct stats, whatever
 * happens to them meanwhile.
 *
 * A LOG is a file (gzip-compressed if its name ends in .gz, as
 * logrotate leaves old ones), "-" (standard input), or a multilog
 * directory: its
 * rotated files @<tai64n>.s (and .u) in name order, which is time
 * order, then current.  A rotated file whose name (the time it was
 * closed) is before the window is skipped unread, and so is a file
 * whose predecessor was closed after the window.
 *
 * While a file is read:
 *   - rotation: a file renamed away is read to its end through the
 *     descriptor already open; then the path is looked at again and a
 *     new file there is read too.  For a directory the listing is taken
 *     again at the end and every file not yet read (by inode) and not in
 *     the first listing is read: nothing is read twice, nothing lost.
 *   - truncation (copytruncate, "> file"): at end of file a size below
 *     the offset means the file was truncated; reading goes on from its
 *     start.
 *   - a partial last line (no newline yet) is parsed as a line and
 *     counted; a line longer than LINE_MAX is counted and skipped.
 * Memory: one read buffer of READ_BUF bytes, whatever the file size.
 */
#ifndef REPORTD_SOURCE_H
#define REPORTD_SOURCE_H

#include <sys/types.h>

#include "parse.h"

#define READ_BUF (1 << 20)
#define LINE_MAX_BYTES 16384
#define MAX_INODES 4096

struct reader {
  struct stats *st;
  /* Called after every line (tests rotate and truncate from it). */
  void (*hook)(void *arg, const char *path, unsigned long long lineno);
  void *hook_arg;
  char *buf;
  unsigned ninodes;
  struct { dev_t dev; ino_t ino; } inode[MAX_INODES];
  unsigned long long unreadable;
};

/* Returns -1 when out of memory. */
int reader_init(struct reader *r, struct stats *st);
void reader_free(struct reader *r);

/* Read one LOG; returns 0, or -1 (with a warning) if it could not be
 * read at all. */
int read_log(struct reader *r, const char *path);

#endif
