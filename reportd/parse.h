/*
 * parse.h - what reportd learns from log lines: one struct stats per
 * report, fed one line at a time by stats_line().  Memory is fixed when
 * stats_init() returns, whatever the number of lines: counters, a
 * bucket array for the charts, and bounded top-N tables (topn.h).
 */
#ifndef REPORTD_PARSE_H
#define REPORTD_PARSE_H

#include <stddef.h>

#include "stamp.h"
#include "topn.h"

/* The layers a recipient passes, in the order of the suite's Postfix
 * wiring (package/gateway/postfix.sh: reject_unlisted_recipient, greyd,
 * policyd, then amavis as content_filter). */
enum layer { L_RCPT, L_GREY, L_POLICY, L_CONTENT, L_N };

/* greyd's reasons (doc/LOGS), in that order. */
enum {
  GR_REJECT_NEW, GR_REJECT_EARLY, GR_PASS_RETRY, GR_PASS_CACHED,
  GR_PASS_AWL, GR_PASS_NEW_WL, GR_PASS_UNSUSP, GR_PASS_WL_CLIENT,
  GR_PASS_WL_RCPT, GR_PASS_WL_SENDER, GR_PASS_STORE, GR_N
};
extern const char *const grey_reason[GR_N];

#define MAX_BUCKETS 48
#define UNKNOWN_SAMPLES 5
#define SAMPLE_MAX 160
#define CLIENTS_TRACKED 4096   /* per top table: clients, networks */
#define NAMES_TRACKED 1024     /* rules, categories, virus names */
#define INBOUND_MAX 8          /* syslog names of the inbound smtpd */
#define INBOUND_LEN 64
#define INBOUND_DEFAULT "postfix/smtpd"
#define QIDS 4096              /* queue IDs of inbound mail, in flight */
#define QID_MAX 24

struct stats {
  long long since, until;              /* window [since, until) */
  long long bucket_secs;
  unsigned nbuckets;
  unsigned long long rejects[L_N][MAX_BUCKETS];

  /* lines */
  unsigned long long lines, in_window, outside, undated, other;
  unsigned long long unknown, too_long, partial;
  unsigned long long files, truncated, rotated, vanished;
  unsigned nsample;
  char sample[UNKNOWN_SAMPLES][SAMPLE_MAX + 1];

  /* Postfix.  Only the inbound SMTP service's smtpd counts (its syslog
   * names, INBOUND_DEFAULT unless told); other smtpd services, amavis's
   * re-injection or submission, are counted apart. */
  int seen_postfix;
  unsigned ninbound;
  char inbound[INBOUND_MAX][INBOUND_LEN];
  unsigned long long other_connects;
  char (*qids)[QID_MAX];     /* hashed; a newcomer overwrites its slot */
  unsigned long long connects, sess, sess_rcpt, sess_accepted, sess_data;
  unsigned long long rcpt_unknown, rcpt_temp, rcpt_relay, rcpt_other;
  unsigned long long queued, queued_rcpts;

  /* greyd */
  int seen_grey;
  unsigned long long grey[GR_N];

  /* policyd: "ACTION\tRULE" -> count */
  int seen_policy;
  unsigned long long pol_total, pol_rejected;
  struct topn *rules;

  /* acctd */
  int seen_acct;
  unsigned long long acct_notfound, acct_temp, acct_bad;

  /* amavis: "Passed CLEAN" ... -> messages; virus name -> messages */
  int seen_amavis;
  unsigned long long av_msgs, av_blocked, av_rcpts, av_blocked_rcpts;
  struct topn *av_cat, *virus;

  /* warnings and fatal lines of the suite's daemons */
  unsigned long long warnings, fatals;

  struct topn *clients, *nets;
};

/* Window [since, until); returns -1 when out of memory. */
int stats_init(struct stats *st, long long since, long long until);
void stats_free(struct stats *st);
/* The inbound smtpd's syslog names, separated by commas or spaces, in
 * place of INBOUND_DEFAULT; -1 when none, too many or one too long. */
int stats_inbound(struct stats *st, const char *names);

/* One line without its newline.  y supplies the year of syslog stamps. */
void stats_line(struct stats *st, struct yearref *y, const char *line,
                size_t len);

/* The /24 (IPv4) or /48 (IPv6) network of an address, into out (at
 * least 64 bytes); returns its length, 0 if ip is not an address. */
size_t net_of(const char *ip, size_t len, char *out);

/* Value of key in a key=value tail (doc/LOGS grammar), unquoted and
 * unescaped into out (room bytes, NUL-terminated); returns its length
 * or -1 when the key is absent. */
long kv_get(const char *s, size_t len, const char *key, char *out,
            size_t room);

#endif
