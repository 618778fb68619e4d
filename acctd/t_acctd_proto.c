/* t_acctd_proto.c - socketmap and tcp_table codecs, exact bytes. */
#include "proto.h"
#include "test.h"

#define N(a) (sizeof (a) / sizeof (a)[0])

/* result as text: "USED name|key", "USED WHY why", "0", "-1 why" */
static void sm_case(const char *in, size_t len, size_t max, char *got,
                    size_t room)
{
  struct request r;
  long n = sm_parse(in, len, max, &r);

  if (n < 0) snprintf(got, room, "-1 %s", r.why);
  else if (n == 0) snprintf(got, room, "0");
  else if (r.why) snprintf(got, room, "%ld WHY %s", n, r.why);
  else snprintf(got, room, "%ld %.*s|%.*s", n, (int)r.namelen, r.name,
                (int)r.keylen, r.key);
}

static const struct { const char *in; const char *want; } sm[] = {
  { "22:rcpt alice@example.com,", "26 rcpt|alice@example.com" },
  { "27:rcpt \"john doe\"@example.com,", "31 rcpt|\"john doe\"@example.com" },
  { "25:rcpt john doe@example.com,", "29 rcpt|john doe@example.com" },
  { "22:rcpt alice@example.com,22:rcpt", "26 rcpt|alice@example.com" },
  { "5:rcpt ,", "8 rcpt|" },
  { "", "0" },
  { "22", "0" },
  { "22:", "0" },
  { "22:rcpt alice@example.com", "0" },
  { "999999999", "0" },
  { "1234567890:", "-1 netstring length too long" },
  { "x:rcpt a,", "-1 not a netstring" },
  { ":rcpt a,", "-1 not a netstring" },
  { "22;rcpt", "-1 not a netstring" },
  { "06:rcpt a,", "-1 netstring length with leading zero" },
  { "5000:rcpt ", "-1 request too long" },
  { "20:rcpt alice@example.com,", "-1 netstring length does not match "
                                  "its content" },
  { "24:rcpt alice@example.com,", "0" },
  { "24:rcpt alice@example.com,xx", "-1 netstring length does not match "
                                    "its content" },
  { "17:alice@example.com,", "21 WHY no map name and space before "
                             "the key" },
  { "18: alice@example.com,", "22 WHY no map name and space before "
                              "the key" },
};

static void test_sm(void)
{
  char got[200], name[80];
  size_t i;

  for (i = 0; i < N(sm); i++) {
    sm_case(sm[i].in, strlen(sm[i].in), 4000, got, sizeof got);
    snprintf(name, sizeof name, "sm_parse case %zu", i);
    test_str(got, sm[i].want, name);
  }
  {
    /* raw bytes pass through: NUL and 8-bit in the key */
    struct request r;

    test_num(sm_parse("8:rcpt a\0\xc3,", 11, 4000, &r), 11,
             "sm_parse raw bytes: length");
    test_ok(r.keylen == 3 && !memcmp(r.key, "a\0\xc3", 3),
            "sm_parse raw bytes in key");
  }
  /* max is the whole netstring (MAXREQUEST 4096 refused 4091 bytes) */
  sm_case("9:rcpt abcd,", 12, 12, got, sizeof got);
  test_str(got, "12 rcpt|abcd", "sm_parse: 12 bytes in max 12");
  sm_case("9:rcpt abcd,", 12, 11, got, sizeof got);
  test_str(got, "-1 request too long", "sm_parse: 12 bytes in max 11");
  sm_case("9:", 2, 11, got, sizeof got);
  test_str(got, "-1 request too long", "sm_parse: too long once LEN is in");
  sm_case("10:rcpt abcde,", 14, 13, got, sizeof got);
  test_str(got, "-1 request too long", "sm_parse: 14 bytes in max 13");
}

static void test_sm_format(void)
{
  char out[64];

  test_num((long long)sm_format(out, sizeof out, "OK", "OK"), 8, "sm OK len");
  test_str(out, "5:OK OK,", "sm OK reply");
  sm_format(out, sizeof out, "NOTFOUND", "");
  test_str(out, "9:NOTFOUND ,", "sm NOTFOUND reply");
  sm_format(out, sizeof out, "TEMP", "cdb_unavailable");
  test_str(out, "20:TEMP cdb_unavailable,", "sm TEMP reply");
  test_num((long long)sm_format(out, 8, "OK", "OK"), 0, "sm short room");
}

static void tt_case(const char *in, size_t len, char *got, size_t room)
{
  struct request r;
  char key[256];
  long n = tt_parse(in, len, key, sizeof key, &r);

  if (n == 0) snprintf(got, room, "0");
  else if (r.why) snprintf(got, room, "%ld WHY %s", n, r.why);
  else snprintf(got, room, "%ld %.*s", n, (int)r.keylen, r.key);
}

static const struct { const char *in; const char *want; } tt[] = {
  { "get alice@example.com\n", "22 alice@example.com" },
  { "get alice@example.com\r\n", "23 alice@example.com" },
  { "get john%20doe@example.com\n", "27 john doe@example.com" },
  { "get %22john%20doe%22@example.com\n", "33 \"john doe\"@example.com" },
  { "get 100%25pct@example.com\n", "26 100%pct@example.com" },
  { "get tab%09x@example.com\n", "24 tab\tx@example.com" },
  { "get j%C3%b6s%c3%A9@example.com\n",
    "31 j\xc3\xb6s\xc3\xa9@example.com" },
  { "get a+b@example.com\nget c@example.com\n", "20 a+b@example.com" },
  { "get \n", "5 " },
  { "get alice@example.com", "0" },
  { "", "0" },
  { "get x%zz@example.com\n", "21 WHY bad %-encoding" },
  { "get x%4\n", "8 WHY bad %-encoding" },
  { "get x%\n", "7 WHY bad %-encoding" },
  { "put a b\n", "8 WHY unknown command (want: get KEY)" },
  { "GET a\n", "6 WHY unknown command (want: get KEY)" },
  { "get\n", "4 WHY unknown command (want: get KEY)" },
  { "\n", "1 WHY unknown command (want: get KEY)" },
};

static void test_tt(void)
{
  char got[200], name[80];
  size_t i;

  for (i = 0; i < N(tt); i++) {
    tt_case(tt[i].in, strlen(tt[i].in), got, sizeof got);
    snprintf(name, sizeof name, "tt_parse case %zu", i);
    test_str(got, tt[i].want, name);
  }
  {
    struct request r;
    char key[16];

    test_num(tt_parse("get a%00b\n", 10, key, sizeof key, &r), 10,
             "tt_parse %00: length");
    test_ok(r.keylen == 3 && !memcmp(r.key, "a\0b", 3),
            "tt_parse %00 decodes to NUL");
  }
}

static void test_tt_room(void)
{
  struct request r;
  char key[4];

  test_num(tt_parse("get abcde\n", 10, key, sizeof key, &r), 10,
           "tt_parse key longer than room: consumed");
  test_str(r.why, "bad %-encoding", "tt_parse key longer than room: error");
}

static void test_tt_format(void)
{
  char out[64];

  tt_format(out, sizeof out, 200, "OK");
  test_str(out, "200 OK\n", "tt 200 reply");
  tt_format(out, sizeof out, 500, "NOTFOUND");
  test_str(out, "500 NOTFOUND\n", "tt 500 reply");
  tt_format(out, sizeof out, 400, "cdb_unavailable");
  test_str(out, "400 cdb_unavailable\n", "tt 400 reply");
  test_num((long long)tt_format(out, 6, 200, "OK"), 0, "tt short room");
}

int main(void)
{
  test_sm();
  test_sm_format();
  test_tt();
  test_tt_room();
  test_tt_format();
  return test_done();
}
