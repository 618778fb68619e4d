/* db.c - read, check and search the accounts CDB (see db.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "cdb.h"
#include "cdb_make.h"
#include "db.h"

#define CDB_HEADER 2048

static uint32_t u32(const char *p)
{
  const unsigned char *u = (const unsigned char *)p;

  return (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16
         | (uint32_t)u[3] << 24;
}

static int check_table(const char *map, size_t size, unsigned t,
                       unsigned long *records, const char **why)
{
  uint64_t hpos = u32(map + 8 * t), slots = u32(map + 8 * t + 4), j;

  if (!slots) return 0;
  if (hpos < CDB_HEADER || hpos + slots * 8 > size) {
    *why = "corrupt: hash table outside the file";
    return -1;
  }
  for (j = 0; j < slots; j++) {
    const char *s = map + hpos + 8 * j;
    uint64_t pos = u32(s + 4);

    if (!pos) continue;
    if ((u32(s) & 255) != t) {
      *why = "corrupt: hash slot in the wrong table";
      return -1;
    }
    if (pos < CDB_HEADER || pos + 8 > hpos
        || pos + 8 + u32(map + pos) + u32(map + pos + 4) > hpos) {
      *why = "corrupt: record outside the data area";
      return -1;
    }
    (*records)++;
  }
  return 0;
}

int db_check(const char *map, size_t size, unsigned long *records,
             const char **why)
{
  unsigned t;

  *records = 0;
  if (size < CDB_HEADER) {
    *why = "corrupt: shorter than the 2048-byte header";
    return -1;
  }
  if (size > 0xffffffffUL) { *why = "corrupt: larger than 4 GB"; return -1; }
  for (t = 0; t < 256; t++)
    if (check_table(map, size, t, records, why) < 0) return -1;
  return 0;
}

static int read_all(int fd, char *buf, size_t n)
{
  while (n) {
    ssize_t r = read(fd, buf, n);

    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) return 1;               /* shorter than fstat said */
    buf += r;
    n -= (size_t)r;
  }
  return 0;
}

static int same_stat(const struct stat *a, const struct stat *b)
{
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino
         && a->st_size == b->st_size
         && a->st_mtim.tv_sec == b->st_mtim.tv_sec
         && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Room for the copy: anonymous memory aligned to 2 MB and marked for
 * huge pages (best effort), since lookups land at random in tens of MB
 * and would otherwise miss the TLB on nearly every probe. */
#define HUGE_PAGE (2UL << 20)

static int map_alloc(struct db *d, size_t n)
{
  char *p;
  uintptr_t a;

  d->baselen = n + HUGE_PAGE;
  p = mmap(NULL, d->baselen, PROT_READ | PROT_WRITE,
           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return -1;
  d->base = p;
  a = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
  d->map = (char *)a;
  if (n >= HUGE_PAGE) madvise(d->map, n, MADV_HUGEPAGE);
  return 0;
}

/* The bytes of fd into d->map; DB_OK, DB_FAIL or DB_BUSY. */
static int load(struct db *d, int fd, const char **why)
{
  struct stat before, after;
  int r;

  if (fstat(fd, &before) < 0) { *why = strerror(errno); return DB_FAIL; }
  if (!S_ISREG(before.st_mode)) { *why = "not a regular file"; return DB_FAIL; }
  if ((unsigned long long)before.st_size > 0xffffffffULL) {
    *why = "corrupt: larger than 4 GB";
    return DB_FAIL;
  }
  d->size = (size_t)before.st_size;
  if (map_alloc(d, d->size) < 0) {
    *why = strerror(errno);
    return DB_FAIL;
  }
  r = read_all(fd, d->map, d->size);
  if (r < 0) { *why = strerror(errno); return DB_FAIL; }
  if (r > 0 || fstat(fd, &after) < 0 || !same_stat(&before, &after)) {
    *why = "file changed while being read";
    return DB_BUSY;
  }
  d->dev = before.st_dev;
  d->ino = before.st_ino;
  d->fsize = before.st_size;
  d->mtime = before.st_mtim;
  return DB_OK;
}

/* What the reserved key says; 0 if it is missing. */
static int read_case(struct db *d, const char **why)
{
  struct cdb c;
  uint32 klen = sizeof DB_CASE_KEY - 1;

  memset(&c, 0, sizeof c);
  c.map = d->map;
  c.size = (uint32)d->size;
  c.fd = -1;
  d->keepcase = 0;
  switch (cdb_find(&c, (const unsigned char *)DB_CASE_KEY, klen)) {
  case 0: return 0;
  case 1: break;
  default: *why = "corrupt: unreadable record"; return -1;
  }
  d->entries--;
  if (cdb_datalen(&c) == 4 && !memcmp(d->map + cdb_datapos(&c), "keep", 4))
    d->keepcase = 1;
  else if (cdb_datalen(&c) != 4
           || memcmp(d->map + cdb_datapos(&c), "fold", 4)) {
    *why = "corrupt: " DB_CASE_KEY " is neither fold nor keep";
    return -1;
  }
  return 0;
}

/* A CDB number: 32 bits, little-endian, at any alignment (records are
 * not aligned; libowfat's inline uint32_unpack loads them whole). */
static uint32 le32(const char *p)
{
  const unsigned char *u = (const unsigned char *)p;

  return (uint32)u[0] | (uint32)u[1] << 8 | (uint32)u[2] << 16
         | (uint32)u[3] << 24;
}

/* Keys with an ASCII capital in a CDB served folded: lookups are lower
 * cased, so such a key never matches (a CDB made with cdb -m from a
 * mixed-case export, say) and its address would get 550.  The records
 * lie between the header and the first hash table. */
static unsigned long count_capitals(const struct db *d)
{
  uint32 end = (uint32)d->size, pos = CDB_HEADER, t, klen, dlen;
  unsigned long n = 0;

  for (t = 0; t < 256; t++) {
    uint32 tp = le32(d->map + 8 * t);

    if (tp >= CDB_HEADER && tp < end) end = tp;
  }
  while (pos + 8 <= end) {
    const char *k = d->map + pos + 8;

    klen = le32(d->map + pos);
    dlen = le32(d->map + pos + 4);
    if (klen > end - pos - 8 || dlen > end - pos - 8 - klen) break;
    for (t = 0; t < klen && !(k[t] >= 'A' && k[t] <= 'Z'); t++) ;
    if (t < klen) n++;
    pos += 8 + klen + dlen;
  }
  return n;
}

int db_open(struct db *d, const char *path, const char **why)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), r;

  memset(d, 0, sizeof *d);
  if (fd < 0) { *why = strerror(errno); return DB_FAIL; }
  r = load(d, fd, why);
  close(fd);
  if (r == DB_OK
      && (db_check(d->map, d->size, &d->entries, why) < 0
          || read_case(d, why) < 0))
    r = DB_FAIL;
  if (r == DB_OK && !d->keepcase) d->capitals = count_capitals(d);
  /* checked: from now on nothing may write to it */
  if (r == DB_OK) mprotect(d->base, d->baselen, PROT_READ);
  if (r != DB_OK) db_close(d);
  return r;
}

/* libowfat's reader is pointed at our checked copy: with map set it
 * bounds-checks every read against size (EPROTO otherwise).  cdb_free()
 * is never called on it: it would munmap() only part of our mapping. */
int db_find(const struct db *d, const char *key, size_t n)
{
  struct cdb c;

  if (!d->map) return -1;
  memset(&c, 0, sizeof c);
  c.map = d->map;
  c.size = (uint32)d->size;
  c.fd = -1;
  return cdb_find(&c, (const unsigned char *)key, n);
}

int db_same(const struct db *d, const struct stat *st)
{
  return d->map && d->dev == st->st_dev && d->ino == st->st_ino
         && d->fsize == st->st_size
         && d->mtime.tv_sec == st->st_mtim.tv_sec
         && d->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

void db_close(struct db *d)
{
  if (d->base) munmap(d->base, d->baselen);
  memset(d, 0, sizeof *d);
}

void db_make_free(struct cdb_make *cm)
{
  while (cm->head) {
    struct cdb_hplist *next = cm->head->next;

    free(cm->head);
    cm->head = next;
  }
  free(cm->split);
  cm->split = NULL;
}
