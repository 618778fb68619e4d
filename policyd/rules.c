/*
 * rules.c - parse policyd's rules file and evaluate it (see rules.h).
 *
 * Lines are words separated by blanks; '#' at the start of a line makes
 * a comment.  "dnsbl" and "dnswl" lines declare DNS lists; every other
 * line is a rule: conditions, then an action word, then optional text.
 * The first error stops the parse and names its line: a half-understood
 * rules file must never be put in force.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "classify.h"
#include "rules.h"

#define MAX_WORDS 64

struct parse {
  struct ruleset *rs;
  char *why;
  size_t room;
};

static const char *const action_names[] = {
  "reject", "defer", "dunno", "ok", "warn"
};

const char *action_name(enum action a) { return action_names[a]; }

static int fail(struct parse *p, const char *msg, const char *word)
{
  if (word) snprintf(p->why, p->room, "%s: %s", msg, word);
  else snprintf(p->why, p->room, "%s", msg);
  return -1;
}

static int action_of(const char *w)
{
  unsigned i;

  for (i = 0; i < sizeof action_names / sizeof action_names[0]; i++)
    if (!strcasecmp(w, action_names[i])) return (int)i;
  return -1;
}

static int reserved(const char *w)
{
  return classify_bit(w) || !strcmp(w, "RBL") || !strcmp(w, "MULTIPLE")
         || !strcmp(w, "MAIN") || action_of(w) >= 0
         || !strcmp(w, "dnsbl") || !strcmp(w, "dnswl");
}

static int list_index(const struct ruleset *rs, const char *name)
{
  unsigned i;

  for (i = 0; i < rs->nlists; i++)
    if (!strcmp(rs->lists[i].name, name)) return (int)i;
  return -1;
}

/* --- answer specifications: 127.0.0.2, 127.0.0.2-127.0.0.9,
 * 127.0.0.0/24, &4 or &0.0.0.4 --- */

static int parse_quad(const char *s, uint32_t *out)
{
  unsigned long v[4];
  int i;

  for (i = 0; i < 4; i++) {
    char *end;

    if (*s < '0' || *s > '9') return -1;
    errno = 0;
    v[i] = strtoul(s, &end, 10);
    if (errno || v[i] > 255 || end - s > 3) return -1;
    s = end;
    if (i < 3 && *s++ != '.') return -1;
  }
  if (*s) return -1;
  *out = (uint32_t)(v[0] << 24 | v[1] << 16 | v[2] << 8 | v[3]);
  return 0;
}

static int parse_mask(const char *s, uint32_t *out)
{
  char *end;
  unsigned long v;

  if (strchr(s, '.')) return parse_quad(s, out);
  if (*s < '0' || *s > '9') return -1;
  errno = 0;
  v = strtoul(s, &end, 0);
  if (errno || *end || v == 0 || v > 0xffffffffUL) return -1;
  *out = (uint32_t)v;
  return 0;
}

static int parse_span(char *s, struct span *sp)
{
  char *dash = strchr(s, '-'), *slash = strchr(s, '/');

  memset(sp, 0, sizeof *sp);
  if (*s == '&') return parse_mask(s + 1, &sp->mask);
  if (dash) {
    *dash = 0;
    if (parse_quad(s, &sp->lo) || parse_quad(dash + 1, &sp->hi)) return -1;
    return sp->lo <= sp->hi ? 0 : -1;
  }
  if (slash) {
    char *end;
    unsigned long bits;
    uint32_t host;

    *slash = 0;
    errno = 0;
    bits = strtoul(slash + 1, &end, 10);
    if (errno || *end || slash[1] < '0' || slash[1] > '9' || bits < 8
        || bits > 32 || parse_quad(s, &sp->lo))
      return -1;
    host = bits == 32 ? 0 : 0xffffffffU >> bits;
    if (sp->lo & host) return -1;  /* host bits set: a typo, say so */
    sp->hi = sp->lo | host;
    return 0;
  }
  if (parse_quad(s, &sp->lo)) return -1;
  sp->hi = sp->lo;
  return 0;
}

static int parse_listed(struct parse *p, struct dnslist *l, char *spec)
{
  char *item, *save = NULL;

  for (item = strtok_r(spec, ",", &save); item;
       item = strtok_r(NULL, ",", &save)) {
    struct span sp, *n;
    char copy[64];

    snprintf(copy, sizeof copy, "%s", item);
    if (parse_span(item, &sp))
      return fail(p, "bad answer specification", copy);
    if (!sp.mask && ((sp.lo >> 24) != 127 || (sp.hi >> 24) != 127))
      return fail(p, "answer outside 127.0.0.0/8 can never count", copy);
    n = realloc(l->spans, (l->nspans + 1) * sizeof *n);
    if (!n) return fail(p, "out of memory", NULL);
    l->spans = n;
    l->spans[l->nspans++] = sp;
  }
  if (!l->nspans) return fail(p, "empty answer specification", NULL);
  return 0;
}

static int zone_ok(const char *z)
{
  size_t n = strlen(z), i;

  if (n == 0 || n > RULES_ZONE_MAX || z[0] == '.' || z[0] == '-'
      || strstr(z, ".."))
    return 0;
  for (i = 0; i < n; i++) {
    char c = z[i];

    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
          || c == '.' || c == '_'))
      return 0;
  }
  return 1;
}

static int name_ok(const char *w)
{
  size_t n = strlen(w), i;

  if (n == 0 || n > RULES_NAME_MAX) return 0;
  for (i = 0; i < n; i++) {
    char c = w[i];

    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9') || c == '_' || c == '-'))
      return 0;
  }
  return 1;
}

/* dnsbl NAME ZONE [main] [listed=SPEC]   dnswl NAME ZONE [listed=SPEC] */
static int parse_list(struct parse *p, char **w, unsigned n)
{
  struct ruleset *rs = p->rs;
  struct dnslist *l;
  unsigned i;
  char *z;

  if (n < 3) return fail(p, "want: dnsbl|dnswl NAME ZONE [options]", NULL);
  if (rs->nlists == RULES_MAX_LISTS) return fail(p, "too many lists", NULL);
  if (!name_ok(w[1]) || reserved(w[1])) return fail(p, "bad list name", w[1]);
  if (list_index(rs, w[1]) >= 0) return fail(p, "list declared twice", w[1]);
  for (z = w[2]; *z; z++)
    if (*z >= 'A' && *z <= 'Z') *z = (char)(*z - 'A' + 'a');
  if (z > w[2] && z[-1] == '.') z[-1] = 0;
  if (!zone_ok(w[2])) return fail(p, "bad zone", w[2]);
  l = &rs->lists[rs->nlists];
  memset(l, 0, sizeof *l);
  l->allow = !strcmp(w[0], "dnswl");
  l->name = strdup(w[1]);
  l->zone = strdup(w[2]);
  rs->nlists++;
  if (!l->name || !l->zone) return fail(p, "out of memory", NULL);
  for (i = 3; i < n; i++) {
    if (!strcmp(w[i], "main") && !l->allow) l->main = 1;
    else if (!strncmp(w[i], "listed=", 7)) {
      if (l->nspans) return fail(p, "listed= given twice", NULL);
      if (parse_listed(p, l, w[i] + 7)) return -1;
    } else return fail(p, "unknown list option", w[i]);
  }
  if (!l->allow) rs->block_mask |= 1U << (rs->nlists - 1);
  if (l->main) rs->main_mask |= 1U << (rs->nlists - 1);
  return 0;
}

static int parse_cond(struct parse *p, const char *w, struct cond *c)
{
  const struct ruleset *rs = p->rs;
  int li;

  c->neg = *w == '!';
  if (c->neg) w++;
  c->arg = classify_bit(w);
  if (c->arg) { c->kind = C_CLASS; return 0; }
  if (!strcmp(w, "RBL") || !strcmp(w, "MULTIPLE") || !strcmp(w, "MAIN")) {
    c->kind = w[1] == 'B' ? C_RBL : w[1] == 'U' ? C_MULTIPLE : C_MAIN;
    if (!rs->block_mask)
      return fail(p, "condition needs a dnsbl declared above", w);
    if (c->kind == C_MAIN && !rs->main_mask)
      return fail(p, "MAIN needs a dnsbl marked main declared above", NULL);
    return 0;
  }
  li = list_index(rs, w);
  if (li < 0) return fail(p, "unknown condition", w);
  c->kind = C_LIST;
  c->arg = (unsigned)li;
  return 0;
}

static char *join(char **w, unsigned n)
{
  size_t len = 0, i;
  char *s;

  for (i = 0; i < n; i++) len += strlen(w[i]) + 1;
  s = malloc(len ? len : 1);
  if (!s) return NULL;
  s[0] = 0;
  for (i = 0; i < n; i++) {
    if (i) strcat(s, " ");
    strcat(s, w[i]);
  }
  return s;
}

static int check_text(struct parse *p, enum action a, const char *text)
{
  if (!text) return 0;
  if (a == A_DUNNO || a == A_OK) return fail(p, "dunno and ok take no text",
                                             text);
  if (strlen(text) > RULES_TEXT_MAX) return fail(p, "text too long", NULL);
  /* a temporary action must never turn into a permanent reply, and a
   * reject with a 4xx code would be a defer in disguise */
  if (a == A_DEFER && text[0] == '5')
    return fail(p, "defer text must not start with a 5xx code", text);
  if (a == A_REJECT && text[0] == '4')
    return fail(p, "reject text must not start with a 4xx code", text);
  return 0;
}

/* CONDITION... ACTION [TEXT]; text is the rest of the line as written */
static int parse_rule(struct parse *p, char **w, unsigned n,
                      const char *text, unsigned long line)
{
  struct ruleset *rs = p->rs;
  struct rule *r, *nr;
  unsigned i, nc = 0;
  int a = -1;

  while (nc < n && (a = action_of(w[nc])) < 0) nc++;
  if (nc == n) return fail(p, "rule without an action", NULL);
  if (nc == 0) return fail(p, "rule without conditions", NULL);
  if (check_text(p, (enum action)a, text)) return -1;
  nr = realloc(rs->rules, (rs->nrules + 1) * sizeof *nr);
  if (!nr) return fail(p, "out of memory", NULL);
  rs->rules = nr;
  r = &rs->rules[rs->nrules++];
  memset(r, 0, sizeof *r);
  r->line = line;
  r->action = (enum action)a;
  r->conds = calloc(nc, sizeof *r->conds);
  r->name = join(w, nc);
  r->text = text ? strdup(text) : NULL;
  if (!r->conds || !r->name || (text && !r->text))
    return fail(p, "out of memory", NULL);
  r->nconds = nc;
  for (i = 0; i < nc; i++)
    if (parse_cond(p, w[i], &r->conds[i])) return -1;
  return 0;
}

/* Split line in place; *text is what follows the action word, if any. */
static unsigned split(char *line, char **w, const char **text)
{
  unsigned n = 0;
  char *s = line;

  *text = NULL;
  for (;;) {
    s += strspn(s, " \t\r");
    if (!*s) break;
    if (n == MAX_WORDS) return MAX_WORDS + 1;
    w[n++] = s;
    s += strcspn(s, " \t\r");
    if (*s) *s++ = 0;
    if (action_of(w[n - 1]) >= 0 && strcmp(w[0], "dnsbl")
        && strcmp(w[0], "dnswl")) {
      size_t e;

      s += strspn(s, " \t\r");
      e = strlen(s);
      while (e && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r'))
        s[--e] = 0;
      if (e) *text = s;
      break;
    }
  }
  return n;
}

static int parse_line(struct parse *p, char *line, unsigned long lineno)
{
  char *w[MAX_WORDS];
  const char *text;
  unsigned n;

  if (line[strspn(line, " \t\r")] == '#') return 0;
  n = split(line, w, &text);
  if (n == 0) return 0;
  if (n > MAX_WORDS) return fail(p, "too many words", NULL);
  if (!strcmp(w[0], "dnsbl") || !strcmp(w[0], "dnswl"))
    return parse_list(p, w, n);
  return parse_rule(p, w, n, text, lineno);
}

struct ruleset *rules_parse(const char *text, size_t len,
                            unsigned long *line, char *why, size_t room)
{
  struct parse p;
  size_t pos = 0;
  char buf[4096];

  p.why = why;
  p.room = room;
  p.rs = calloc(1, sizeof *p.rs);
  *line = 0;
  if (!p.rs) { fail(&p, "out of memory", NULL); return NULL; }
  p.rs->refs = 1;
  while (pos < len) {
    const char *nl = memchr(text + pos, '\n', len - pos);
    size_t n = nl ? (size_t)(nl - text - pos) : len - pos;

    ++*line;
    if (n >= sizeof buf || memchr(text + pos, 0, n)) {
      fail(&p, n >= sizeof buf ? "line too long" : "NUL byte", NULL);
      rules_unref(p.rs);
      return NULL;
    }
    memcpy(buf, text + pos, n);
    buf[n] = 0;
    if (parse_line(&p, buf, *line)) { rules_unref(p.rs); return NULL; }
    pos += n + 1;
  }
  return p.rs;
}

struct ruleset *rules_load(const char *path, unsigned long *line,
                           char *why, size_t room)
{
  struct ruleset *rs;
  struct stat st;
  char *buf;
  ssize_t r;
  size_t got = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);

  *line = 0;
  if (fd < 0 || fstat(fd, &st) < 0) {
    snprintf(why, room, "cannot open: %s", strerror(errno));
    if (fd >= 0) close(fd);
    return NULL;
  }
  if (st.st_size > RULES_MAX_FILE) {
    snprintf(why, room, "file larger than %d bytes", RULES_MAX_FILE);
    close(fd);
    return NULL;
  }
  buf = malloc((size_t)st.st_size + 1);
  if (!buf) { snprintf(why, room, "out of memory"); close(fd); return NULL; }
  while (got < (size_t)st.st_size
         && (r = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
    got += (size_t)r;
  close(fd);
  if (got != (size_t)st.st_size) {
    snprintf(why, room, "short read (file changed while reading?)");
    free(buf);
    return NULL;
  }
  rs = rules_parse(buf, got, line, why, room);
  free(buf);
  return rs;
}

void rules_ref(struct ruleset *rs) { rs->refs++; }

void rules_unref(struct ruleset *rs)
{
  unsigned i;

  if (!rs || --rs->refs) return;
  for (i = 0; i < rs->nlists; i++) {
    free(rs->lists[i].name);
    free(rs->lists[i].zone);
    free(rs->lists[i].spans);
  }
  for (i = 0; i < rs->nrules; i++) {
    free(rs->rules[i].name);
    free(rs->rules[i].conds);
    free(rs->rules[i].text);
    free(rs->rules[i].reply);
  }
  free(rs->rules);
  free(rs);
}

/* --- answers --- */

const char *answer_invalid(uint32_t a)
{
  if ((a >> 24) != 127) return "not_loopback";
  if ((a & 0xffffff00U) == 0x7fffff00U) return "error_code";
  if (a == 0x7f000001U) return "loopback_host";
  return NULL;
}

int dnslist_counts(const struct dnslist *l, uint32_t a)
{
  unsigned i;

  if (answer_invalid(a)) return 0;
  if (!l->nspans) return 1;
  for (i = 0; i < l->nspans; i++) {
    const struct span *s = &l->spans[i];

    if (s->mask ? (a & s->mask) != 0 : a >= s->lo && a <= s->hi) return 1;
  }
  return 0;
}

/* --- evaluation ---
 * Each condition is true, false, unknown (answers outstanding) or failed
 * (it depends on a list whose lookup failed).  A rule is false if any
 * condition is false, else unknown if any is unknown, else failed if any
 * failed, else true: a failed rule never matches (DNS trouble must not
 * reject mail), but an unknown one holds the decision up. */

enum tv { V_FALSE, V_TRUE, V_UNKNOWN, V_FAIL };

struct tally { unsigned hit, unknown, failed; };

static struct tally count(const struct evalstate *st, uint32_t mask)
{
  struct tally t = { 0, 0, 0 };

  for (; mask; mask &= mask - 1) {           /* the set bits only */
    unsigned i = (unsigned)__builtin_ctz(mask);

    if (st->list[i] == L_LISTED) t.hit++;
    else if (st->list[i] == L_UNKNOWN) t.unknown++;
    else if (st->list[i] == L_FAILED) t.failed++;
  }
  return t;
}

/* at least `need` of the lists in mask listed the client */
static enum tv at_least(const struct evalstate *st, uint32_t mask,
                        unsigned need)
{
  struct tally t = count(st, mask);

  if (t.hit >= need) return V_TRUE;
  if (t.hit + t.unknown >= need) return V_UNKNOWN;
  if (t.hit + t.unknown + t.failed >= need) return V_FAIL;
  return V_FALSE;
}

static enum tv cond_value(const struct ruleset *rs, const struct cond *c,
                          const struct evalstate *st)
{
  enum tv v;

  switch (c->kind) {
  case C_CLASS: v = (st->classbits & c->arg) ? V_TRUE : V_FALSE; break;
  case C_RBL: v = at_least(st, rs->block_mask, 1); break;
  case C_MULTIPLE: v = at_least(st, rs->block_mask, 2); break;
  case C_MAIN: v = at_least(st, rs->main_mask, 1); break;
  default: v = at_least(st, 1U << c->arg, 1); break;
  }
  if (c->neg && (v == V_TRUE || v == V_FALSE))
    v = v == V_TRUE ? V_FALSE : V_TRUE;
  return v;
}

static enum tv rule_value(const struct ruleset *rs, const struct rule *r,
                          const struct evalstate *st)
{
  unsigned i, unknown = 0, failed = 0;

  for (i = 0; i < r->nconds; i++) {
    enum tv v = cond_value(rs, &r->conds[i], st);

    if (v == V_FALSE) return V_FALSE;
    if (v == V_UNKNOWN) unknown = 1;
    if (v == V_FAIL) failed = 1;
  }
  return unknown ? V_UNKNOWN : failed ? V_FAIL : V_TRUE;
}

int rules_eval(const struct ruleset *rs, const struct evalstate *st,
               int fail_defer, unsigned *rule)
{
  unsigned i;

  for (i = 0; i < rs->nrules; i++) {
    enum tv v = rule_value(rs, &rs->rules[i], st);

    *rule = i;
    if (v == V_TRUE) return EVAL_MATCH;
    if (v == V_UNKNOWN) return EVAL_WAIT;
    if (v == V_FAIL && fail_defer) return EVAL_DNSFAIL;
  }
  return EVAL_NOMATCH;
}

static uint32_t cond_lists(const struct ruleset *rs, const struct cond *c)
{
  switch (c->kind) {
  case C_CLASS: return 0;
  case C_RBL: case C_MULTIPLE: return rs->block_mask;
  case C_MAIN: return rs->main_mask;
  default: return 1U << c->arg;
  }
}

uint32_t rules_needed(const struct ruleset *rs, unsigned classbits)
{
  uint32_t need = 0;
  unsigned i, j;

  for (i = 0; i < rs->nrules; i++) {
    const struct rule *r = &rs->rules[i];
    uint32_t mine = 0;
    int possible = 1;

    for (j = 0; j < r->nconds && possible; j++) {
      const struct cond *c = &r->conds[j];

      if (c->kind == C_CLASS)
        possible = !(classbits & c->arg) == !!c->neg;
      else mine |= cond_lists(rs, c);
    }
    if (!possible) continue;
    need |= mine;
    if (!mine) break;           /* this rule matches: none after it count */
  }
  return need;
}

static size_t add_name(char *out, size_t room, size_t n, const char *name)
{
  size_t l = strlen(name);

  if (n + l + 2 > room) return n;
  if (n) out[n++] = ',';
  memcpy(out + n, name, l + 1);
  return n + l;
}

size_t rules_conds(const struct ruleset *rs, const struct evalstate *st,
                   char *out, size_t room)
{
  static const unsigned bits[] = {
    CL_PTRNUL, CL_PTR_ACCNET, CL_HELO_IP, CL_HELO_NOTFQDN, CL_HELO_ACCNET
  };
  char one[32];
  unsigned i;
  size_t n = 0;

  if (room) out[0] = 0;
  for (i = 0; i < sizeof bits / sizeof bits[0]; i++)
    if (st->classbits & bits[i]) {
      classify_names(bits[i], one, sizeof one);
      n = add_name(out, room, n, one);
    }
  if (rs->block_mask && at_least(st, rs->block_mask, 1) == V_TRUE)
    n = add_name(out, room, n, "RBL");
  if (rs->block_mask && at_least(st, rs->block_mask, 2) == V_TRUE)
    n = add_name(out, room, n, "MULTIPLE");
  if (rs->main_mask && at_least(st, rs->main_mask, 1) == V_TRUE)
    n = add_name(out, room, n, "MAIN");
  for (i = 0; i < rs->nlists; i++)
    if (st->list[i] == L_LISTED) n = add_name(out, room, n, rs->lists[i].name);
  return n;
}
