/*
 * report.c - the text report; see report.h.  Every list of counts is
 * right-aligned and sorted ascending (ties by name), as sort -n would
 * leave it: the largest number is last, next to the section's totals.
 */
#include <stdlib.h>
#include <string.h>

#include "report.h"

#define W "10"                /* width of the count column */

/* Both reports go through these: text lines, or HTML tables. */
struct sink {
  FILE *f;
  int html, in_table;
};

static void end_table(struct sink *o)
{
  if (o->html && o->in_table) fputs("</table>\n", o->f);
  o->in_table = 0;
}

static void begin_table(struct sink *o)
{
  if (o->html && !o->in_table) fputs("<table>\n", o->f);
  o->in_table = 1;
}

static void section(struct sink *o, const char *title)
{
  end_table(o);
  if (o->html) {
    fputs("<h2>", o->f); html_put(o->f, title); fputs("</h2>\n", o->f);
  } else
    fprintf(o->f, "\n%s\n", title);
}

static void subsection(struct sink *o, const char *title)
{
  end_table(o);
  if (o->html) {
    fputs("<h3>", o->f); html_put(o->f, title); fputs("</h3>\n", o->f);
  } else
    fprintf(o->f, "  %s\n", title);
}

static void note(struct sink *o, const char *text)
{
  end_table(o);
  if (o->html) {
    fputs("<p>", o->f); html_put(o->f, text); fputs("</p>\n", o->f);
  } else
    fprintf(o->f, "  %s\n", text);
}

static void line(struct sink *o, const char *num, const char *label,
                 const char *cls)
{
  if (!o->html) { fprintf(o->f, "%" W "s  %s\n", num, label); return; }
  begin_table(o);
  fprintf(o->f, "<tr%s%s%s><td class=n>", cls ? " class=" : "",
          cls ? cls : "", "");
  html_put(o->f, num);
  fputs("</td><td>", o->f);
  html_put(o->f, label);
  fputs("</td></tr>\n", o->f);
}

static void count(struct sink *o, unsigned long long n, const char *label,
                  const char *cls)
{
  char num[24];

  snprintf(num, sizeof num, "%llu", n);
  line(o, num, label, cls);
}

struct row {
  unsigned long long n;
  const char *label;
};

static int row_cmp(const void *a, const void *b)
{
  const struct row *x = a, *y = b;

  if (x->n != y->n) return x->n < y->n ? -1 : 1;
  return strcmp(x->label, y->label);
}

static void put_rows(struct sink *o, struct row *r, unsigned n)
{
  unsigned i;

  qsort(r, n, sizeof *r, row_cmp);
  for (i = 0; i < n; i++) count(o, r[i].n, r[i].label, NULL);
}

void percent(char *out, unsigned long long a, unsigned long long b)
{
  if (!b) strcpy(out, "-");
  else snprintf(out, 16, "%.1f%%", 100.0 * (double)a / (double)b);
}

static void put_rate(struct sink *o, unsigned long long a,
                     unsigned long long b, const char *what)
{
  char p[16];

  percent(p, a, b);
  line(o, p, what, "rate");
}

void funnel(const struct stats *st, struct layer_row row[L_N])
{
  unsigned long long grey = 0;
  int i;

  for (i = 0; i < GR_N; i++) grey += st->grey[i];
  memset(row, 0, sizeof(struct layer_row) * L_N);
  row[L_RCPT] = (struct layer_row){ "recipient validation", "Postfix",
    st->seen_postfix, 0, st->rcpt_unknown + st->rcpt_temp, 0 };
  row[L_POLICY] = (struct layer_row){ "envelope policy", "policyd",
    st->seen_policy, st->pol_total, st->pol_rejected,
    st->pol_total - st->pol_rejected };
  row[L_GREY] = (struct layer_row){ "greylisting", "greyd",
    st->seen_grey, grey, st->grey[GR_REJECT_NEW] + st->grey[GR_REJECT_EARLY],
    grey - st->grey[GR_REJECT_NEW] - st->grey[GR_REJECT_EARLY] };
  row[L_CONTENT] = (struct layer_row){ "content scanning", "amavis",
    st->seen_amavis, st->av_rcpts, st->av_blocked_rcpts,
    st->av_rcpts - st->av_blocked_rcpts };
  /* Postfix does not log the RCPTs it accepts: those passed on are the
   * requests of the next layer, or the recipients of queued mail. */
  if (st->seen_grey) row[L_RCPT].passed = grey;
  else if (st->seen_policy) row[L_RCPT].passed = st->pol_total;
  else row[L_RCPT].passed = st->queued_rcpts;
  row[L_RCPT].in = row[L_RCPT].rejected + row[L_RCPT].passed;
}

static void none_seen(struct sink *o, const char *who)
{
  char t[80];

  snprintf(t, sizeof t, "no lines from %s in this window", who);
  note(o, t);
}

static void put_rcpt(struct sink *o, const struct stats *st,
                     const struct layer_row *f, struct row *r);

static void sec_rcpt(struct sink *o, const struct stats *st,
                     const struct layer_row *f)
{
  struct row r[3] = {
    { st->rcpt_temp, "temporary lookup failures (451 4.3.0)" },
    { st->rcpt_unknown, "rejected as unknown (550 5.1.1)" },
    { f->passed, "passed on" },
  };
  char t[200];

  section(o, "Recipient validation (Postfix)");
  if (!st->seen_postfix) none_seen(o, "Postfix");
  else put_rcpt(o, st, f, r);
  if (!st->seen_acct) return;
  snprintf(t, sizeof t, "acctd: %llu unknown, %llu temporary failures,"
           " %llu bad requests", st->acct_notfound, st->acct_temp,
           st->acct_bad);
  note(o, t);
}

static void put_rcpt(struct sink *o, const struct stats *st,
                     const struct layer_row *f, struct row *r)
{
  char t[200];

  put_rows(o, r, 3);
  count(o, f->in, "recipients in all", "total");
  put_rate(o, st->rcpt_unknown, f->in, "rejected as unknown");
  put_rate(o, st->rcpt_temp, f->in, "failed temporarily");
  snprintf(t, sizeof t, "other RCPT rejections by Postfix: %llu relay access"
           " denied, %llu by policy services and other restrictions",
           st->rcpt_relay, st->rcpt_other);
  note(o, t);
}

static void sec_grey(struct sink *o, const struct stats *st)
{
  struct row r[GR_N];
  unsigned long long all = 0, retry = st->grey[GR_PASS_RETRY];
  int i;

  section(o, "Greylisting (greyd)");
  if (!st->seen_grey) { none_seen(o, "greyd"); return; }
  for (i = 0; i < GR_N; i++) {
    r[i].n = st->grey[i];
    r[i].label = grey_reason[i];
    all += st->grey[i];
  }
  put_rows(o, r, GR_N);
  count(o, all, "decisions in all", "total");
  put_rate(o, st->grey[GR_REJECT_NEW], st->grey[GR_REJECT_NEW] + retry,
           "effective rejection rate, "
           "1 - pass retry / (reject new triplet + pass retry)");
}

/* Rows from a top table; labels point into a scratch array. */
static unsigned topn_rows(const struct topn *t, struct row *r,
                          char (*lab)[TOPN_KEYMAX + 16], unsigned max,
                          int policy)
{
  const struct topn_item **it = malloc(max * sizeof *it);
  unsigned i, n;

  if (!it) return 0;
  n = topn_top(t, it, max);
  for (i = 0; i < n; i++) {
    const char *tab = policy ? strchr(it[i]->key, '\t') : NULL;

    if (tab)
      snprintf(lab[i], TOPN_KEYMAX + 16, "%-6.*s  %s",
               (int)(tab - it[i]->key), it[i]->key, tab + 1);
    else
      snprintf(lab[i], TOPN_KEYMAX + 16, "%s", it[i]->key);
    r[i].n = it[i]->n;
    r[i].label = lab[i];
  }
  free(it);
  return n;
}

static void put_topn(struct sink *o, const struct topn *t, unsigned max,
                     int policy)
{
  struct row *r = calloc(max, sizeof *r);
  char (*lab)[TOPN_KEYMAX + 16] = calloc(max, sizeof *lab);
  char t2[120];

  if (r && lab) put_rows(o, r, topn_rows(t, r, lab, max, policy));
  free(r);
  free(lab);
  if (!t->evicted) return;
  snprintf(t2, sizeof t2, "(more than %u names were seen: the smallest"
           " counts may be too high)", t->cap);
  note(o, t2);
}

static void sec_policy(struct sink *o, const struct stats *st)
{
  section(o, "Envelope policy (policyd)");
  if (!st->seen_policy) { none_seen(o, "policyd"); return; }
  put_topn(o, st->rules, NAMES_TRACKED, 1);
  count(o, st->pol_total, "decisions in all", "total");
  put_rate(o, st->pol_rejected, st->pol_total, "rejected or deferred");
}

static const char *const av_fixed[] = {
  "Blocked SPAM", "Blocked INFECTED", "Passed BAD-HEADER", "Passed CLEAN"
};

static void sec_content(struct sink *o, const struct stats *st)
{
  const struct topn_item **it;
  struct row *r;
  unsigned i, j, n = 0, k;

  section(o, "Content scanning (amavis)");
  if (!st->seen_amavis) { none_seen(o, "amavis"); return; }
  it = calloc(NAMES_TRACKED, sizeof *it);
  r = calloc(NAMES_TRACKED + 4, sizeof *r);
  if (!it || !r) { free(it); free(r); note(o, "out of memory"); return; }
  for (i = 0; i < 4; i++) {
    const struct topn_item *x = topn_get(st->av_cat, av_fixed[i],
                                         strlen(av_fixed[i]));
    r[n].n = x ? x->n : 0;
    r[n++].label = av_fixed[i];
  }
  k = topn_top(st->av_cat, it, NAMES_TRACKED);
  for (i = 0; i < k; i++) {
    for (j = 0; j < 4 && strcmp(it[i]->key, av_fixed[j]); j++) ;
    if (j < 4) continue;
    r[n].n = it[i]->n;
    r[n++].label = it[i]->key;
  }
  put_rows(o, r, n);
  free(it);
  free(r);
  count(o, st->av_msgs, "messages in all", "total");
  put_rate(o, st->av_blocked, st->av_msgs, "blocked");
  if (!st->virus->used) return;
  subsection(o, "Virus names");
  put_topn(o, st->virus, NAMES_TRACKED, 0);
}

static void funnel_row(struct sink *o, const struct layer_row *f)
{
  char c[3][24];
  int i;

  if (f->seen) {
    snprintf(c[0], 24, "%llu", f->in);
    snprintf(c[1], 24, "%llu", f->rejected);
    snprintf(c[2], 24, "%llu", f->passed);
  } else
    for (i = 0; i < 3; i++) strcpy(c[i], "-");
  if (!o->html) {
    fprintf(o->f, "  %-22s %10s %10s %10s\n", f->name, c[0], c[1], c[2]);
    return;
  }
  fprintf(o->f, "<tr><td>%s</td><td class=n>%s</td><td class=n>%s</td>"
          "<td class=n>%s</td></tr>\n", f->name, c[0], c[1], c[2]);
}

/* Connections to other smtpd services are left out of the funnel: said
 * so, with the names that were counted. */
static void inbound_note(struct sink *o, const struct stats *st)
{
  char t[80 + INBOUND_MAX * (INBOUND_LEN + 1)];
  size_t k;
  unsigned i;

  k = (size_t)snprintf(t, sizeof t, "not counted: %llu connections to"
                       " other smtpd services than", st->other_connects);
  for (i = 0; i < st->ninbound && k < sizeof t; i++)
    k += (size_t)snprintf(t + k, sizeof t - k, "%s%s", i ? ", " : " ",
                          st->inbound[i]);
  note(o, t);
}

static void sec_funnel(struct sink *o, const struct stats *st)
{
  struct layer_row f[L_N];
  unsigned long long first = 0;
  int i;

  funnel(st, f);
  section(o, "The funnel");
  subsection(o, "Connections");
  count(o, st->connects, "connected to smtpd", NULL);
  count(o, st->sess_rcpt, "sent RCPT TO", NULL);
  count(o, st->sess_accepted, "had a recipient accepted", NULL);
  count(o, st->sess_data, "sent a message", NULL);
  count(o, st->av_msgs, "messages scanned (amavis)", NULL);
  if (st->other_connects) inbound_note(o, st);
  end_table(o);
  if (o->html)
    fputs("<h3>Recipients</h3>\n<table>\n<tr><th>layer</th><th>entering"
          "</th><th>rejected</th><th>passed on</th></tr>\n", o->f);
  else
    fprintf(o->f, "  Recipients              %10s %10s %10s\n", "entering",
            "rejected", "passed on");
  for (i = 0; i < L_N; i++) {
    funnel_row(o, &f[i]);
    if (f[i].seen && !first) first = f[i].in;
  }
  if (o->html) fputs("</table>\n", o->f);
  put_rate(o, f[L_CONTENT].in, f[L_CONTENT].seen ? first : 0,
           "of all recipients reached content scanning");
}

static void sec_top(struct sink *o, const struct stats *st)
{
  char t[80];

  snprintf(t, sizeof t, "Clients rejected most (top %u)", TOP_SHOWN);
  section(o, t);
  put_topn(o, st->clients, TOP_SHOWN, 0);
  snprintf(t, sizeof t, "Networks rejected most (top %u; IPv4 /24,"
           " IPv6 /48)", TOP_SHOWN);
  section(o, t);
  put_topn(o, st->nets, TOP_SHOWN, 0);
}

static void sec_lines(struct sink *o, const struct stats *st)
{
  struct row r[] = {
    { st->lines, "lines read" },
    { st->in_window, "lines in the window" },
    { st->outside, "lines outside the window" },
    { st->undated, "lines without a time stamp (always counted)" },
    { st->other, "lines of other programs" },
    { st->unknown, "lines not understood" },
    { st->too_long, "lines too long" },
    { st->partial, "partial last lines" },
    { st->files, "files read" },
    { st->rotated, "files rotated while read" },
    { st->truncated, "files truncated while read" },
    { st->vanished, "files removed before they were read" },
    { st->warnings, "warnings of the suite's daemons" },
    { st->fatals, "fatal errors of the suite's daemons" },
  };
  char t[60];
  unsigned i;

  section(o, "Log lines");
  put_rows(o, r, sizeof r / sizeof *r);
  if (!st->nsample) return;
  snprintf(t, sizeof t, "Not understood (the first %u)", st->nsample);
  subsection(o, t);
  if (o->html) fputs("<pre>", o->f);
  for (i = 0; i < st->nsample; i++) {
    if (!o->html) { fprintf(o->f, "    %s\n", st->sample[i]); continue; }
    html_put(o->f, st->sample[i]);
    fputc('\n', o->f);
  }
  if (o->html) fputs("</pre>\n", o->f);
}

/* Every section, in the order of the issue: the layers, the funnel,
 * the clients, the lines. */
void report_sections(FILE *f, int html, const struct stats *st)
{
  struct sink o = { f, html, 0 };
  struct layer_row fl[L_N];

  funnel(st, fl);
  sec_rcpt(&o, st, &fl[L_RCPT]);
  sec_grey(&o, st);
  sec_policy(&o, st);
  sec_content(&o, st);
  sec_funnel(&o, st);
  sec_top(&o, st);
  sec_lines(&o, st);
  end_table(&o);
}

void report_text(FILE *o, const struct stats *st)
{
  char a[20], b[20];

  stamp_fmt(a, st->since);
  stamp_fmt(b, st->until);
  fprintf(o, "imgate report from %s to %s\n", a, b);
  report_sections(o, 0, st);
}
