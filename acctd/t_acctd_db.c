/* t_acctd_db.c - the CDB reader's checks and the lookup order, on CDBs
 * written here with libowfat's cdb_make (and then damaged). */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include "cdb_make.h"
#include "addr.h"
#include "db.h"
#include "lookup.h"
#include "test.h"

#define N(a) (sizeof (a) / sizeof (a)[0])

static char path[] = "/tmp/t_acctd_db.XXXXXX";

static void make(const char *const *keys, size_t n, const char *casemode)
{
  struct cdb_make cm;
  int fd = open(path, O_WRONLY | O_TRUNC);
  size_t i;

  cdb_make_start(&cm, fd);
  if (casemode)
    cdb_make_add(&cm, (const unsigned char *)DB_CASE_KEY, 10,
                 (const unsigned char *)casemode, strlen(casemode));
  for (i = 0; i < n; i++)
    cdb_make_add(&cm, (const unsigned char *)keys[i], strlen(keys[i]),
                 (const unsigned char *)"OK", 2);
  cdb_make_finish(&cm);
  db_make_free(&cm);
  close(fd);
}

static const char *const accounts[] = {
  "alice@example.com", "bob@example.com", "@catchall.example.com",
  "john doe@example.com", "j\xc3\xb6s\xc3\xa9@example.com",
  "lit+eral@example.com", "postmaster@example.com",
};

static const char *result(enum lookup_result r)
{
  return r == LOOKUP_FOUND ? "found" : r == LOOKUP_NOTFOUND ? "notfound"
                                                            : "temp";
}

static void test_lookup(void)
{
  static const struct { const char *key, *delims, *want; } c[] = {
    { "alice@example.com", "+", "found" },
    { "alice+tag@example.com", "+", "found" },
    { "alice+tag+more@example.com", "+", "found" },
    { "alice-tag@example.com", "+", "notfound" },
    { "alice-tag@example.com", "+-", "found" },
    { "alice+tag@example.com", NULL, "notfound" },
    { "ALICE@Example.COM", "+", "found" },       /* postmap -q keeps case */
    { "Alice+X@EXAMPLE.com", "+", "found" },
    { "nobody@example.com", "+", "notfound" },
    { "anyone@catchall.example.com", "+", "found" },
    { "any+thing@catchall.example.com", "+", "found" },
    { "x@sub.catchall.example.com", "+", "notfound" },
    { "\"john doe\"@example.com", "+", "notfound" }, /* Postfix asks again */
    { "john doe@example.com", "+", "found" },
    { "J\xc3\x96S\xc3\x89@example.com", "+", "found" },
    { "lit+eral@example.com", "+", "found" },
    { "lit+other@example.com", "+", "notfound" },
    { "postmaster+x@example.com", "+", "found" },
    { DB_CASE_KEY, "+", "notfound" },
    { "@example.com", "+", "notfound" },
    { "@catchall.example.com", "+", "found" },
    { "", "+", "notfound" },
    { "no-at-sign", "+", "notfound" },
    { "+@example.com", "+", "notfound" },
  };
  struct db d;
  const char *why = "";
  char name[128];
  size_t i;

  make(accounts, N(accounts), "fold");
  test_num(db_open(&d, path, &why), DB_OK, "db_open good cdb");
  test_num((long long)d.entries, (long long)N(accounts), "entries counted");
  test_num(d.keepcase, 0, "case fold read from the cdb");
  for (i = 0; i < N(c); i++) {
    snprintf(name, sizeof name, "lookup %s (%s)", c[i].key,
             c[i].delims ? c[i].delims : "no delimiter");
    test_str(result(lookup(&d, c[i].delims, c[i].key, strlen(c[i].key),
                           &why)), c[i].want, name);
  }
  lookup(&d, "+", "nobody@example.com", 18, &why);
  test_str(why, "unknown", "why for a plain notfound");
  lookup(&d, "+", "\"q\"@example.com", 15, &why);
  test_str(why, "quoted", "why for the quoted form");
  {
    /* the longest keys: too long to be stored; UTF-8 that grows when
     * lower-cased (U+023A, 2 bytes, becomes U+2C65, 3 bytes) */
    char big[ADDR_MAX + 8];
    size_t k;

    memset(big, 'a', sizeof big);
    memcpy(big + ADDR_MAX - 4, "@x.y", 4);
    test_str(result(lookup(&d, "+", big, ADDR_MAX + 1, &why)), "notfound",
             "key over ADDR_MAX: notfound");
    test_str(why, "too_long", "key over ADDR_MAX: why");
    for (k = 0; k + 2 <= ADDR_MAX - 4; k += 2) memcpy(big + k, "\xc8\xba", 2);
    memcpy(big + k, "@x.y", 4);
    test_str(result(lookup(&d, "+", big, k + 4, &why)), "notfound",
             "key growing when lower-cased: notfound, no overflow");
    test_str(why, "unknown", "key growing when lower-cased: why");
  }
  db_close(&d);
  test_str(result(lookup(&d, "+", "alice@example.com", 17, &why)), "temp",
           "no cdb: temp");
  test_str(why, "cdb_unavailable", "no cdb: why");
}

static void test_keepcase(void)
{
  static const char *const keys[] = { "Alice@example.com" };
  struct db d;
  const char *why;

  make(keys, 1, "keep");
  test_num(db_open(&d, path, &why), DB_OK, "db_open keep-case cdb");
  test_num(d.keepcase, 1, "case keep read from the cdb");
  test_str(result(lookup(&d, "+", "Alice@EXAMPLE.com", 17, &why)), "found",
           "keep case: exact local part, any domain case");
  test_str(result(lookup(&d, "+", "alice@example.com", 17, &why)),
           "notfound", "keep case: other case of the local part");
  db_close(&d);
  make(keys, 1, NULL);
  test_num(db_open(&d, path, &why), DB_OK, "db_open cdb without case key");
  test_num(d.keepcase, 0, "no case key: fold");
  test_num((long long)d.entries, 1, "no case key: entries");
  db_close(&d);
  make(keys, 1, "huh?");
  test_num(db_open(&d, path, &why), DB_FAIL, "bad case key refused");
  test_str(why, "corrupt: acctd:case is neither fold nor keep",
           "bad case key why");
}

/* The good CDB's bytes, then damaged copies of them. */
static size_t slurp(char *buf, size_t room)
{
  int fd = open(path, O_RDONLY);
  ssize_t n = read(fd, buf, room);

  close(fd);
  return n > 0 ? (size_t)n : 0;
}

static void spit(const char *buf, size_t n)
{
  int fd = open(path, O_WRONLY | O_TRUNC);

  if (write(fd, buf, n) != (ssize_t)n) perror("write");
  close(fd);
}

static void put32(char *p, uint32_t v)
{
  p[0] = (char)v; p[1] = (char)(v >> 8);
  p[2] = (char)(v >> 16); p[3] = (char)(v >> 24);
}

static void test_corrupt(void)
{
  static char good[65536], bad[65536];
  size_t n, i;
  struct db d;
  const char *why = "";
  unsigned t;

  make(accounts, N(accounts), "fold");
  n = slurp(good, sizeof good);
  spit(good, 100);
  test_num(db_open(&d, path, &why), DB_FAIL, "truncated to 100 bytes");
  test_str(why, "corrupt: shorter than the 2048-byte header", "why 100");
  spit(good, n - 1);
  test_num(db_open(&d, path, &why), DB_FAIL, "truncated by one byte");
  test_str(why, "corrupt: hash table outside the file", "why n-1");
  spit(good, 0);
  test_num(db_open(&d, path, &why), DB_FAIL, "empty file");
  /* a table pointing far outside */
  memcpy(bad, good, n);
  for (t = 0; t < 256 && !((unsigned char)bad[8 * t + 4]); t++) ;
  put32(bad + 8 * t, 0xfffffff0u);
  spit(bad, n);
  test_num(db_open(&d, path, &why), DB_FAIL, "table offset out of range");
  test_str(why, "corrupt: hash table outside the file", "why table");
  /* a huge slot count (libowfat would loop for ever on it) */
  memcpy(bad, good, n);
  put32(bad + 8 * t + 4, 0x20000001u);
  spit(bad, n);
  test_num(db_open(&d, path, &why), DB_FAIL, "slot count out of range");
  /* a record length running past the end */
  memcpy(bad, good, n);
  put32(bad + 2048, 0xffffff00u);
  spit(bad, n);
  test_num(db_open(&d, path, &why), DB_FAIL, "record length out of range");
  test_str(why, "corrupt: record outside the data area", "why record");
  test_num(db_open(&d, "/nonexistent/acctd.cdb", &why), DB_FAIL,
           "missing file");
  test_str(why, "No such file or directory", "missing file why");
  /* Random damage: every lookup either fails at open or answers; ASan
   * and UBSan watch the reads.  Bounded: 3000 damaged copies. */
  srandom(42);
  for (i = 0; i < 3000; i++) {
    size_t k, flips = 1 + (size_t)random() % 8;

    memcpy(bad, good, n);
    for (k = 0; k < flips; k++)
      bad[(size_t)random() % n] = (char)random();
    spit(bad, n - (i % 3 == 2 ? (size_t)random() % n : 0));
    if (db_open(&d, path, &why) == DB_OK) {
      size_t a;

      for (a = 0; a < N(accounts); a++)
        lookup(&d, "+", accounts[a], strlen(accounts[a]), &why);
      lookup(&d, "+", "x+y@catchall.example.com", 24, &why);
      db_close(&d);
    }
  }
  test_ok(1, "3000 damaged cdbs opened and searched without a crash");
}

int main(void)
{
  int fd = mkstemp(path);

  if (fd < 0) { perror("mkstemp"); return 111; }
  close(fd);
  test_lookup();
  test_keepcase();
  test_corrupt();
  unlink(path);
  return test_done();
}
