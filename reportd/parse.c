/*
 * parse.c - from log lines to counters; see parse.h.
 *
 * A line is first stripped of its time stamp (TAI64N label, syslog or
 * RFC 3339); a dated line outside the window is counted and dropped at
 * once, which keeps the common case cheap.  Then it is one of:
 *   syslog/maillog_file  "host tag[pid]: message"  (Postfix, amavis, or
 *                        one of the suite's daemons through syslog)
 *   multilog             "prog: level: event key=value ..." (doc/LOGS),
 *                        or amavis on stderr "<5>(id) Passed ...", or a
 *                        syslog-style line (Postfix with maillog_file =
 *                        /dev/stdout under supervise)
 * Lines of other programs are "other"; lines that fit none of these, or
 * a suite line that breaks the grammar, are "not understood".
 */
#include <stdlib.h>
#include <string.h>
#include "ip4.h"
#include "ip6.h"

#include "parse.h"

const char *const grey_reason[GR_N] = {
  "Reject new triplet", "Reject early retry", "Pass retry",
  "Pass cached triplet", "Pass and auto-whitelist IP",
  "Pass new triplet from white listed IP", "Pass unsuspicious client",
  "Pass whitelisted client", "Pass whitelisted recipient",
  "Pass whitelisted sender", "Pass store failure"
};

#define VAL_MAX 512

/* A fixed piece of text at the start of [s, s+len). */
#define STARTS(s, len, lit) \
  ((len) >= sizeof(lit) - 1 && !memcmp((s), (lit), sizeof(lit) - 1))

int stats_init(struct stats *st, long long since, long long until)
{
  long long span = until > since ? until - since : 1;

  memset(st, 0, sizeof *st);
  st->since = since;
  st->until = until;
  /* Hours while the window fits in MAX_BUCKETS of them, else wider
   * buckets of whole hours. */
  stats_inbound(st, INBOUND_DEFAULT);
  st->bucket_secs = 3600 * ((span + 3600LL * MAX_BUCKETS - 1)
                            / (3600LL * MAX_BUCKETS));
  if (st->bucket_secs < 3600) st->bucket_secs = 3600;
  st->nbuckets = (unsigned)((span + st->bucket_secs - 1) / st->bucket_secs);
  if (st->nbuckets > MAX_BUCKETS) st->nbuckets = MAX_BUCKETS;
  if (!st->nbuckets) st->nbuckets = 1;
  st->rules = topn_new(NAMES_TRACKED);
  st->av_cat = topn_new(NAMES_TRACKED);
  st->virus = topn_new(NAMES_TRACKED);
  st->clients = topn_new(CLIENTS_TRACKED);
  st->nets = topn_new(CLIENTS_TRACKED);
  st->qids = calloc(QIDS, QID_MAX);
  if (!st->qids || !st->rules || !st->av_cat || !st->virus || !st->clients
      || !st->nets) {
    stats_free(st);
    return -1;
  }
  return 0;
}

void stats_free(struct stats *st)
{
  topn_free(st->rules); topn_free(st->av_cat); topn_free(st->virus);
  topn_free(st->clients); topn_free(st->nets);
  free(st->qids);
  st->qids = NULL;
  st->rules = st->av_cat = st->virus = st->clients = st->nets = NULL;
}

int stats_inbound(struct stats *st, const char *names)
{
  char in[INBOUND_MAX][INBOUND_LEN];
  unsigned n = 0;

  while (*names) {
    size_t k = strcspn(names, ", ");

    if (k) {
      if (n == INBOUND_MAX || k >= INBOUND_LEN) return -1;
      memcpy(in[n], names, k);
      in[n++][k] = 0;
    }
    names += k;
    names += strspn(names, ", ");
  }
  if (!n) return -1;
  memcpy(st->inbound, in, sizeof in);
  st->ninbound = n;
  return 0;
}

static int is_inbound(const struct stats *st, const char *tag, size_t n)
{
  unsigned i;

  for (i = 0; i < st->ninbound; i++)
    if (strlen(st->inbound[i]) == n && !memcmp(st->inbound[i], tag, n))
      return 1;
  return 0;
}

static void unknown(struct stats *st, const char *line, size_t len)
{
  char *o;
  size_t i;

  st->unknown++;
  if (st->nsample >= UNKNOWN_SAMPLES) return;
  o = st->sample[st->nsample++];
  if (len > SAMPLE_MAX) len = SAMPLE_MAX;
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)line[i];

    o[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
  }
  o[len] = 0;
}

/* --- key=value tails ------------------------------------------------ */

static size_t value_end(const char *s, size_t len, size_t i)
{
  if (i < len && s[i] == '"') {
    for (i++; i < len && s[i] != '"'; i++)
      if (s[i] == '\\' && i + 1 < len) i++;
    return i < len ? i + 1 : len;
  }
  while (i < len && s[i] != ' ') i++;
  return i;
}

static int hexdig(int c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static size_t unquote(const char *v, size_t n, char *out, size_t room)
{
  size_t i, o = 0;

  if (!room) return 0;
  if (n < 2 || v[0] != '"') {
    if (n >= room) n = room - 1;
    memcpy(out, v, n);
    out[n] = 0;
    return n;
  }
  for (i = 1; i + 1 < n && o + 1 < room; i++) {
    char c = v[i];

    if (c == '\\' && i + 2 < n) {
      c = v[++i];
      if (c == 'x' && i + 3 < n && hexdig(v[i + 1]) >= 0
          && hexdig(v[i + 2]) >= 0) {
        c = (char)(hexdig(v[i + 1]) * 16 + hexdig(v[i + 2]));
        i += 2;
      }
    }
    out[o++] = c;
  }
  out[o] = 0;
  return o;
}

long kv_get(const char *s, size_t len, const char *key, char *out,
            size_t room)
{
  size_t klen = strlen(key), i = 0;

  while (i < len) {
    size_t k = i, e;

    while (i < len && s[i] != '=' && s[i] != ' ') i++;
    if (i >= len || s[i] == ' ') { i++; continue; }
    e = value_end(s, len, i + 1);
    if (i - k == klen && !memcmp(s + k, key, klen))
      return (long)unquote(s + i + 1, e - i - 1, out, room);
    i = e + 1;
  }
  return -1;
}

/* key in s, found through its last byte: memchr() jumps over the text
 * between two occurrences of a rare byte ('=', 'U'), which beats
 * memmem() on these short lines. */
static const char *find(const char *s, size_t n, const char *key,
                        size_t kl)
{
  const char *p = s + kl - 1, *end = s + n;

  if (n < kl) return NULL;
  while (p < end && (p = memchr(p, key[kl - 1], (size_t)(end - p)))) {
    if (!memcmp(p - kl + 1, key, kl - 1)) return p - kl + 1;
    p++;
  }
  return NULL;
}

#define FIND(s, n, lit) find((s), (n), (lit), sizeof(lit) - 1)

/* "User unknown in relay recipient table" (or local, virtual ...) */
static int user_unknown(const char *s, size_t n)
{
  const char *p = s, *end = s + n;

  while (p < end && (p = memchr(p, 'U', (size_t)(end - p)))) {
    if (end - p >= 16 && !memcmp(p, "User unknown in ", 16)) return 1;
    p++;
  }
  return 0;
}

/* --- clients and networks ------------------------------------------- */

size_t net_of(const char *ip, size_t len, char *out)
{
  size_t i, dots = 0, colons = 0, cut4 = 0, cut6 = len;
  const char *dc;

  if (!len || len > 45) return 0;
  for (i = 0; i < len; i++) {
    if (ip[i] == '.' && ++dots == 3) cut4 = i;
    if (ip[i] == ':' && ++colons == 3) cut6 = i;
  }
  if (dots == 3 && !colons) {
    memcpy(out, ip, cut4);
    memcpy(out + cut4, ".0/24", 6);
    return cut4 + 5;
  }
  if (colons < 2 || dots) return 0;
  /* the first three groups; a "::" among them shortens the prefix */
  dc = memmem(ip, len, "::", 2);
  if (dc && (size_t)(dc - ip) < cut6) cut6 = (size_t)(dc - ip);
  memcpy(out, ip, cut6);
  memcpy(out + cut6, "::/48", 6);
  return cut6 + 5;
}

static void reject_by(struct stats *st, const char *ip, size_t len)
{
  char net[64];
  size_t n;

  if (!len || len > 45) return;
  topn_add(st->clients, ip, len, 1);
  if ((n = net_of(ip, len, net))) topn_add(st->nets, net, n, 1);
}

static void count_reject(struct stats *st, int bucket, enum layer l,
                         unsigned long long n)
{
  if (bucket >= 0) st->rejects[l][bucket] += n;
}

/* --- Postfix -------------------------------------------------------- */

/* "... rcpt=1/2 ..." : the accepted part and whether it is there. */
static int session_count(const char *s, size_t len, const char *key,
                         unsigned long long *ok)
{
  size_t kl = strlen(key);
  const char *p = find(s, len, key, kl), *end = s + len;

  if (!p) return 0;
  *ok = 0;
  for (p += kl; p < end && *p >= '0' && *p <= '9'; p++)
    *ok = *ok * 10 + (unsigned)(*p - '0');
  return 1;
}

static void postfix_disconnect(struct stats *st, const char *m, size_t n)
{
  unsigned long long ok;

  st->sess++;
  if (session_count(m, n, " rcpt=", &ok)) {
    st->sess_rcpt++;
    if (ok) st->sess_accepted++;
  }
  if (session_count(m, n, " data=", &ok) && ok) st->sess_data++;
}

/* "RCPT from host[ip]: 550 5.1.1 <r>: Recipient address rejected: ..." */
static void postfix_reject(struct stats *st, const char *m, size_t n,
                           int bucket)
{
  const char *lb, *rb, *semi, *end = m + n;
  size_t rn;

  /* "host[ip]: " - the host name has no "]" */
  if (!(rb = memchr(m, ']', n)) || rb + 3 > end || rb[1] != ':') return;
  for (lb = rb; lb > m && lb[-1] != '['; lb--) ;
  semi = FIND(rb, (size_t)(end - rb), "; from=");
  rn = (size_t)((semi ? semi : end) - rb);
  /* the enhanced status code first: cheaper than searching the text */
  if (rn > 13 && !memcmp(rb + 6, " 5.1.1 ", 7)
      && user_unknown(rb, rn)) {
    st->rcpt_unknown++;
    count_reject(st, bucket, L_RCPT, 1);
  } else if (rn > 13 && !memcmp(rb + 6, " 4.3.0 ", 7)
             && memmem(rb, rn, ": Temporary lookup failure", 26)) {
    st->rcpt_temp++;
    count_reject(st, bucket, L_RCPT, 1);
  } else if (rn > 13 && !memcmp(rb + 6, " 5.7.1 ", 7)
             && memmem(rb, rn, ": Relay access denied", 21)) {
    st->rcpt_relay++;
  } else {
    /* policy services and other restrictions: the daemons' own lines
     * count these, so the client is not counted twice */
    st->rcpt_other++;
    return;
  }
  if (lb > m) reject_by(st, lb, (size_t)(rb - lb));
}

/* Queue IDs of the inbound smtpd's mail, until qmgr takes the message:
 * only those are the mail that passed the RCPT layers.  Mail queued by
 * pickup, bounce or amavis's re-injection is not.  A slot is
 * overwritten by a newcomer: at worst a message is not counted. */
static char *qid_slot(struct stats *st, const char *id, size_t n)
{
  unsigned h = 5381;
  size_t i;

  for (i = 0; i < n; i++) h = h * 33 + (unsigned char)id[i];
  return st->qids[h % QIDS];
}

/* "QUEUEID: rest" -> the length of QUEUEID, 0 if there is none */
static size_t qid_len(const char *m, size_t n)
{
  size_t i;

  for (i = 0; i < n && i < QID_MAX - 1; i++) {
    char c = m[i];

    if (c == ':') return i && i + 1 < n && m[i + 1] == ' ' ? i : 0;
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')
          || (c >= 'a' && c <= 'z')))
      return 0;
  }
  return 0;
}

static void qid_remember(struct stats *st, const char *m, size_t n)
{
  size_t k = qid_len(m, n);
  char *s;

  if (!k || !STARTS(m + k, n - k, ": client=")) return;
  s = qid_slot(st, m, k);
  memcpy(s, m, k);
  s[k] = 0;
}

/* 1 if the message is the inbound smtpd's; forgotten then. */
static int qid_take(struct stats *st, const char *m, size_t n)
{
  size_t k = qid_len(m, n);
  char *s;

  if (!k) return 0;
  s = qid_slot(st, m, k);
  if (strlen(s) != k || memcmp(s, m, k)) return 0;
  s[0] = 0;
  return 1;
}

static void postfix_smtpd(struct stats *st, const char *m, size_t n,
                          int bucket)
{
  const char *p;

  if (STARTS(m, n, "connect from ")) { st->connects++; return; }
  if (STARTS(m, n, "disconnect from ")) {
    postfix_disconnect(st, m, n);
    return;
  }
  /* "NOQUEUE: reject: RCPT from" or "QUEUEID: reject: RCPT from" */
  p = memchr(m, ':', n < 24 ? n : 24);
  if (!p) return;
  if (STARTS(p, (size_t)(m + n - p), ": reject: RCPT from "))
    postfix_reject(st, p + 20, (size_t)(m + n - p - 20), bucket);
  else if (STARTS(p, (size_t)(m + n - p), ": client="))
    qid_remember(st, m, n);
}

static void postfix_qmgr(struct stats *st, const char *m, size_t n)
{
  const char *p = FIND(m, n, ", nrcpt="), *end = m + n;
  unsigned long long r = 0;

  if (!p || n < 14 || memcmp(end - 14, "(queue active)", 14)) return;
  if (!qid_take(st, m, n)) return;
  for (p += 8; p < end && *p >= '0' && *p <= '9'; p++)
    r = r * 10 + (unsigned)(*p - '0');
  st->queued++;
  st->queued_rcpts += r;
}

/* tag "postfix/smtpd", name its last part "smtpd".  An smtpd of another
 * service than the inbound one (amavis's re-injection, submission) is
 * no client of the gateway: only its connections are counted, apart. */
static void postfix_line(struct stats *st, const char *tag, size_t tl,
                         const char *name, size_t nl, const char *m,
                         size_t n, int bucket)
{
  st->seen_postfix = 1;
  if (nl == 5 && !memcmp(name, "smtpd", 5)) {
    if (is_inbound(st, tag, tl)) postfix_smtpd(st, m, n, bucket);
    else if (STARTS(m, n, "connect from ")) st->other_connects++;
  } else if (nl == 4 && !memcmp(name, "qmgr", 4))
    postfix_qmgr(st, m, n);
}

/* --- amavis --------------------------------------------------------- */

/* Recipients after " -> ": "<a@x>,<b@y>, Queue-ID: ..." */
static unsigned long long amavis_rcpts(const char *m, size_t n)
{
  const char *p = memmem(m, n, " -> ", 4), *end = m + n;
  unsigned long long r = 0;

  if (!p) return 1;
  for (p += 4; p < end && *p == '<'; ) {
    const char *gt = memchr(p, '>', (size_t)(end - p));

    if (!gt) break;
    r++;
    p = gt + 1;
    if (p < end && *p == ',') p++;
  }
  return r ? r : 1;
}

/* The client address: the first "[...]" after the "}, " of the
 * actions performed. */
static void amavis_client(struct stats *st, const char *m, size_t n)
{
  const char *p = memmem(m, n, "}, ", 3), *end = m + n, *lb, *rb;

  if (!p) return;
  lb = memchr(p, '[', (size_t)(end - p));
  if (!lb || lb - p > 40) return;
  rb = memchr(lb, ']', (size_t)(end - lb));
  if (!rb) return;
  reject_by(st, lb + 1, (size_t)(rb - lb - 1));
}

static void amavis_viruses(struct stats *st, const char *p, size_t n)
{
  const char *end, *q;

  /* names are separated by "," with or without a space after it: no
   * virus name holds a comma */
  if (!n || *p != '(' || !(end = memchr(p, ')', n))) return;
  for (p++; p < end; p = q + 1) {
    while (p < end && *p == ' ') p++;
    if (p >= end) break;
    q = memchr(p, ',', (size_t)(end - p));
    if (!q) q = end;
    if (q > p) topn_add(st->virus, p, (size_t)(q - p), 1);
    if (q == end) break;
  }
}

static int amavis_line(struct stats *st, const char *m, size_t n,
                       int bucket)
{
  const char *p = m, *end = m + n, *cat;
  char key[64];
  size_t vl, cl;
  unsigned long long r;
  int blocked;

  st->seen_amavis = 1;
  if (p < end && *p == '(') {             /* log id "(12345-01) " */
    const char *q = memchr(p, ')', (size_t)(end - p));

    if (!q || q + 1 >= end || q[1] != ' ') return 0;
    p = q + 2;
  }
  if (STARTS(p, (size_t)(end - p), "Passed ")) { blocked = 0; vl = 7; }
  else if (STARTS(p, (size_t)(end - p), "Blocked ")) { blocked = 1; vl = 8; }
  else return 1;                          /* another amavis line */
  cat = p + vl;
  for (cl = 0; cat + cl < end && cat[cl] != ' ' && cat[cl] != ','
               && cat[cl] != '{'; cl++) ;
  if (!cl || cl > 40) return 0;
  if (cl > 11 && !memcmp(cat, "BAD-HEADER-", 11)) cl = 10;
  memcpy(key, p, vl + cl);
  r = amavis_rcpts(cat, (size_t)(end - cat));
  topn_add(st->av_cat, key, vl + cl, 1);
  if (cl == 8 && !memcmp(cat, "INFECTED", 8) && cat + 9 < end)
    amavis_viruses(st, cat + 9, (size_t)(end - cat - 9));
  st->av_msgs++;
  st->av_rcpts += r;
  if (blocked) {
    st->av_blocked++;
    st->av_blocked_rcpts += r;
    count_reject(st, bucket, L_CONTENT, r);
    amavis_client(st, cat, (size_t)(end - cat));
  }
  return 1;
}

/* --- the suite's daemons (doc/LOGS) --------------------------------- */

/* Whether kv is what doc/LOGS promises after the event: key=value
 * pairs, one space apart; a key of [a-z_0-9] at most once; a value bare
 * (printable ASCII but space, '"' and '\\') or quoted ("..." holding
 * printable ASCII, with \\" \\\\ and \\xHH).  A line that breaks it is
 * damaged, and a damaged line is no decision to count. */
static int kv_wellformed(const char *s, size_t n)
{
  const char *keys[24];
  size_t klen[24], nk = 0, i = 0, j;

  while (i < n) {
    size_t k = i;

    while (i < n && ((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_'
                     || (s[i] >= '0' && s[i] <= '9')))
      i++;
    if (i == k || i >= n || s[i] != '=' || nk == 24) return 0;
    for (j = 0; j < nk; j++)
      if (klen[j] == i - k && !memcmp(keys[j], s + k, i - k)) return 0;
    keys[nk] = s + k, klen[nk++] = i - k;
    if (++i < n && s[i] == '"') {
      for (i++; i < n && s[i] != '"'; i++) {
        if (s[i] < 0x20 || s[i] > 0x7e) return 0;
        if (s[i] != '\\') continue;
        if (i + 1 < n && (s[i + 1] == '"' || s[i + 1] == '\\')) i++;
        else if (i + 3 < n && s[i + 1] == 'x' && hexdig(s[i + 2]) >= 0
                 && hexdig(s[i + 3]) >= 0) i += 3;
        else return 0;
      }
      if (i++ >= n) return 0;                 /* no closing quote */
    } else {
      for (; i < n && s[i] != ' '; i++)
        if (s[i] <= 0x20 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
          return 0;
    }
    if (i < n && (s[i] != ' ' || ++i == n)) return 0;
  }
  return 1;
}

/* A client= that is an IPv4 or IPv6 address. */
static int client_ok(const char *kv, size_t n, char *client, size_t room,
                     long *len)
{
  char ip[16];

  *len = kv_get(kv, n, "client", client, room);
  if (*len <= 0 || (size_t)*len >= room) return 0;
  return strchr(client, ':') ? scan_ip6(client, ip) == (size_t)*len
                             : scan_ip4(client, ip) == (size_t)*len;
}

static int grey_decision(struct stats *st, const char *kv, size_t n,
                         int bucket)
{
  char action[16], reason[VAL_MAX], client[64];
  long al = kv_get(kv, n, "action", action, sizeof action);
  long rl = kv_get(kv, n, "reason", reason, sizeof reason);
  long cl;
  int i, defer;

  if (al < 0 || rl < 0 || !kv_wellformed(kv, n)
      || !client_ok(kv, n, client, sizeof client, &cl))
    return 0;
  for (i = 0; i < GR_N; i++)
    if (!strcmp(reason, grey_reason[i])) break;
  if (i == GR_N) return 0;
  /* the action goes with the reason: Reject... defers, the rest pass */
  defer = !strncmp(reason, "Reject", 6);
  if (strcmp(action, defer ? "defer" : "pass")) return 0;
  st->seen_grey = 1;
  st->grey[i]++;
  if (defer) {
    count_reject(st, bucket, L_GREY, 1);
    reject_by(st, client, (size_t)cl);
  }
  return 1;
}

static int policy_decision(struct stats *st, const char *kv, size_t n,
                           int bucket)
{
  static const char *const actions[] = {
    "reject", "defer", "dunno", "ok", "warn", 0
  };
  char key[16 + VAL_MAX], client[64];
  long al = kv_get(kv, n, "action", key, 16), rl, cl;
  int i;

  if (al <= 0 || al >= 15 || !kv_wellformed(kv, n)
      || !client_ok(kv, n, client, sizeof client, &cl))
    return 0;
  for (i = 0; actions[i] && strcmp(key, actions[i]); i++) ;
  if (!actions[i]) return 0;
  key[al] = '\t';
  rl = kv_get(kv, n, "rule", key + al + 1, VAL_MAX);
  if (rl <= 0) return 0;
  st->seen_policy = 1;
  st->pol_total++;
  topn_add(st->rules, key, (size_t)(al + 1 + rl), 1);
  if (!memcmp(key, "reject\t", 7) || !memcmp(key, "defer\t", 6)) {
    st->pol_rejected++;
    count_reject(st, bucket, L_POLICY, 1);
    reject_by(st, client, (size_t)cl);
  }
  return 1;
}

static int acct_line(struct stats *st, const char *ev, size_t el,
                     const char *kv, size_t n)
{
  char result[16], reason[16];

  st->seen_acct = 1;
  if (el == 11 && !memcmp(ev, "bad_request", 11)) st->acct_bad++;
  else if (el == 6 && !memcmp(ev, "lookup", 6)) {
    if (kv_get(kv, n, "result", result, sizeof result) < 0) return 0;
    /* the quoted form of a key is not found so that Postfix asks again
     * unquoted (doc/LOGS): the second answer is the one that counts */
    if (!strcmp(result, "notfound")
        && kv_get(kv, n, "reason", reason, sizeof reason) >= 0
        && !strcmp(reason, "quoted"))
      return 1;
    if (!strcmp(result, "notfound")) st->acct_notfound++;
    else if (!strcmp(result, "temp")) st->acct_temp++;
  }
  return 1;
}

static int is_event(const char *s, size_t n)
{
  size_t i;

  if (!n) return 0;
  for (i = 0; i < n; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_')) return 0;
  return 1;
}

/* "level: event key=value ..." of program prog; 0 if not understood. */
static int suite_body(struct stats *st, const char *prog, size_t pl,
                      const char *b, size_t n, int bucket)
{
  const char *ev, *kv, *end = b + n;
  size_t el;
  int warning = 0;

  if (STARTS(b, n, "info: ")) ev = b + 6;
  else if (STARTS(b, n, "warning: ")) st->warnings++, ev = b + 9, warning = 1;
  else if (STARTS(b, n, "fatal: ")) { st->fatals++; return 1; }
  else return 0;
  for (kv = ev; kv < end && *kv != ' '; kv++) ;
  el = (size_t)(kv - ev);
  if (kv < end) kv++;
  if (!is_event(ev, el)) return 1;       /* a plain start-up message */
  n = (size_t)(end - kv);
  /* acctd's temporary failures and bad requests are warnings (doc/LOGS);
   * every other decision line is info */
  if (warning)
    return pl == 5 && !memcmp(prog, "acctd", 5) ? acct_line(st, ev, el, kv, n)
                                                : 1;
  if (pl == 5 && !memcmp(prog, "greyd", 5) && el == 8
      && !memcmp(ev, "decision", 8))
    return grey_decision(st, kv, n, bucket);
  if (pl == 7 && !memcmp(prog, "policyd", 7) && el == 8
      && !memcmp(ev, "decision", 8))
    return policy_decision(st, kv, n, bucket);
  if (pl == 5 && !memcmp(prog, "acctd", 5))
    return acct_line(st, ev, el, kv, n);
  return 1;
}

static int is_suite(const char *p, size_t n)
{
  static const char *const names[] = {
    "acctd", "greyd", "policyd", "rbld", "reportd", "rbld-harvest", 0
  };
  int i;

  for (i = 0; names[i]; i++)
    if (strlen(names[i]) == n && !memcmp(names[i], p, n)) return 1;
  return 0;
}

/* --- dispatch ------------------------------------------------------- */

/* "host tag[pid]: message" */
static int syslog_rest(struct stats *st, const char *s, size_t n,
                       int bucket)
{
  const char *end = s + n, *tag, *te, *msg, *slash;

  if (!(tag = memchr(s, ' ', n))) return 0;
  tag++;
  for (te = tag; te < end && *te != '[' && *te != ':' && *te != ' '; te++) ;
  if (te == tag || te >= end || *te == ' ') return 0;
  msg = memchr(te, ':', (size_t)(end - te));
  if (!msg || msg + 1 >= end || msg[1] != ' ') return 0;
  msg += 2;
  n = (size_t)(end - msg);
  if (STARTS(tag, (size_t)(te - tag), "postfix")) {
    for (slash = te; slash > tag && slash[-1] != '/'; slash--) ;
    if (slash == tag) return 0;
    postfix_line(st, tag, (size_t)(te - tag), slash, (size_t)(te - slash),
                 msg, n, bucket);
    return 1;
  }
  if (STARTS(tag, (size_t)(te - tag), "amavis"))
    return amavis_line(st, msg, n, bucket);
  if (is_suite(tag, (size_t)(te - tag))) {
    if (STARTS(msg, n, "info: ") || STARTS(msg, n, "warning: ")
        || STARTS(msg, n, "fatal: "))
      return suite_body(st, tag, (size_t)(te - tag), msg, n, bucket);
    te = memchr(msg, ':', n);            /* "greyd: info: ..." */
    if (!te || te + 2 > end) return 0;
    return suite_body(st, tag, (size_t)(te - msg), te + 2,
                      (size_t)(end - te - 2), bucket);
  }
  st->other++;
  return 1;
}

/* After a multilog label, or an undated line. */
static int plain_rest(struct stats *st, struct yearref *y, const char *s,
                      size_t n, int bucket)
{
  const char *c, *end = s + n;
  long long t;
  size_t k, i;

  if (n > 3 && s[0] == '<' && s[1] >= '0' && s[1] <= '9'
      && (c = memchr(s, '>', 4)))        /* amavis on stderr */
    return amavis_line(st, c + 1, (size_t)(end - c - 1), bucket);
  if ((k = stamp_syslog(y, s, n, &t)) && s[k] == ' ')
    return syslog_rest(st, s + k + 1, n - k - 1, bucket);
  c = memchr(s, ':', n);
  if (!c || c + 2 > end || c[1] != ' ' || c == s) return 0;
  for (i = 0; s + i < c; i++)
    if (s[i] == ' ') return 0;
  if (is_suite(s, (size_t)(c - s)))
    return suite_body(st, s, (size_t)(c - s), c + 2, (size_t)(end - c - 2),
                      bucket);
  if (STARTS(c + 2, (size_t)(end - c - 2), "info: ")
      || STARTS(c + 2, (size_t)(end - c - 2), "warning: ")
      || STARTS(c + 2, (size_t)(end - c - 2), "fatal: ")) {
    st->other++;                         /* another program's line */
    return 1;
  }
  return 0;
}

void stats_line(struct stats *st, struct yearref *y, const char *line,
                size_t len)
{
  long long t = 0;
  size_t k = 0;
  int syslog = 0, bucket = -1, ok;

  st->lines++;
  if (len && line[0] == '@') k = stamp_tai64n(line, len, &t);
  else if (len && line[0] >= '0' && line[0] <= '9')
    syslog = (k = stamp_rfc3339(line, len, &t)) > 0;
  else if (len)
    syslog = (k = stamp_syslog(y, line, len, &t)) > 0;
  if (k) {
    if (t < st->since || t >= st->until) { st->outside++; return; }
    bucket = (int)((t - st->since) / st->bucket_secs);
    if (bucket >= (int)st->nbuckets) bucket = (int)st->nbuckets - 1;
    if (k < len && line[k] == ' ') k++;
  } else
    st->undated++;
  st->in_window++;
  if (syslog) ok = syslog_rest(st, line + k, len - k, bucket);
  else ok = plain_rest(st, y, line + k, len - k, bucket);
  if (!ok) unknown(st, line, len);
}
