/*
 * acctd-data - compile the accounts exported from the mailbox server
 * (text or LDIF) into the CDB acctd serves.  See acctd-data(8).
 *
 * OUTPUT is never touched until the new file is complete: the CDB is
 * written to OUTPUT.tmp (created O_EXCL|O_NOFOLLOW, so two runs cannot
 * mix their output and a planted symlink is not followed), fsynced,
 * closed with its result checked, and renamed over OUTPUT.  A bad line
 * or any failure removes OUTPUT.tmp and leaves OUTPUT exactly as it was.
 * The new file gets the permissions (and, as root, owner and group) of
 * the one it replaces, 0644 for a first one, whatever the umask: acctd
 * runs as its own user and must go on reading it.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cdb_make.h"
#include "scan.h"
#include "log.h"
#include "db.h"
#include "reader.h"

/* The temporary file, for the signal handler to remove. */
static const char *volatile tmp_path;

static void on_signal(int sig)
{
  (void)sig;
  if (tmp_path) unlink(tmp_path);
  _exit(EXIT_TEMP);
}

static void fail_sys(const char *what, const char *obj)
{
  int e = errno;

  if (tmp_path) unlink(tmp_path);
  errno = e;
  die_sys(EXIT_TEMP, what, obj);
}

static void usage(void)
{
  die_msg(EXIT_PERM, "usage: acctd-data [-f text|ldif] [-k] [-m MIN] "
          "[-p PERCENT] [-F] SOURCE OUTPUT.cdb", NULL);
}

/* How far a new build may fall short before it is refused. */
struct guard {
  unsigned long min;            /* -m: fewer addresses than this */
  unsigned long percent;        /* -p: fewer than this % of OUTPUT's */
  int force;                    /* -F: skip the percent check */
};

static void refuse(const char *tmp, const char *text, const char *obj)
{
  unlink(tmp);
  die_msg(EXIT_PERM, text, obj);
}

/* An export that failed half-way (LDAP error, empty file, a crashed
 * script) looks like valid input with few or no addresses; compiled, it
 * would make acctd bounce real users.  Refuse it; OUTPUT stays.  n is
 * the distinct addresses; the shrink check compares keys with OUTPUT's
 * records (with -k, folded copies count on both sides). */
static void check_count(const struct guard *g, const char *src,
                        const char *out, const char *tmp,
                        unsigned long n, unsigned long keys)
{
  struct db old;
  const char *why;
  char text[256];
  unsigned long have;

  if (!n) refuse(tmp, "no addresses in the source (a failed export?), "
                 "OUTPUT left as it was:", src);
  if (n < g->min) {
    snprintf(text, sizeof text, "%lu addresses, fewer than -m %lu (a "
             "failed export?), OUTPUT left as it was:", n, g->min);
    refuse(tmp, text, src);
  }
  if (g->force || !g->percent || db_open(&old, out, &why) != DB_OK) return;
  have = old.entries;
  db_close(&old);
  if ((unsigned long long)keys * 100
      >= (unsigned long long)have * g->percent)
    return;
  snprintf(text, sizeof text, "%lu %s, below %lu%% of the %lu in %s (a "
           "partial export? -F builds it anyway), OUTPUT left as it was:",
           keys, keys == n ? "addresses" : "keys", g->percent, have, out);
  refuse(tmp, text, src);
}

static int add(void *arg, const char *addr, size_t n)
{
  return cdb_make_add(arg, (const unsigned char *)addr, n,
                      (const unsigned char *)DB_VALUE,
                      sizeof DB_VALUE - 1);
}

/* Flush the directory entry too: the rename itself must survive a
 * crash, or acctd could come back to the old accounts. */
static void sync_dir(const char *path)
{
  char *copy = strdup(path);
  int fd;

  if (!copy) fail_sys("allocate", "path");
  fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || fsync(fd) < 0) die_sys(EXIT_TEMP, "sync directory of", path);
  close(fd);
  free(copy);
}

/* Cron runs us under umask 077 (for the LDIF export beside it), and a
 * 0600 root CDB is one acctd cannot read: every new account got 550 and,
 * after a restart, every lookup 451.  Take the old file's permissions
 * (and owner, as root); a first CDB is 0644, the accounts being no
 * secret on a gateway whose Postfix answers for them anyway. */
static void inherit(int fd, const char *out, const char *tmp)
{
  struct stat st;
  mode_t mode = 0644;

  if (stat(out, &st) == 0) {
    mode = st.st_mode & 0777;
    if (!geteuid() && fchown(fd, st.st_uid, st.st_gid) < 0)
      fail_sys("set owner of", tmp);
  } else if (errno != ENOENT) fail_sys("stat", out);
  if (fchmod(fd, mode) < 0) fail_sys("set mode of", tmp);
}

static int open_tmp(const char *out, char **tmp)
{
  size_t n = strlen(out);
  int fd;

  if (!(*tmp = malloc(n + 5))) die_sys(EXIT_TEMP, "allocate", "path");
  memcpy(*tmp, out, n);
  memcpy(*tmp + n, ".tmp", 5);
  fd = open(*tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
            0644);
  if (fd < 0 && errno == EEXIST)
    die_msg(EXIT_TEMP, "temporary file exists (another acctd-data "
            "running? if not, remove it):", *tmp);
  if (fd < 0) die_sys(EXIT_TEMP, "create", *tmp);
  tmp_path = *tmp;
  inherit(fd, out, *tmp);
  return fd;
}

static void report(const char *out, const struct reader *r)
{
  struct logline l;

  log_start(&l, "info", "built");
  log_str(&l, "file", out);
  log_uint(&l, "addresses", r->addrs);
  log_uint(&l, "keys", r->keys);
  log_uint(&l, "duplicates", r->dups);
  log_uint(&l, "skipped", r->skipped);
  log_str(&l, "case", r->keepcase ? "keep" : "fold");
  log_end(&l);
}

static void build(const char *src, int in, const char *out,
                  enum reader_format f, int keepcase, const struct guard *g)
{
  static struct cdb_make cm;
  static struct reader r;
  char *tmp;
  const char *mode = keepcase ? "keep" : "fold";
  int fd = open_tmp(out, &tmp), rc;

  if (cdb_make_start(&cm, fd) < 0
      || cdb_make_add(&cm, (const unsigned char *)DB_CASE_KEY,
                      sizeof DB_CASE_KEY - 1, (const unsigned char *)mode,
                      4) < 0)
    fail_sys("write", tmp);
  reader_init(&r, f, src, keepcase, add, &cm);
  rc = reader_fd(&r, in);
  if (rc == READ_BAD) {
    unlink(tmp);
    die_msg(EXIT_PERM, r.why, NULL);
  }
  if (rc == READ_SYS) fail_sys("read or write for", src);
  check_count(g, src, out, tmp, r.addrs, r.keys);
  if (cdb_make_finish(&cm) < 0) fail_sys("write", tmp);
  db_make_free(&cm);
  if (fsync(fd) < 0) fail_sys("sync", tmp);
  if (close(fd) < 0) fail_sys("close", tmp);
  if (rename(tmp, out) < 0) fail_sys("rename into place", out);
  tmp_path = NULL;
  sync_dir(out);
  report(out, &r);
  reader_free(&r);
  free(tmp);
}

static unsigned long number(const char *s, unsigned long lo,
                            unsigned long hi)
{
  unsigned long v;
  size_t n = scan_ulong(s, &v);

  if (!n || s[n] || v < lo || v > hi)
    die_msg(EXIT_PERM, "bad number for -m or -p:", s);
  return v;
}

int main(int argc, char **argv)
{
  enum reader_format f = READ_TEXT;
  struct guard g = { 1, 50, 0 };
  int keepcase = 0, c, in;
  const char *src;

  log_init("acctd-data");
  while ((c = getopt(argc, argv, "f:km:p:F")) != -1) {
    if (c == 'k') keepcase = 1;
    else if (c == 'F') g.force = 1;
    else if (c == 'm') g.min = number(optarg, 1, 4000000000UL);
    else if (c == 'p') g.percent = number(optarg, 0, 100);
    else if (c == 'f' && !strcmp(optarg, "text")) f = READ_TEXT;
    else if (c == 'f' && !strcmp(optarg, "ldif")) f = READ_LDIF;
    else usage();
  }
  if (argc - optind != 2) usage();
  src = argv[optind];
  in = strcmp(src, "-") ? open(src, O_RDONLY | O_CLOEXEC) : 0;
  if (in < 0) die_sys(EXIT_TEMP, "open", src);
  if (!strcmp(src, "-")) src = "stdin";
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  signal(SIGHUP, on_signal);
  build(src, in, argv[optind + 1], f, keepcase, &g);
  return EXIT_DONE;
}
