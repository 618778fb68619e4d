/*
 * rules.h - policyd's rules file: DNS list declarations and ordered rules,
 * and the three-valued evaluation that lets a request be decided as soon
 * as the answers it needs are in (policyd(8) has the grammar).
 *
 * A ruleset is immutable once parsed; requests hold a reference, so a
 * reload can swap in a new one while old requests finish on the old.
 */
#ifndef POLICYD_RULES_H
#define POLICYD_RULES_H

#include <stddef.h>
#include <stdint.h>

#define RULES_MAX_LISTS 32
#define RULES_MAX_FILE (1024 * 1024)
#define RULES_NAME_MAX 32
#define RULES_ZONE_MAX 180  /* 72 bytes of IPv6 nibbles + zone <= 253 */
#define RULES_TEXT_MAX 400

enum cond_kind { C_CLASS, C_RBL, C_MULTIPLE, C_MAIN, C_LIST };

struct cond {
  enum cond_kind kind;
  unsigned neg;
  unsigned arg;             /* C_CLASS: CL_ bit; C_LIST: list index */
};

enum action { A_REJECT, A_DEFER, A_DUNNO, A_OK, A_WARN };

struct rule {
  char *name;               /* the condition list as written */
  struct cond *conds;
  unsigned nconds;
  enum action action;
  char *text;               /* NULL: the default text of the action */
  unsigned long line;
  char *reply;              /* the reply's bytes, set by policyd */
  size_t replylen;
};

/* One accepted answer range: lo..hi, or with mask set, any answer that
 * has one of the mask's bits. */
struct span { uint32_t lo, hi, mask; };

struct breaker;

struct dnslist {
  char *name, *zone;
  struct breaker *brk;      /* the zone's, set by policyd after parsing */
  int main;                 /* counts for MAIN */
  int allow;                /* an allow-list: not in RBL/MULTIPLE/MAIN */
  struct span *spans;       /* none: every valid answer is a listing */
  unsigned nspans;
};

struct ruleset {
  struct dnslist lists[RULES_MAX_LISTS];
  unsigned nlists;
  struct rule *rules;
  unsigned nrules;
  uint32_t block_mask;      /* bits of the block lists (dnsbl) */
  uint32_t main_mask;       /* bits of the main ones */
  unsigned refs;
};

/* Parse a rules file held in memory (text need not end in NUL).  Returns
 * the ruleset with one reference, or NULL with *line (0: not a line's
 * fault) and why (room bytes) set. */
struct ruleset *rules_parse(const char *text, size_t len,
                            unsigned long *line, char *why, size_t room);
/* The same from a file; a read error sets *line = 0. */
struct ruleset *rules_load(const char *path, unsigned long *line,
                           char *why, size_t room);
void rules_ref(struct ruleset *rs);
void rules_unref(struct ruleset *rs);

/* What one list said for a request. */
enum { L_UNKNOWN, L_LISTED, L_CLEAR, L_FAILED };

struct evalstate {
  unsigned classbits;                     /* CL_ bits */
  unsigned char list[RULES_MAX_LISTS];    /* L_ per list */
};

/* The lists a request must ask: those that a rule which can still match
 * (its classifier conditions hold) depends on, up to the first rule that
 * matches on classifier conditions alone. */
uint32_t rules_needed(const struct ruleset *rs, unsigned classbits);

enum { EVAL_MATCH, EVAL_NOMATCH, EVAL_WAIT, EVAL_DNSFAIL };
/* Walk the rules in order.  EVAL_MATCH: *rule decides.  EVAL_NOMATCH:
 * no rule can match.  EVAL_WAIT: an undecided rule needs answers still
 * outstanding.  A rule that depends on a failed list is false, unless
 * fail_defer is set: then EVAL_DNSFAIL with *rule the rule concerned. */
int rules_eval(const struct ruleset *rs, const struct evalstate *st,
               int fail_defer, unsigned *rule);

/* Which conditions hold, for the log line: "PTRNUL,RBL,MULTIPLE,wl". */
size_t rules_conds(const struct ruleset *rs, const struct evalstate *st,
                   char *out, size_t room);

/* Does answer a (host order) count as a listing on list l?  Answers that
 * never count (see answer_invalid) do not. */
int dnslist_counts(const struct dnslist *l, uint32_t a);
/* Why an answer can never count, or NULL: "error_code" (127.255.255.0/24,
 * the lists' way to say "you may not query me"), "not_loopback" (outside
 * 127.0.0.0/8), "loopback_host" (127.0.0.1). */
const char *answer_invalid(uint32_t a);

const char *action_name(enum action a);

#endif
