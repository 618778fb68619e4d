/*
 * acctd-data - compile the accounts exported from the mailbox server
 * (text or LDIF) into the CDB acctd serves.  See acctd-data(8).
 *
 * OUTPUT is never touched until the new file is complete: the CDB is
 * written to OUTPUT.tmp (created O_EXCL|O_NOFOLLOW, so two runs cannot
 * mix their output and a planted symlink is not followed), fsynced,
 * closed with its result checked, and renamed over OUTPUT.  A bad line
 * or any failure removes OUTPUT.tmp and leaves OUTPUT exactly as it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cdb_make.h"
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
  die_msg(EXIT_PERM, "usage: acctd-data [-f text|ldif] [-k] SOURCE "
          "OUTPUT.cdb", NULL);
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
  return fd;
}

static void report(const char *out, const struct reader *r)
{
  struct logline l;

  log_start(&l, "info", "built");
  log_str(&l, "file", out);
  log_uint(&l, "addresses", r->addrs);
  log_uint(&l, "duplicates", r->dups);
  log_uint(&l, "skipped", r->skipped);
  log_str(&l, "case", r->keepcase ? "keep" : "fold");
  log_end(&l);
}

static void build(const char *src, int in, const char *out,
                  enum reader_format f, int keepcase)
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

int main(int argc, char **argv)
{
  enum reader_format f = READ_TEXT;
  int keepcase = 0, c, in;
  const char *src;

  log_init("acctd-data");
  while ((c = getopt(argc, argv, "f:k")) != -1) {
    if (c == 'k') keepcase = 1;
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
  build(src, in, argv[optind + 1], f, keepcase);
  return EXIT_DONE;
}
