/* t_lib.c - unit tests for log escaping, settings and the policy codec. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include "log.h"
#include "policy.h"
#include "settings.h"
#include "test.h"

static void test_escape(void)
{
  static const struct { const char *in; const char *out; } cases[] = {
    { "plain@example.com", "plain@example.com" },
    { "", "" },
    { "Reject new triplet", "\"Reject new triplet\"" },
    { "a\"b", "\"a\\\"b\"" },
    { "back\\slash", "\"back\\\\slash\"" },
    { "new\nline", "\"new\\x0aline\"" },
    { "tab\there", "\"tab\\x09here\"" },
    { "\xc3\xa9t\xc3\xa9", "\"\\xc3\\xa9t\\xc3\\xa9\"" },
    { "key=value", "key=value" },
  };
  char out[LOG_VALUE_MAX * 4 + 8], name[96];
  size_t i;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    log_escape(out, sizeof out, cases[i].in, strlen(cases[i].in));
    snprintf(name, sizeof name, "log_escape case %zu", i);
    test_str(out, cases[i].out, name);
  }
}

static void test_escape_cap(void)
{
  char big[1000], out[LOG_VALUE_MAX * 4 + 8];
  size_t n;

  memset(big, 'x', sizeof big);
  n = log_escape(out, sizeof out, big, sizeof big);
  test_num((long long)n, LOG_VALUE_MAX + 5, "long value cut to the cap");
  test_ok(!strcmp(out + n - 4, "...\""), "cut value ends in ...\"");
  n = log_escape(out, 10, big, sizeof big);
  test_ok(n < 10 && out[n] == 0, "escape never overruns a small buffer");
}

static void test_seconds(void)
{
  static const struct { const char *in; long long want; } cases[] = {
    { "300", 300 }, { "5m", 300 }, { "2d", 172800 }, { "35d", 3024000 },
    { "1w", 604800 }, { "0", 0 }, { "", -1 }, { "m", -1 }, { "-5", -1 },
    { "5x", -1 }, { "99999999999999999999", -1 }, { "1.5h", -1 },
  };
  size_t i;
  char name[64];

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    unsigned long long v = 0;
    int r = parse_seconds(cases[i].in, ~0ULL, &v);

    snprintf(name, sizeof name, "parse_seconds(\"%s\")", cases[i].in);
    test_num(r < 0 ? -1 : (long long)v, cases[i].want, name);
  }
}


/* Set empty, a SET_STRING takes its default and a SET_STRING0 stays
 * empty (greyd's RECIPIENT_DELIMITER= means none, SUSPICIOUS= is an
 * error its daemon can see). */
static void test_settings_empty(void)
{
  struct setting t[2] = {
    { "T_LIB_EMPTY", SET_STRING, "+", 0, 8, 0, 0 },
    { "T_LIB_EMPTY", SET_STRING0, "+", 0, 8, 0, 0 },
  };

  setenv("T_LIB_EMPTY", "", 1);
  settings_load(t, 2);
  test_str(t[0].str, "+", "SET_STRING set empty takes the default");
  test_str(t[1].str, "", "SET_STRING0 set empty stays empty");
  unsetenv("T_LIB_EMPTY");
  settings_load(t, 2);
  test_str(t[1].str, "+", "SET_STRING0 unset takes the default");
}
static void test_settings(void)
{
  struct setting s = { "DELAY", SET_SECONDS, "300", 1, 86400, 0, NULL };
  struct setting b = { "FLAG", SET_BOOL, "no", 0, 1, 0, NULL };
  struct setting m = { "MODE", SET_OCTAL, "0666", 0, 0777, 0, NULL };
  const char *why = NULL;

  test_num(setting_parse(&s, "5m", &why), 0, "seconds setting parses");
  test_num((long long)s.num, 300, "seconds setting value");
  test_num(setting_parse(&s, "0", &why), -1, "below min is refused");
  test_str(why, "is out of range", "below min reason");
  test_num(setting_parse(&s, "2d", &why), -1, "above max is refused");
  test_num(setting_parse(&b, "Yes", &why), 0, "bool yes");
  test_num((long long)b.num, 1, "bool value");
  test_num(setting_parse(&b, "maybe", &why), -1, "bool garbage refused");
  test_num(setting_parse(&m, "0660", &why), 0, "octal mode");
  test_num((long long)m.num, 0660, "octal value");
  test_num(setting_parse(&m, "0999", &why), -1, "bad octal refused");
  setenv("T_LIB_DELAY", "42", 1);
  s.name = "T_LIB_DELAY";
  settings_load(&s, 1);
  test_num((long long)s.num, 42, "settings_load reads the environment");
  s.name = "T_LIB_UNSET";
  settings_load(&s, 1);
  test_num((long long)s.num, 300, "settings_load applies the default");
  test_settings_empty();
}

/* A control character anywhere is refused, whatever the type; spaces
 * and bytes past ASCII (UTF-8) in a string are not. */
static void test_settings_control(void)
{
  static const struct {
    enum setting_type type;
    const char *value;
    int want;
  } t[] = {
    { SET_SECONDS, "10\r", -1 }, { SET_SECONDS, "10", 0 },
    { SET_UINT, "5\r", -1 }, { SET_UINT, "\t5", -1 },
    { SET_BOOL, "yes\r", -1 }, { SET_OCTAL, "0660\r", -1 },
    { SET_STRING, "+\r", -1 }, { SET_STRING, "a\tb", -1 },
    { SET_STRING, "a\nb", -1 }, { SET_STRING, "a\x7f", -1 },
    { SET_STRING, "\x1b[1m", -1 },
    { SET_STRING, "Greylisted, try again in %s seconds", 0 },
    { SET_STRING, "Gr\xc3\xbc\xc3\x9f" "e", 0 },
  };
  char name[96], esc[64];
  size_t i;

  for (i = 0; i < sizeof t / sizeof *t; i++) {
    struct setting s = { "X", t[i].type, NULL, 0, 4096, 0, NULL };
    const char *why = "";
    int r = setting_parse(&s, t[i].value, &why);

    log_escape(esc, sizeof esc, t[i].value, strlen(t[i].value));
    snprintf(name, sizeof name, "type %d %s: %s", (int)t[i].type, esc,
             t[i].want ? "refused" : "taken");
    test_num(r, t[i].want, name);
    snprintf(name, sizeof name, "type %d %s: the reason", (int)t[i].type,
             esc);
    if (t[i].want)
      test_str(why, "holds a control character (a file saved with CRLF "
               "line ends?)", name);
  }
}

static void test_policy_parse(void)
{
  char req[] = "request=smtpd_access_policy\nprotocol_state=RCPT\n"
               "client_address=192.0.2.7\nclient_name=unknown\n"
               "helo_name=PC01\nsender=\nrecipient=A@Example.COM\n"
               "sender=second@wins.not\nsomething_new=x=y\n\n"
               "request=smtpd_access_policy\n";
  struct policy_request r;
  long n = policy_parse(req, sizeof req - 1, &r);

  test_ok(n > 0 && req[n] == 'r', "parse stops after the empty line");
  test_str(r.client_address, "192.0.2.7", "client_address");
  test_str(r.helo_name, "PC01", "helo_name");
  test_str(r.sender, "", "empty sender stays empty, first one wins");
  test_str(r.recipient, "A@Example.COM", "recipient keeps its case");
  test_str(r.reverse_client_name, "", "absent attribute is empty");
  test_num(r.attributes, 9, "attribute count");
  n = policy_parse(req + n, sizeof req - 1 - (size_t)n, &r);
  test_num(n, 0, "half a request needs more");
  test_str(r.client_address, "", "no leak from the previous request");
}

static void test_policy_bad(void)
{
  char noeq[] = "request=smtpd_access_policy\ngarbage\n\n";
  char noname[] = "=value\n\n";
  char nul[] = "a=b\0c\n\n";
  char empty[] = "\n";
  struct policy_request r;

  test_num(policy_parse(noeq, sizeof noeq - 1, &r), POLICY_MALFORMED,
           "line without = is malformed");
  test_num(policy_parse(noname, sizeof noname - 1, &r), POLICY_MALFORMED,
           "empty name is malformed");
  test_num(policy_parse(nul, sizeof nul - 1, &r), POLICY_MALFORMED,
           "NUL byte is malformed");
  test_num(policy_parse(empty, 1, &r), 1, "lone empty line is a request");
  test_num(r.attributes, 0, "with no attributes");
}

static void test_policy_crlf(void)
{
  char req[] = "request=smtpd_access_policy\r\nclient_address=192.0.2.7\r\n"
               "sender=a@example.net\r\n\r\nrequest=x\n";
  char empty[] = "\r\nrest";
  struct policy_request r;
  long n = policy_parse(req, sizeof req - 1, &r);

  test_num(n, (long)(sizeof req - 1 - 10), "CRLF request ends at CRLF CRLF");
  test_str(r.client_address, "192.0.2.7", "CRLF: value without the CR");
  test_str(r.sender, "a@example.net", "CRLF: last value without the CR");
  test_num(r.attributes, 3, "CRLF: attribute count");
  test_num(policy_parse(empty, sizeof empty - 1, &r), 2,
           "a lone CRLF is an empty request");
}

static void test_policy_format(void)
{
  char out[64];

  policy_format(out, sizeof out, "DUNNO", NULL);
  test_str(out, "action=DUNNO\n\n", "format without text");
  policy_format(out, sizeof out, "DEFER_IF_PERMIT", "Greylisted\r\nX");
  test_str(out, "action=DEFER_IF_PERMIT Greylisted  X\n\n",
           "control characters in the text become spaces");
  test_num((long long)policy_format(out, 10, "REJECT", "too long"), 0,
           "format refuses to overrun");
}

/* log_batch: lines wait for log_batch_flush, then come out whole, in order,
 * in one write. */
static void test_hold(void)
{
  struct logline l;
  char buf[8192];
  int p[2], saved = dup(2);
  ssize_t n;

  if (pipe(p) < 0 || saved < 0) { test_ok(0, "pipe for log_batch"); return; }
  fcntl(p[0], F_SETFL, O_NONBLOCK);
  dup2(p[1], 2);
  log_batch(1);
  log_start(&l, "info", "one");
  log_end(&l);
  log_start(&l, "info", "two");
  log_str(&l, "k", "v");
  log_end(&l);
  n = read(p[0], buf, sizeof buf);
  test_num(n, -1, "log_batch: nothing written before log_batch_flush");
  log_batch_flush();
  n = read(p[0], buf, sizeof buf - 1);
  buf[n > 0 ? n : 0] = 0;
  test_str(buf, "t_lib: info: one\nt_lib: info: two k=v\n",
           "log_batch_flush: both lines, in order, in one write");
  log_batch(0);
  log_start(&l, "info", "three");
  log_end(&l);
  n = read(p[0], buf, sizeof buf - 1);
  buf[n > 0 ? n : 0] = 0;
  test_str(buf, "t_lib: info: three\n", "log_batch(0): written at once");
  dup2(saved, 2);
  close(saved);
  close(p[0]);
  close(p[1]);
}

int main(void)
{
  log_init("t_lib");
  test_hold();
  test_escape();
  test_escape_cap();
  test_seconds();
  test_settings();
  test_settings_control();
  test_policy_parse();
  test_policy_bad();
  test_policy_crlf();
  test_policy_format();
  return test_done();
}
