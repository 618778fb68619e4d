/*
 * test.h - what the unit test programs print: one "ok - NAME" or
 * "not ok - NAME" line per check (tests/run counts them), and on a
 * failure the expected and actual values.  Table-driven tests loop over
 * an array of cases and call these once per case.
 */
#ifndef IMGATE_TEST_H
#define IMGATE_TEST_H

#include <stdio.h>
#include <string.h>

static int test_failed;

static inline int test_ok(int cond, const char *name)
{
  printf("%s - %s\n", cond ? "ok" : "not ok", name);
  if (!cond) test_failed++;
  return cond;
}

static inline int test_str(const char *got, const char *want,
                           const char *name)
{
  int same = (got && want) ? !strcmp(got, want) : got == want;

  if (!test_ok(same, name))
    printf("#   want: [%s]\n#   got:  [%s]\n", want ? want : "(null)",
           got ? got : "(null)");
  return same;
}

static inline int test_num(long long got, long long want, const char *name)
{
  if (!test_ok(got == want, name))
    printf("#   want: %lld\n#   got:  %lld\n", want, got);
  return got == want;
}

static inline int test_done(void)
{
  fflush(stdout);
  return test_failed ? 1 : 0;
}

#endif
