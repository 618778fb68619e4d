/*
 * report.h - the report of a struct stats, as text for cron mail or as
 * one self-contained HTML page with inline SVG charts.
 */
#ifndef REPORTD_REPORT_H
#define REPORTD_REPORT_H

#include <stdio.h>

#include "parse.h"

#define TOP_SHOWN 10

/* One layer of the funnel, counted in recipients. */
struct layer_row {
  const char *name, *source;
  int seen;
  unsigned long long in, rejected, passed;
};

void funnel(const struct stats *st, struct layer_row row[L_N]);

void report_text(FILE *o, const struct stats *st);
/* The sections alone, as text or as HTML tables. */
void report_sections(FILE *o, int html, const struct stats *st);
void report_html(FILE *o, const struct stats *st);

/* <!DOCTYPE html> ... <h1>title</h1>, with the page's style sheet. */
void html_head(FILE *o, const char *title);

/* Text as HTML (& < > " escaped) */
void html_put(FILE *o, const char *s);

/* "12.3%" of a/b, or "-" when b is 0; out has room for 16 bytes. */
void percent(char *out, unsigned long long a, unsigned long long b);

#endif
