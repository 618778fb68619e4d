/*
 * decide.c - the greylisting rules, as postgrey's postmasters know them:
 * a new triplet waits DELAY seconds; a retry inside RETRY_WINDOW passes
 * and the triplet stays passed while it is seen within MAX_AGE; a client
 * address with AWL_CLIENTS passed deliveries (counted at most once per
 * AWL_INTERVAL) passes everything for AWL_MAX_AGE after it was last seen.
 * No I/O here: the store reads the records, this updates them.
 */
#include "greyd.h"

static const char *const reasons[R_COUNT] = {
  [R_NEW] = "Reject new triplet",
  [R_EARLY] = "Reject early retry",
  [R_RETRY] = "Pass retry",
  [R_CACHED] = "Pass cached triplet",
  [R_AWL_ADD] = "Pass and auto-whitelist IP",
  [R_AWL] = "Pass new triplet from white listed IP",
  [R_UNSUSPICIOUS] = "Pass unsuspicious client",
  [R_WL_CLIENT] = "Pass whitelisted client",
  [R_WL_RECIPIENT] = "Pass whitelisted recipient",
  [R_WL_SENDER] = "Pass whitelisted sender",
  [R_STORE] = "Pass store failure",
};

const char *reason_text(enum reason r)
{
  return r < R_COUNT ? reasons[r] : "?";
}

int reason_defers(enum reason r) { return r == R_NEW || r == R_EARLY; }

/* Seconds from then to now; a clock that went back counts as 0. */
static uint32_t since(uint32_t now, uint32_t then)
{
  return now > then ? now - then : 0;
}

int trec_stale(uint32_t now, const struct timing *tm, const struct trec *t)
{
  if (t->passes) return since(now, t->last) > tm->max_age;
  return since(now, t->first) > tm->retry_window;
}

int crec_stale(uint32_t now, const struct timing *tm, const struct crec *c)
{
  return since(now, c->last_seen) > tm->awl_max_age;
}

static int whitelisted(const struct timing *tm, const struct crec *c)
{
  return tm->awl_clients && c->found && c->count >= tm->awl_clients;
}

/* A passed delivery counts towards the client's auto-whitelisting;
 * returns 1 when this one made the client whitelisted. */
static int count_pass(uint32_t now, const struct timing *tm, struct crec *c,
                      unsigned *write)
{
  if (!tm->awl_clients) return 0;
  if (c->found && c->count && since(now, c->last_count) < tm->awl_interval) {
    c->last_seen = now;
    *write |= W_CLIENT;
    return 0;
  }
  c->count++;
  c->last_count = c->last_seen = now;
  c->found = 1;
  *write |= W_CLIENT;
  return c->count == tm->awl_clients;
}

enum reason decide(uint32_t now, const struct timing *tm, struct trec *t,
                   struct crec *c, uint32_t *age, unsigned *write)
{
  *write = 0;
  *age = 0;
  if (c->found && crec_stale(now, tm, c)) {
    c->count = c->last_count = 0;
    c->found = 0;
  }
  if (t->found && (trec_stale(now, tm, t) || t->first > now)) t->found = 0;
  if (t->found && t->passes) {
    *age = since(now, t->first);
    t->last = now;
    t->passes++;
    *write = W_TRIPLET;
    return count_pass(now, tm, c, write) ? R_AWL_ADD : R_CACHED;
  }
  if (whitelisted(tm, c)) {
    /* refresh at most once a minute: a busy client is not a write storm */
    if (since(now, c->last_seen) >= 60) {
      c->last_seen = now;
      *write = W_CLIENT;
    }
    return R_AWL;
  }
  if (!t->found) {
    t->first = t->last = now;
    t->passes = 0;
    t->found = 1;
    *write = W_TRIPLET;
    return R_NEW;
  }
  *age = since(now, t->first);
  if (*age < tm->delay) return R_EARLY;
  t->last = now;
  t->passes = 1;
  *write = W_TRIPLET;
  return count_pass(now, tm, c, write) ? R_AWL_ADD : R_RETRY;
}
