/*
 * source.c - files, directories and standard input, line by line; see
 * source.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "log.h"
#include "source.h"

int reader_init(struct reader *r, struct stats *st)
{
  memset(r, 0, sizeof *r);
  r->st = st;
  r->buf = malloc(READ_BUF);
  return r->buf ? 0 : -1;
}

void reader_free(struct reader *r)
{
  free(r->buf);
  r->buf = NULL;
}

static int seen_inode(const struct reader *r, const struct stat *s)
{
  unsigned i;

  for (i = 0; i < r->ninodes; i++)
    if (r->inode[i].ino == s->st_ino && r->inode[i].dev == s->st_dev)
      return 1;
  return 0;
}

static void mark_inode(struct reader *r, const struct stat *s)
{
  if (seen_inode(r, s) || r->ninodes >= MAX_INODES) return;
  r->inode[r->ninodes].dev = s->st_dev;
  r->inode[r->ninodes].ino = s->st_ino;
  r->ninodes++;
}

struct file {
  const char *path;
  int fd;
  int skipping;              /* inside an over-long line */
  off_t pos;
  size_t have;
  unsigned long long lineno;
  struct yearref y;
};

static void one_line(struct reader *r, struct file *f, const char *s,
                     size_t n)
{
  stats_line(r->st, &f->y, s, n);
  f->lineno++;
  if (r->hook) r->hook(r->hook_arg, f->path, f->lineno);
}

static void too_long(struct reader *r)
{
  r->st->lines++;
  r->st->too_long++;
  r->st->unknown++;
}

/* The complete lines in buf[0, have); keeps the rest at the front. */
static void split_lines(struct reader *r, struct file *f)
{
  char *p = r->buf, *end = r->buf + f->have, *nl;

  while (p < end && (nl = memchr(p, '\n', (size_t)(end - p)))) {
    if (f->skipping) f->skipping = 0;
    else if (nl - p > LINE_MAX_BYTES) too_long(r);
    else one_line(r, f, p, (size_t)(nl - p));
    p = nl + 1;
  }
  f->have = (size_t)(end - p);
  if (f->skipping) f->have = 0;
  else if (f->have >= LINE_MAX_BYTES) {
    /* no newline in sight: count the line once, drop it to its end */
    too_long(r);
    f->skipping = 1;
    f->have = 0;
  } else if (f->have && p != r->buf)
    memmove(r->buf, p, f->have);
}

/* At end of file: 1 if it was truncated and reading starts over. */
static int truncated(struct reader *r, struct file *f)
{
  struct stat s;

  if (fstat(f->fd, &s) < 0 || !S_ISREG(s.st_mode) || s.st_size >= f->pos)
    return 0;
  r->st->truncated++;
  if (lseek(f->fd, 0, SEEK_SET) < 0) return 0;
  f->pos = 0;
  f->have = 0;
  f->skipping = 0;
  return 1;
}

static int read_fd(struct reader *r, struct file *f)
{
  for (;;) {
    ssize_t n = read(f->fd, r->buf + f->have, READ_BUF - f->have);

    if (n < 0 && errno == EINTR) continue;
    if (n < 0) { warn_sys("read", f->path); return -1; }
    if (n == 0) {
      if (truncated(r, f)) continue;
      break;
    }
    f->pos += n;
    f->have += (size_t)n;
    split_lines(r, f);
  }
  if (f->have && !f->skipping) {
    r->st->partial++;
    one_line(r, f, r->buf, f->have);
  }
  return 0;
}

static long long min_ll(long long a, long long b) { return a < b ? a : b; }

/* Read one open file; the year of syslog stamps comes from its mtime. */
static int read_open(struct reader *r, int fd, const char *path,
                     const struct stat *s)
{
  struct file f;

  memset(&f, 0, sizeof f);
  f.path = path;
  f.fd = fd;
  yearref_init(&f.y, S_ISREG(s->st_mode)
                     ? min_ll((long long)s->st_mtime, r->st->until)
                     : r->st->until);
  r->st->files++;
  mark_inode(r, s);
  return read_fd(r, &f);
}

/* A file compressed by logrotate (mail.log.2.gz): no rotation or
 * truncation to watch, the year of its stamps from its mtime. */
static int read_gz(struct reader *r, const char *path)
{
  struct file f;
  struct stat s;
  gzFile z;
  int n, err;

  if (stat(path, &s) < 0 || !(z = gzopen(path, "rb"))) {
    warn_sys("open", path);
    return -1;
  }
  memset(&f, 0, sizeof f);
  f.path = path;
  yearref_init(&f.y, min_ll((long long)s.st_mtime, r->st->until));
  r->st->files++;
  while ((n = gzread(z, r->buf + f.have,
                     (unsigned)(READ_BUF - f.have))) > 0) {
    f.have += (size_t)n;
    split_lines(r, &f);
  }
  /* zlib reports a stream cut short as a plain end of file: only
   * gzerror() after the last read, or gzclose()'s check of the trailer,
   * tell a truncated or corrupt file from a whole one */
  if (n == 0) gzerror(z, &err);
  else err = Z_ERRNO;
  if (gzclose(z) != Z_OK && err == Z_OK) err = Z_DATA_ERROR;
  if (err != Z_OK)
    warn_msg("damaged gzip file (truncated or corrupt), read in part:",
             path);
  if (f.have && !f.skipping) {
    r->st->partial++;
    one_line(r, &f, r->buf, f.have);
  }
  return err != Z_OK ? -1 : 0;
}

static int is_gz(const char *path)
{
  size_t n = strlen(path);

  return n > 3 && !strcmp(path + n - 3, ".gz");
}

/* A file by name, then whatever replaced it while it was read. */
static int read_file(struct reader *r, const char *path)
{
  struct stat s;
  int fd, rounds, rc = 0;

  for (rounds = 0; rounds < 16; rounds++) {
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT && rounds) break;
      if (errno != ENOENT) { warn_sys("open", path); return -1; }
      r->st->vanished++;            /* removed by multilog meanwhile */
      return 0;
    }
    if (fstat(fd, &s) < 0 || seen_inode(r, &s)) { close(fd); break; }
    if (rounds) r->st->rotated++;
    rc |= read_open(r, fd, path, &s);
    close(fd);
  }
  return rc;
}

/* --- multilog directories -------------------------------------------- */

struct listing {
  char **name;
  unsigned n, cap;
};

static int is_log_name(const char *n)
{
  size_t l = strlen(n);

  if (!strcmp(n, "current")) return 1;
  return l == 27 && n[0] == '@' && n[25] == '.'
         && (n[26] == 's' || n[26] == 'u');
}

static int by_name(const void *a, const void *b)
{
  const char *x = *(char *const *)a, *y = *(char *const *)b;

  /* '@' sorts before 'c', so current comes last */
  return strcmp(x, y);
}

static void listing_free(struct listing *l)
{
  unsigned i;

  for (i = 0; i < l->n; i++) free(l->name[i]);
  free(l->name);
  memset(l, 0, sizeof *l);
}

static int listing_take(struct listing *l, const char *dir)
{
  DIR *d = opendir(dir);
  struct dirent *e;

  memset(l, 0, sizeof *l);
  if (!d) return -1;
  while ((e = readdir(d))) {
    if (!is_log_name(e->d_name)) continue;
    if (l->n == l->cap) {
      unsigned cap = l->cap ? l->cap * 2 : 32;
      char **nn = realloc(l->name, cap * sizeof *nn);

      if (!nn) break;
      l->name = nn;
      l->cap = cap;
    }
    if (!(l->name[l->n] = strdup(e->d_name))) break;
    l->n++;
  }
  closedir(d);
  qsort(l->name, l->n, sizeof *l->name, by_name);
  return 0;
}

static int listed(const struct listing *l, const char *name)
{
  return bsearch(&name, l->name, l->n, sizeof *l->name, by_name) != NULL;
}

static int read_in_dir(struct reader *r, const char *dir, const char *name)
{
  size_t dl = strlen(dir), nl = strlen(name);
  char *p = malloc(dl + nl + 2);
  int rc;

  if (!p) return -1;
  memcpy(p, dir, dl);
  p[dl] = '/';
  memcpy(p + dl + 1, name, nl + 1);
  rc = read_file(r, p);
  free(p);
  return rc;
}

/* Rotated files closed before the window, or opened after it (their
 * predecessor was closed after it), hold no line of the window. */
static int outside_window(const struct reader *r, const char *name,
                          long long prev_closed)
{
  long long closed;

  if (prev_closed >= r->st->until) return 1;
  if (name[0] != '@' || !stamp_tai64n(name, 25, &closed)) return 0;
  return closed < r->st->since;
}

static int read_dir(struct reader *r, const char *dir)
{
  struct listing first, again;
  long long prev = -1;
  unsigned i, pass;
  int rc = 0;

  if (listing_take(&first, dir) < 0) {
    warn_sys("open directory", dir);
    return -1;
  }
  for (i = 0; i < first.n; i++) {
    if (!outside_window(r, first.name[i], prev))
      rc |= read_in_dir(r, dir, first.name[i]);
    if (first.name[i][0] == '@') stamp_tai64n(first.name[i], 25, &prev);
  }
  /* Files that appeared while reading: a rotated current (already read:
   * same inode) or lines that arrived after it. */
  for (pass = 0; pass < 16; pass++) {
    unsigned before = r->ninodes;

    if (listing_take(&again, dir) < 0) break;
    for (i = 0; i < again.n; i++)
      if (!listed(&first, again.name[i]) || !strcmp(again.name[i],
                                                    "current"))
        rc |= read_in_dir(r, dir, again.name[i]);
    listing_free(&again);
    if (r->ninodes == before) break;
  }
  listing_free(&first);
  return rc;
}

int read_log(struct reader *r, const char *path)
{
  struct stat s;

  if (!strcmp(path, "-")) {
    if (fstat(0, &s) < 0) { warn_sys("stat", "standard input"); return -1; }
    return read_open(r, 0, "standard input", &s);
  }
  if (stat(path, &s) < 0) {
    warn_sys("open", path);
    r->unreadable++;
    return -1;
  }
  if ((S_ISDIR(s.st_mode) ? read_dir(r, path) : is_gz(path)
       ? read_gz(r, path) : read_file(r, path)) < 0) {
    r->unreadable++;
    return -1;
  }
  return 0;
}
