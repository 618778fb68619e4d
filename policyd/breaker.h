/*
 * breaker.h - a circuit breaker per DNS list zone.  When a zone's
 * queries fail (time out, SERVFAIL, truncated) FAILURES times in a row
 * within WINDOW, the zone is down for a back-off period: requests stop
 * asking it and take its conditions as failed (never as listed).  After
 * the back-off one probe query is sent; its answer brings the zone back,
 * or a failure doubles the back-off (up to a cap).
 *
 * Only the state machine lives here, clock given by the caller, so the
 * unit tests can drive it; policyd.c sends the probes and logs.
 */
#ifndef POLICYD_BREAKER_H
#define POLICYD_BREAKER_H

#include "dns.h"

struct breaker_config {
  unsigned failures;                   /* in a row to go down */
  unsigned long long window;           /* usec they must fall within */
  unsigned long long backoff, max;     /* usec: first back-off, its cap */
};

struct breaker {
  struct breaker *next;                /* the owner's list */
  unsigned refs;                       /* lists of live rulesets */
  int down, probing;
  unsigned fails;                      /* in a row, while up */
  enum dns_result last;                /* the latest failure */
  unsigned long long first_fail;       /* of the current run */
  unsigned long long since, until;     /* down since; next probe at */
  unsigned long long backoff;          /* the current period */
  struct dns_waiter probe;
  unsigned long long probe_sent;       /* when the probe left */
  void *owner;                         /* the caller's */
  char zone[];
};

/* A fresh answer (one per query) while up.  Returns 1 if the zone has
 * just gone down. */
int breaker_note(struct breaker *b, const struct breaker_config *c,
                 enum dns_result res, unsigned long long now);

/* While down: 1 if it is time for the probe (then probing is set). */
int breaker_probe_due(struct breaker *b, unsigned long long now);

/* The probe's answer.  Returns 1 if the zone is back up. */
int breaker_probed(struct breaker *b, const struct breaker_config *c,
                   enum dns_result res, unsigned long long now);

#endif
