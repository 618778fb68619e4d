/*
 * fuzz_acctd.c - libFuzzer harness for everything acctd and acctd-data
 * parse from outside: the socketmap and tcp_table codecs, the text and
 * LDIF readers, and the CDB checker plus lookups on whatever passes it.
 * The first byte picks the parser; the rest is its input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "db.h"
#include "lookup.h"
#include "proto.h"
#include "reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sink(void *arg, const char *a, size_t n)
{
  (void)arg; (void)a; (void)n;
  return 0;
}

static void codecs(int sm, const char *buf, size_t n)
{
  char key[4096];
  struct request r;

  while (n) {
    long used = sm ? sm_parse(buf, n, 4000, &r)
                   : tt_parse(buf, n, key, sizeof key, &r);

    if (used <= 0) return;
    buf += used;
    n -= (size_t)used;
  }
}

static void cdb(const char *buf, size_t n)
{
  static const char *const keys[] = {
    "alice@example.com", "a+b@example.com", "x@y", "@example.com", "",
  };
  struct db d;
  const char *why;
  unsigned long records;
  size_t i;

  if (db_check(buf, n, &records, &why) < 0) return;
  memset(&d, 0, sizeof d);
  d.map = malloc(n ? n : 1);
  if (!d.map) return;
  memcpy(d.map, buf, n);
  d.size = n;
  for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
    lookup(&d, "+-", keys[i], strlen(keys[i]), &why);
  free(d.map);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *buf = (const char *)data + 1;
  struct reader r;

  if (!size) return 0;
  size--;
  switch (data[0] % 5) {
  case 0: codecs(1, buf, size); break;
  case 1: codecs(0, buf, size); break;
  case 2:
  case 3:
    reader_init(&r, data[0] % 5 == 2 ? READ_TEXT : READ_LDIF, "fuzz",
                data[0] & 0x80, sink, NULL);
    reader_buf(&r, buf, size);
    reader_free(&r);
    break;
  case 4: cdb(buf, size); break;
  }
  return 0;
}
