/*
 * breaker.c - the per-zone circuit breaker's states (breaker.h).
 */
#include "breaker.h"

int breaker_note(struct breaker *b, const struct breaker_config *c,
                 enum dns_result res, unsigned long long now)
{
  if (b->down || !c->failures) return 0;  /* only the probe decides */
  if (res == DNS_OK) { b->fails = 0; return 0; }
  /* a run of failures spread over hours is bad luck, not an outage */
  if (!b->fails || now - b->first_fail > c->window) {
    b->fails = 0;
    b->first_fail = now;
  }
  b->last = res;
  if (++b->fails < c->failures) return 0;
  b->down = 1;
  b->probing = 0;
  b->since = now;
  b->backoff = c->backoff < c->max ? c->backoff : c->max;
  b->until = now + b->backoff;
  return 1;
}

int breaker_probe_due(struct breaker *b, unsigned long long now)
{
  if (!b->down || b->probing || now < b->until) return 0;
  b->probing = 1;
  return 1;
}

int breaker_probed(struct breaker *b, const struct breaker_config *c,
                   enum dns_result res, unsigned long long now)
{
  b->probing = 0;
  if (!b->down) return 0;
  if (res == DNS_OK) {
    b->down = 0;
    b->fails = 0;
    return 1;
  }
  b->last = res;
  b->backoff = b->backoff > c->max / 2 ? c->max : b->backoff * 2;
  b->until = now + b->backoff;
  return 0;
}
