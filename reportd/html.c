/*
 * html.c - the report as one HTML page: the same sections as the text
 * report, and two inline SVG charts (the funnel; rejections per hour
 * and layer).  No script, no external file, no network: it reads the
 * same from a mail attachment or a file:// URL.
 */
#include <string.h>
#include <time.h>

#include "report.h"

void html_put(FILE *o, const char *s)
{
  for (; *s; s++)
    switch (*s) {
    case '&': fputs("&amp;", o); break;
    case '<': fputs("&lt;", o); break;
    case '>': fputs("&gt;", o); break;
    case '"': fputs("&quot;", o); break;
    default: fputc(*s, o);
    }
}

static const char *const layer_color[L_N] = {
  "#7b3294", "#5e8fcc", "#e66101", "#1a9641"
};

#define STYLE \
  "body{font:14px/1.4 sans-serif;margin:2em;color:#222;max-width:60em}" \
  "h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em;" \
  "border-bottom:1px solid #ccc}h3{font-size:1em;margin:.8em 0 .2em}" \
  "table{border-collapse:collapse}td,th{padding:1px 10px 1px 0;" \
  "text-align:left}td.n,th.n{text-align:right;font-variant-numeric:" \
  "tabular-nums;min-width:4.5em}tr.total td{border-top:1px solid #ccc}" \
  "tr.rate td{color:#555}pre{background:#f4f4f4;padding:.5em}" \
  "svg text{font:12px sans-serif}"

void html_head(FILE *o, const char *title)
{
  fputs("<!DOCTYPE html>\n<html lang=en>\n<head>\n<meta charset=utf-8>\n"
        "<title>", o);
  html_put(o, title);
  fputs("</title>\n<style>" STYLE "</style>\n</head>\n<body>\n<h1>", o);
  html_put(o, title);
  fputs("</h1>\n", o);
}

/* Horizontal bars: what enters each layer, split into passed on (green)
 * and rejected (red), on one scale. */
static void svg_funnel(FILE *o, const struct stats *st)
{
  struct layer_row f[L_N];
  unsigned long long max = 1;
  int i, y = 10;

  funnel(st, f);
  for (i = 0; i < L_N; i++)
    if (f[i].seen && f[i].in > max) max = f[i].in;
  fprintf(o, "<svg xmlns='http://www.w3.org/2000/svg' width=720 height=%d"
          " role=img aria-label='funnel'>\n", 20 + 34 * L_N + 20);
  for (i = 0; i < L_N; i++, y += 34) {
    double wp = 460.0 * (double)f[i].passed / (double)max;
    double wr = 460.0 * (double)f[i].rejected / (double)max;

    fprintf(o, "<text x=0 y=%d>%s</text>\n", y + 17, f[i].name);
    if (!f[i].seen) {
      fprintf(o, "<text x=160 y=%d fill='#888'>no data</text>\n", y + 17);
      continue;
    }
    fprintf(o, "<rect x=160 y=%d width=%.1f height=24 fill='#1a9641'>"
            "<title>passed on: %llu</title></rect>\n", y, wp, f[i].passed);
    fprintf(o, "<rect x=%.1f y=%d width=%.1f height=24 fill='#d7191c'>"
            "<title>rejected: %llu</title></rect>\n", 160 + wp, y, wr,
            f[i].rejected);
    fprintf(o, "<text x=%.1f y=%d>%llu in, %llu rejected</text>\n",
            166 + wp + wr, y + 17, f[i].in, f[i].rejected);
  }
  fprintf(o, "<rect x=160 y=%d width=12 height=12 fill='#1a9641'/>"
          "<text x=176 y=%d>passed on</text><rect x=260 y=%d width=12"
          " height=12 fill='#d7191c'/><text x=276 y=%d>rejected</text>\n",
          y + 4, y + 15, y + 4, y + 15);
  fputs("</svg>\n", o);
}

static unsigned long long bucket_max(const struct stats *st)
{
  unsigned long long max = 1;
  unsigned b;
  int l;

  for (b = 0; b < st->nbuckets; b++) {
    unsigned long long sum = 0;

    for (l = 0; l < L_N; l++) sum += st->rejects[l][b];
    if (sum > max) max = sum;
  }
  return max;
}

static void svg_axis(FILE *o, const struct stats *st, double bw,
                     unsigned long long max)
{
  unsigned b, every = st->nbuckets > 24 ? 4 : st->nbuckets > 12 ? 2 : 1;

  fprintf(o, "<line x1=50 y1=210 x2=%.1f y2=210 stroke='#444'/>\n",
          50 + bw * st->nbuckets);
  fprintf(o, "<text x=44 y=214 text-anchor=end>0</text>"
          "<text x=44 y=24 text-anchor=end>%llu</text>\n", max);
  for (b = 0; b < st->nbuckets; b += every) {
    time_t t = (time_t)(st->since + (long long)b * st->bucket_secs);
    struct tm tm;
    char lab[8] = "?";

    if (localtime_r(&t, &tm)) strftime(lab, sizeof lab, "%H:%M", &tm);
    fprintf(o, "<text x=%.1f y=228 text-anchor=middle>%s</text>\n",
            50 + bw * (b + 0.5), lab);
  }
}

/* Stacked bars: rejections of each layer per bucket (an hour, or a few
 * hours for windows of more than two days). */
static void svg_hours(FILE *o, const struct stats *st)
{
  static const char *const name[L_N] = {
    "recipient validation", "greylisting", "envelope policy",
    "content scanning"
  };
  unsigned long long max = bucket_max(st);
  double bw = 640.0 / st->nbuckets;
  unsigned b;
  int l;

  fputs("<svg xmlns='http://www.w3.org/2000/svg' width=720 height=260"
        " role=img aria-label='rejections per hour'>\n", o);
  for (b = 0; b < st->nbuckets; b++) {
    double y = 210;

    for (l = 0; l < L_N; l++) {
      double h = 190.0 * (double)st->rejects[l][b] / (double)max;

      if (!st->rejects[l][b]) continue;
      y -= h;
      fprintf(o, "<rect x=%.1f y=%.1f width=%.1f height=%.1f fill='%s'>"
              "<title>%s: %llu</title></rect>\n", 50 + bw * b + 1, y,
              bw - 2 > 1 ? bw - 2 : 1, h, layer_color[l], name[l],
              st->rejects[l][b]);
    }
  }
  svg_axis(o, st, bw, max);
  for (l = 0; l < L_N; l++)
    fprintf(o, "<rect x=%d y=242 width=12 height=12 fill='%s'/>"
            "<text x=%d y=253>%s</text>\n", 50 + 165 * l, layer_color[l],
            66 + 165 * l, name[l]);
  fputs("</svg>\n", o);
}

void report_html(FILE *o, const struct stats *st)
{
  char a[20], b[20], title[80];

  stamp_fmt(a, st->since);
  stamp_fmt(b, st->until);
  snprintf(title, sizeof title, "imgate report from %s to %s", a, b);
  html_head(o, title);
  fputs("<h2>The funnel, in recipients</h2>\n", o);
  svg_funnel(o, st);
  fprintf(o, "<h2>Rejections per %s and layer</h2>\n",
          st->bucket_secs == 3600 ? "hour" : "period");
  if (st->bucket_secs != 3600)
    fprintf(o, "<p>Each bar covers %lld hours.</p>\n",
            st->bucket_secs / 3600);
  svg_hours(o, st);
  report_sections(o, 1, st);
  fputs("</body>\n</html>\n", o);
}
