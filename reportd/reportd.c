/*
 * reportd - the daily report of every layer of the gateway, and a page
 * with the state of its services.
 *
 *   reportd [--since T] [--until T] [--inbound NAMES] [--html] LOG...
 *   reportd --status [--html]
 *   reportd --serve
 *
 * main() only parses the arguments; the work is in parse.c (lines to
 * counters), source.c (files and multilog directories), report.c and
 * html.c (the report), status.c (services, queue, disks) and httpd.c
 * (the status server).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "report.h"
#include "source.h"
#include "status.h"

static void usage(void)
{
  die_msg(EXIT_PERM, "usage: reportd [--since T] [--until T] [--inbound"
          " NAMES] [--html] LOG... | --status [--html] | --serve", NULL);
}

struct args {
  const char *since, *until, *inbound;
  int html, status, serve;
  int first_log;
};

static void parse_args(int argc, char **argv, struct args *a)
{
  int i;

  memset(a, 0, sizeof *a);
  for (i = 1; i < argc; i++) {
    const char *s = argv[i];

    if (!strcmp(s, "--")) { i++; break; }
    if (s[0] != '-' || s[1] != '-') break;
    if (!strcmp(s, "--html")) a->html = 1;
    else if (!strcmp(s, "--status")) a->status = 1;
    else if (!strcmp(s, "--serve")) a->serve = 1;
    else if (!strcmp(s, "--since") && i + 1 < argc) a->since = argv[++i];
    else if (!strcmp(s, "--until") && i + 1 < argc) a->until = argv[++i];
    else if (!strcmp(s, "--inbound") && i + 1 < argc)
      a->inbound = argv[++i];
    else usage();
  }
  a->first_log = i;
}

static long long when(const char *arg, long long now, long long def)
{
  long long t;

  if (!arg) return def;
  if (stamp_arg(arg, now, &t) < 0)
    die_msg(EXIT_PERM, "bad time (want YYYY-MM-DD[ HH:MM[:SS]], @SECONDS,"
            " -DURATION or now): ", arg);
  return t;
}

static int report(const struct args *a, int argc, char **argv)
{
  long long now = (long long)time(NULL), since, until;
  struct stats st;
  struct reader r;
  int i;

  /* by default the current second is in: lines logged just now count */
  until = when(a->until, now, now + 1);
  since = when(a->since, now, until - 86400);
  if (since >= until) die_msg(EXIT_PERM, "--since must be before --until",
                              NULL);
  if (a->first_log >= argc) usage();
  if (stats_init(&st, since, until) < 0 || reader_init(&r, &st) < 0)
    die_sys(EXIT_TEMP, "allocate", "memory");
  if (a->inbound && stats_inbound(&st, a->inbound) < 0)
    die_msg(EXIT_PERM, "bad --inbound (want syslog names of smtpd, such as"
            " postfix/smtpd, separated by commas): ", a->inbound);
  for (i = a->first_log; i < argc; i++) read_log(&r, argv[i]);
  if (a->html) report_html(stdout, &st);
  else report_text(stdout, &st);
  if (fflush(stdout) || ferror(stdout))
    die_sys(EXIT_TEMP, "write", "standard output");
  i = r.unreadable ? EXIT_TEMP : 0;
  reader_free(&r);
  stats_free(&st);
  return i;
}

int main(int argc, char **argv)
{
  struct args a;

  log_init("reportd");
  parse_args(argc, argv, &a);
  if (a.serve) return status_serve();
  if (a.status) return status_once(a.html);
  return report(&a, argc, argv);
}
