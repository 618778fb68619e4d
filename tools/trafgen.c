/*
 * trafgen - realistic SMTP traffic for the gateway, with its ground truth.
 *
 * A seeded model (trafgen(1) describes it) makes a population of clients:
 * legitimate servers, small servers without a PTR that retry, spam-bots
 * from access networks, DNSBL-listed clients and dictionary attackers.
 * Each client talks real SMTP to Postfix on loopback, presenting its
 * address, PTR names and HELO through XCLIENT, and behaves as its kind
 * does (an MTA retries a 4xx, most bots never do).
 *
 * Beside every RCPT the model says what each layer of the gateway should
 * do with it; those counts are the ground truth (-T), and every reply
 * Postfix gives is checked against the model.  The model runs in the
 * same order as the traffic, so the truth holds for the run that made it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define MAXRCPT 24
#define MAXMSG 8
#define MAXWORKERS 32
#define LINEMAX 1024
#define REPLY_TIMEOUT_MS 60000

/* ---- random numbers: splitmix64, one stream per client ---- */

static unsigned long long mix64(unsigned long long *s)
{
  unsigned long long z = (*s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static unsigned rnd(unsigned long long *s, unsigned n)
{
  return (unsigned)(mix64(s) % n);
}

/* ---- the population ---- */

enum kind {
  K_LEGIT,      /* proper verified PTR, HELO = that name */
  K_SMALL,      /* legitimate, no PTR, proper HELO: greylisted, retries */
  K_BOT,        /* access network, bad HELO; mostly never retries */
  K_LISTED,     /* on the demo's DNSBL zones */
  K_DICT,       /* dictionary attack on unknown recipients */
  K_SPAMMER,    /* proper PTR and HELO, sends content that is blocked */
  K_REGULAR,    /* no PTR, sends often: greylisted once, then whitelisted */
  K_NKINDS
};
static const char *kind_name[K_NKINDS] = {
  "legit", "small-server", "spam-bot", "dnsbl-listed", "dictionary",
  "content", "regular"
};
/* Share of clients per kind, in percent (content only with layer c). */
static const unsigned kind_share[K_NKINDS] = { 30, 8, 35, 10, 12, 5, 4 };

enum behaviour { B_MTA, B_NEVER, B_EARLY, B_ONCE };

/* classification, as lib/classify.h names it */
enum {
  C_PTRNUL = 1, C_PTR_ACCNET = 2, C_HELO_IP = 4, C_HELO_NOTFQDN = 8,
  C_HELO_ACCNET = 16
};
/* DNSBL listings */
enum { L_MAIN = 1, L_SECOND = 2 };

enum content { M_CLEAN, M_VIRUS, M_SPAM };

struct msg {
  unsigned nrcpt;
  unsigned rcpt[MAXRCPT];     /* index into the recipient table */
  int state[MAXRCPT];         /* 0 pending, 1 accepted, 2 refused */
  enum content content;
  unsigned tries;
};

struct client {
  enum kind kind;
  enum behaviour beh;
  unsigned cls, lists;
  char addr[16], name[96], rev[96], helo[96], sender[96];
  unsigned nmsg, cur;
  struct msg msg[MAXMSG];
  unsigned long long rng;
};

/* ---- recipients: known accounts first, then guesses that do not exist */

static const char *first_names[] = {
  "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
  "ivan", "judy", "mallory", "nina", "oscar", "peggy", "rupert", "sybil",
  "trent", "ursula", "victor", "walter", "xena", "yves", "zoe", "info",
  "sales", "office", "billing", "support", "hr", "jobs", "press",
  "marketing", "accounts", "helpdesk", "orders", "team"
};
#define NFIRST (sizeof first_names / sizeof first_names[0])
static const char *last_names[] = {
  "smith", "jones", "brown", "taylor", "wilson", "evans", "thomas",
  "roberts", "walker", "wright", "green", "hall", "wood", "clarke"
};
#define NLAST (sizeof last_names / sizeof last_names[0])
/* dictionary words: a few exist (info, sales, office), most do not */
static const char *guesses[] = {
  "admin", "webmaster", "root", "test", "contact", "mail", "service",
  "noreply", "newsletter", "user", "guest", "director", "ceo", "finance",
  "legal", "shop", "it", "security", "backup", "michael", "john", "david",
  "james", "robert", "mary", "linda", "info", "sales", "office", "anna",
  "peter", "paul", "mark", "susan", "karen", "lisa", "nancy", "betty"
};
#define NGUESS (sizeof guesses / sizeof guesses[0])

#define DOMAIN "example.com"
#define MAXACCOUNTS 512

struct model {
  unsigned long long seed;
  unsigned nclients;
  unsigned delay;             /* greyd's DELAY, seconds */
  unsigned awl;               /* greyd's AWL_CLIENTS; 0: never reached */
  unsigned long long layers;  /* bit per letter a..z */
  unsigned naccounts;
  char accounts[MAXACCOUNTS][48];
  struct client *cl;
};

static int has_layer(const struct model *m, char c)
{
  return (m->layers >> (c - 'a')) & 1;
}

/* Accounts: first names alone, then first.last; all lower case.  The
 * role names info, sales and office exist, so some guesses hit. */
static void make_accounts(struct model *m, unsigned n)
{
  unsigned i;
  if (n > MAXACCOUNTS) n = MAXACCOUNTS;
  for (i = 0; i < n; i++) {
    if (i < NFIRST)
      snprintf(m->accounts[i], sizeof m->accounts[i], "%s", first_names[i]);
    else
      snprintf(m->accounts[i], sizeof m->accounts[i], "%s.%s",
               first_names[i % NFIRST], last_names[(i / NFIRST) % NLAST]);
  }
  m->naccounts = n;
}

static int is_account(const struct model *m, const char *local)
{
  unsigned i;
  for (i = 0; i < m->naccounts; i++)
    if (!strcmp(m->accounts[i], local)) return 1;
  return 0;
}

/* Recipient index space: < naccounts are accounts; naccounts + g is the
 * guess g (which may or may not exist), 1000 + k a typo of account k. */
#define R_GUESS(m, g) ((m)->naccounts + (g))
#define R_TYPO 100000

static void rcpt_text(const struct model *m, unsigned r, char *out,
                      size_t room)
{
  if (r >= R_TYPO)
    snprintf(out, room, "%sx@%s", m->accounts[r - R_TYPO], DOMAIN);
  else if (r >= m->naccounts)
    snprintf(out, room, "%s@%s", guesses[r - m->naccounts], DOMAIN);
  else
    snprintf(out, room, "%s@%s", m->accounts[r], DOMAIN);
}

static int rcpt_known(const struct model *m, unsigned r)
{
  if (r >= R_TYPO) return 0;
  if (r < m->naccounts) return 1;
  return is_account(m, guesses[r - m->naccounts]);
}

/* ---- names ---- */

static const char *companies[] = {
  "northwind", "contoso", "fabrikam", "tailspin", "wingtip", "adatum",
  "litware", "proseware", "lucerne", "margie", "treyresearch", "woodgrove",
  "fourthcoffee", "alpineski", "blueyonder", "cohovineyard", "humongous",
  "wideworld", "graphicdesign", "southridge"
};
#define NCOMP (sizeof companies / sizeof companies[0])
static const char *tlds[] = { "example", "example.net", "example.org" };

/* Unique addresses: a bijection of the client index onto the hosts .1 to
 * .254 of 512 networks of 198.18.0.0/15 (RFC 2544 space, never routed). */
static void client_addr(const struct model *m, unsigned i, char *out)
{
  unsigned long long M = 512ULL * 254;
  unsigned long long j = (i * 40503ULL + m->seed * 7919ULL) % M;
  unsigned net = (unsigned)(j / 254), host = (unsigned)(j % 254) + 1;
  snprintf(out, 16, "198.%u.%u.%u", 18 + net / 256, net % 256, host);
}

static void good_name(struct client *c, const char *pfx, unsigned i)
{
  unsigned k = i % NCOMP, t = (i / NCOMP) % 3;
  /* several clients of one company: add a letter, never digits */
  char extra[4] = "";
  if (i >= NCOMP * 3) {
    extra[0] = (char)('a' + (i / (NCOMP * 3)) % 26);
    extra[1] = (char)('a' + (i / (NCOMP * 3 * 26)) % 26);
  }
  snprintf(c->name, sizeof c->name, "%s.%s%s.%s", pfx, companies[k], extra,
           tlds[t]);
}

static void dyn_name(struct client *c, char *out, size_t room)
{
  unsigned a, b, x, y;
  sscanf(c->addr, "%u.%u.%u.%u", &a, &b, &x, &y);
  switch (rnd(&c->rng, 3)) {
  case 0:
    snprintf(out, room, "dsl-%u-%u-%u-%u.dyn.example.net", a, b, x, y);
    break;
  case 1:
    snprintf(out, room, "%u-%u-%u-%u.pool.example-isp.net", a, b, x, y);
    break;
  default:
    snprintf(out, room, "c-%u-%u-%u-%u.cable.example.org", a, b, x, y);
  }
}

static const char *bare_words[] = {
  "PC01", "DESKTOP-7F2KQ", "HOME", "WIN-LAPTOP", "USER-PC", "OFFICEPC",
  "ADMIN-PC", "LAPTOP"
};
#define NBARE (sizeof bare_words / sizeof bare_words[0])

static void set_unverified(struct client *c)
{
  strcpy(c->name, "[UNAVAILABLE]");
  strcpy(c->rev, "[UNAVAILABLE]");
}

/* A bot: no PTR or a dynamic one; HELO an address, a bare word, or an
 * access-network name. */
static void make_bot_identity(struct client *c)
{
  unsigned shape = rnd(&c->rng, 10);
  char dyn[96];
  dyn_name(c, dyn, sizeof dyn);
  if (shape < 5) {
    set_unverified(c);
    c->cls = C_PTRNUL;
  } else {
    strcpy(c->name, dyn);
    strcpy(c->rev, dyn);
    c->cls = C_PTR_ACCNET;
  }
  switch (rnd(&c->rng, 6)) {
  case 4:
  case 5:
    /* a forged server name: only greylisting stops this bot */
    snprintf(c->helo, sizeof c->helo, "mail.%s.example",
             companies[rnd(&c->rng, NCOMP)]);
    break;
  case 0:
    snprintf(c->helo, sizeof c->helo, "[%s]", c->addr);
    c->cls |= C_HELO_IP;
    break;
  case 1:
    snprintf(c->helo, sizeof c->helo, "%s", c->addr);
    c->cls |= C_HELO_IP;
    break;
  case 2:
    snprintf(c->helo, sizeof c->helo, "%s", bare_words[rnd(&c->rng, NBARE)]);
    c->cls |= C_HELO_NOTFQDN;
    break;
  default:
    snprintf(c->helo, sizeof c->helo, "%s", dyn);
    c->cls |= C_HELO_ACCNET;
  }
}

static void pick_rcpts(struct model *m, struct client *c, struct msg *g,
                       unsigned n, unsigned typo_pct)
{
  unsigned i, j, r;
  g->nrcpt = 0;
  for (i = 0; i < n && g->nrcpt < MAXRCPT; i++) {
    r = rnd(&c->rng, m->naccounts);
    if (rnd(&c->rng, 100) < typo_pct) r += R_TYPO;
    for (j = 0; j < g->nrcpt; j++) if (g->rcpt[j] == r) break;
    if (j == g->nrcpt) g->rcpt[g->nrcpt++] = r;
  }
}

static void pick_guesses(struct model *m, struct client *c, struct msg *g,
                         unsigned n)
{
  unsigned start = rnd(&c->rng, NGUESS), i;
  g->nrcpt = 0;
  for (i = 0; i < n && i < NGUESS && g->nrcpt < MAXRCPT; i++)
    g->rcpt[g->nrcpt++] = R_GUESS(m, (start + i) % NGUESS);
}

static enum kind pick_kind(struct model *m, struct client *c)
{
  unsigned total = 0, k, x;
  for (k = 0; k < K_NKINDS; k++)
    if (k != K_SPAMMER || has_layer(m, 'c')) total += kind_share[k];
  x = rnd(&c->rng, total);
  for (k = 0; k < K_NKINDS; k++) {
    if (k == K_SPAMMER && !has_layer(m, 'c')) continue;
    if (x < kind_share[k]) return (enum kind)k;
    x -= kind_share[k];
  }
  return K_LEGIT;
}

static void make_legit(struct model *m, struct client *c, unsigned i)
{
  unsigned k;
  good_name(c, i % 2 ? "mx" : "mail", i);
  strcpy(c->rev, c->name);
  strcpy(c->helo, c->name);
  c->beh = B_MTA;
  c->nmsg = 1 + rnd(&c->rng, 2);
  for (k = 0; k < c->nmsg; k++)
    pick_rcpts(m, c, &c->msg[k], 1 + rnd(&c->rng, 3), 5);
}

static void make_small(struct model *m, struct client *c, unsigned i)
{
  unsigned k;
  good_name(c, "smtp", i);
  strcpy(c->helo, c->name);
  set_unverified(c);
  c->cls = C_PTRNUL;
  c->beh = B_MTA;
  /* the second message repeats the first's recipients: cached triplets */
  c->nmsg = 1 + rnd(&c->rng, 2);
  pick_rcpts(m, c, &c->msg[0], 1 + rnd(&c->rng, 2), 0);
  for (k = 1; k < c->nmsg; k++) c->msg[k] = c->msg[0];
}

static void make_bot(struct model *m, struct client *c)
{
  unsigned x = rnd(&c->rng, 100);
  make_bot_identity(c);
  c->beh = x < 80 ? B_NEVER : x < 90 ? B_EARLY : B_ONCE;
  c->nmsg = 1;
  pick_rcpts(m, c, &c->msg[0], 1 + rnd(&c->rng, 3), 0);
}

/* Listed clients: on both zones with a clean identity (caught by "RBL
 * MULTIPLE MAIN"), on the second zone only with a clean identity (one
 * stale listing alone passes), or on the main zone without a PTR. */
static void make_listed(struct model *m, struct client *c, unsigned i)
{
  unsigned x = rnd(&c->rng, 10);
  c->nmsg = 1;
  pick_rcpts(m, c, &c->msg[0], 1 + rnd(&c->rng, 2), 0);
  if (x < 5) {
    make_legit(m, c, i);
    c->nmsg = 1;
    c->lists = L_MAIN | L_SECOND;
    c->beh = B_ONCE;
  } else if (x < 7) {
    make_legit(m, c, i);
    c->nmsg = 1;
    c->lists = L_SECOND;
  } else {
    good_name(c, "relay", i);
    strcpy(c->helo, c->name);
    set_unverified(c);
    c->cls = C_PTRNUL;
    c->lists = L_MAIN;
    c->beh = B_ONCE;
  }
}

static void make_dict(struct model *m, struct client *c)
{
  set_unverified(c);
  snprintf(c->helo, sizeof c->helo, "%s", bare_words[rnd(&c->rng, NBARE)]);
  c->cls = C_PTRNUL | C_HELO_NOTFQDN;
  c->beh = B_NEVER;
  c->nmsg = 1;
  pick_guesses(m, c, &c->msg[0], 6 + rnd(&c->rng, 12));
}

static void make_spammer(struct model *m, struct client *c, unsigned i)
{
  make_legit(m, c, i);
  c->nmsg = 1;
  c->beh = B_ONCE;
  c->msg[0].content = rnd(&c->rng, 2) ? M_VIRUS : M_SPAM;
}

/* A regular correspondent without a PTR: its first message is
 * greylisted, the next ones to the same recipient pass as cached; with
 * auto-whitelisting on, the later ones to new recipients pass at once. */
static void make_regular(struct model *m, struct client *c, unsigned i)
{
  unsigned k;
  good_name(c, "post", i);
  strcpy(c->helo, c->name);
  set_unverified(c);
  c->cls = C_PTRNUL;
  c->beh = B_MTA;
  c->nmsg = 7;
  pick_rcpts(m, c, &c->msg[0], 1, 0);
  for (k = 1; k < 5; k++) c->msg[k] = c->msg[0];
  for (; k < c->nmsg; k++) {
    c->msg[k].nrcpt = 1;
    c->msg[k].rcpt[0] = (c->msg[0].rcpt[0] + k) % m->naccounts;
  }
}

static void make_client(struct model *m, unsigned i)
{
  struct client *c = &m->cl[i];
  memset(c, 0, sizeof *c);
  c->rng = m->seed * 1000003ULL + i;
  mix64(&c->rng);
  client_addr(m, i, c->addr);
  c->kind = pick_kind(m, c);
  switch (c->kind) {
  case K_LEGIT: make_legit(m, c, i); break;
  case K_SMALL: make_small(m, c, i); break;
  case K_BOT: make_bot(m, c); break;
  case K_LISTED: make_listed(m, c, i); break;
  case K_DICT: make_dict(m, c); break;
  case K_REGULAR: make_regular(m, c, i); break;
  default: make_spammer(m, c, i);
  }
  /* one sender per client: no two clients ever share a triplet */
  snprintf(c->sender, sizeof c->sender, "%s%u@sender-%u.example.net",
           c->kind == K_LEGIT || c->kind == K_SMALL || c->kind == K_REGULAR ?
           "news" : "offer", i, i);
}

/* ---- the model of the gateway, and the ground truth ---- */

/* Counters, one per layer decision; summed over the workers. */
enum {
  T_ACCT_UNKNOWN, T_GREY_NEW, T_GREY_EARLY, T_GREY_RETRY, T_GREY_CACHED,
  T_GREY_UNSUSP, T_GREY_AWL_ADD, T_GREY_AWL, T_POL_DUNNO, T_POL_RULE0,
  T_CONTENT_CLEAN = T_POL_RULE0 + 16, T_CONTENT_VIRUS, T_CONTENT_SPAM,
  T_ACCEPTED_MSGS, T_DELIVERED_MSGS, T_DELIVERED_RCPTS, T_RCPTS, T_SESSIONS,
  T_MISMATCH, T_WRONG_REJECT, T_LOST, T_TEMPFAIL, T_KIND0,
  T_N = T_KIND0 + 3 * K_NKINDS
};

/* policyd's default rules, in order (conf/policyd); the first that holds
 * decides.  R bits: conditions the rule needs. */
enum { P_RBL = 32, P_MULTIPLE = 64, P_MAIN = 128 };
static const struct { unsigned need; const char *name; } rules[] = {
  { C_PTRNUL | C_HELO_IP, "PTRNUL HELO_IP" },
  { C_PTRNUL | C_HELO_ACCNET, "PTRNUL HELO_ACCNET" },
  { C_PTRNUL | C_HELO_NOTFQDN, "PTRNUL HELO_NOTFQDN" },
  { C_PTR_ACCNET | C_HELO_IP, "PTR_ACCNET HELO_IP" },
  { C_PTR_ACCNET | C_HELO_NOTFQDN, "PTR_ACCNET HELO_NOTFQDN" },
  { C_PTR_ACCNET | C_HELO_ACCNET, "PTR_ACCNET HELO_ACCNET" },
  { P_RBL | C_PTRNUL, "RBL PTRNUL" },
  { P_RBL | C_PTR_ACCNET, "RBL PTR_ACCNET" },
  { P_RBL | C_HELO_IP, "RBL HELO_IP" },
  { P_RBL | C_HELO_ACCNET, "RBL HELO_ACCNET" },
  { P_RBL | C_HELO_NOTFQDN, "RBL HELO_NOTFQDN" },
  { P_RBL | P_MULTIPLE | P_MAIN, "RBL MULTIPLE MAIN" },
  { P_RBL | P_MULTIPLE, "RBL MULTIPLE" },
};
#define NRULES (sizeof rules / sizeof rules[0])

/* Triplet state per (client, recipient): the sender is the client's own,
 * so this is greyd's triplet. */
enum { TR_NONE, TR_GREY, TR_PASSED };
struct triplet { unsigned rcpt; int state; };

struct worker {
  struct model *m;
  unsigned long long t[T_N];
  struct triplet *trip;       /* per client, MAXMSG * MAXRCPT */
  unsigned *passes;           /* per client: passes counted by greyd */
  int fault_mode;             /* -f: temporary failures are expected */
  int verbose;
};

enum { X_ACCEPT, X_UNKNOWN, X_GREY, X_POLICY };

static unsigned conds_of(const struct client *c)
{
  unsigned x = c->cls;
  if (c->lists) x |= P_RBL;
  if (c->lists == (L_MAIN | L_SECOND)) x |= P_MULTIPLE;
  if (c->lists & L_MAIN) x |= P_MAIN;
  return x;
}

static int policy_rule(const struct client *c)
{
  unsigned x = conds_of(c), i;
  for (i = 0; i < NRULES; i++)
    if ((x & rules[i].need) == rules[i].need) return (int)i;
  return -1;
}

static struct triplet *triplet_of(struct worker *w, unsigned ci, unsigned r)
{
  struct triplet *t = &w->trip[ci * MAXMSG * MAXRCPT];
  unsigned i;
  for (i = 0; i < MAXMSG * MAXRCPT; i++) {
    if (t[i].state == TR_NONE || t[i].rcpt == r) {
      t[i].rcpt = r;
      return &t[i];
    }
  }
  return &t[0];
}

/* A passed delivery counts towards the client's auto-whitelisting (the
 * model assumes greyd's AWL_INTERVAL=0: every pass counts); 1 when this
 * one made the client whitelisted. */
static int count_pass(struct worker *w, unsigned ci)
{
  if (!w->m->awl) return 0;
  return ++w->passes[ci] == w->m->awl;
}

/* greyd's decision on one triplet (greyd/decide.c's order); 1 when it
 * defers. */
static int model_greyd(struct worker *w, unsigned ci, unsigned r, int early)
{
  struct triplet *t;
  if (!w->m->cl[ci].cls) {
    w->t[T_GREY_UNSUSP]++;
    return 0;
  }
  t = triplet_of(w, ci, r);
  if (t->state == TR_PASSED) {
    w->t[count_pass(w, ci) ? T_GREY_AWL_ADD : T_GREY_CACHED]++;
    return 0;
  }
  if (w->m->awl && w->passes[ci] >= w->m->awl) {
    w->t[T_GREY_AWL]++;
    return 0;
  }
  if (t->state == TR_NONE) {
    t->state = TR_GREY;
    w->t[T_GREY_NEW]++;
    return 1;
  }
  if (early) {
    w->t[T_GREY_EARLY]++;
    return 1;
  }
  t->state = TR_PASSED;
  w->t[count_pass(w, ci) ? T_GREY_AWL_ADD : T_GREY_RETRY]++;
  return 0;
}

/* What the gateway should do with one RCPT; counts it. early: this is a
 * retry made before greyd's DELAY.  Postfix asks every policy service
 * of the list: greyd's DEFER_IF_PERMIT does not stop the list, so
 * policyd is asked too, and its REJECT wins over greyd's deferral; the
 * deferral is the answer only when nothing later rejects. */
static int model_rcpt(struct worker *w, unsigned ci, unsigned r, int early)
{
  struct model *m = w->m;
  struct client *c = &m->cl[ci];
  int rule, deferred = 0;
  w->t[T_RCPTS]++;
  if (has_layer(m, 'a') && !rcpt_known(m, r)) {
    w->t[T_ACCT_UNKNOWN]++;
    return X_UNKNOWN;
  }
  if (has_layer(m, 'g')) deferred = model_greyd(w, ci, r, early);
  if (has_layer(m, 'p')) {
    rule = policy_rule(c);
    if (rule >= 0) {
      w->t[T_POL_RULE0 + rule]++;
      return X_POLICY;
    }
    w->t[T_POL_DUNNO]++;
  }
  return deferred ? X_GREY : X_ACCEPT;
}

static void model_message(struct worker *w, const struct msg *g,
                          unsigned naccepted)
{
  w->t[T_ACCEPTED_MSGS]++;
  /* with content scanning, blocked mail is accepted but not delivered */
  if (has_layer(w->m, 'c')) {
    w->t[g->content == M_VIRUS ? T_CONTENT_VIRUS :
         g->content == M_SPAM ? T_CONTENT_SPAM : T_CONTENT_CLEAN]++;
    if (g->content != M_CLEAN) return;
  }
  w->t[T_DELIVERED_MSGS]++;
  w->t[T_DELIVERED_RCPTS] += naccepted;
}

/* ---- SMTP ---- */

struct conn {
  int fd;
  char buf[4096];
  size_t len;
  char last[LINEMAX];         /* the last line of the last reply */
};

static struct sockaddr_in server;

static int conn_open(struct conn *k)
{
  struct timeval tv = { REPLY_TIMEOUT_MS / 1000, 0 };
  k->len = 0;
  k->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (k->fd < 0) return -1;
  setsockopt(k->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(k->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(k->fd, (struct sockaddr *)&server, sizeof server) < 0) {
    close(k->fd);
    k->fd = -1;
    return -1;
  }
  return 0;
}

static int conn_put(struct conn *k, const char *fmt, ...)
{
  char line[LINEMAX * 4];
  va_list ap;
  int n;
  size_t off = 0;
  va_start(ap, fmt);
  n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof line) return -1;
  while (off < (size_t)n) {
    ssize_t r = write(k->fd, line + off, (size_t)n - off);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    off += (size_t)r;
  }
  return 0;
}

/* Reads one whole reply; returns its code (the last line in k->last), or
 * -1 when the connection failed or timed out. */
static int conn_reply(struct conn *k)
{
  for (;;) {
    char *nl = memchr(k->buf, '\n', k->len);
    if (nl) {
      size_t n = (size_t)(nl - k->buf) + 1, c = n;
      if (c > 1 && k->buf[c - 2] == '\r') c--;
      c--;
      if (c >= sizeof k->last) c = sizeof k->last - 1;
      memcpy(k->last, k->buf, c);
      k->last[c] = 0;
      memmove(k->buf, k->buf + n, k->len - n);
      k->len -= n;
      if (c >= 4 && k->last[3] == '-') continue;
      if (c < 3) return -1;
      return atoi(k->last);
    }
    if (k->len == sizeof k->buf) return -1;
    ssize_t r = read(k->fd, k->buf + k->len, sizeof k->buf - k->len);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    k->len += (size_t)r;
  }
}

static int cmd(struct conn *k, const char *fmt, const char *arg)
{
  if (conn_put(k, fmt, arg) < 0) return -1;
  return conn_reply(k);
}

/* ---- one session ---- */

/* The virus test pattern: the demo builds a ClamAV signature for it. */
#define VIRUS_TEXT "IMGATE-TEST-SIGNATURE-5b1d0c7e-DO-NOT-DELIVER"
#define GTUBE "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-" \
  "EMAIL*C.34X"

static int send_data(struct conn *k, const struct client *c,
                     const struct msg *g, unsigned ci, const char *to)
{
  const char *body = g->content == M_VIRUS ? VIRUS_TEXT :
                     g->content == M_SPAM ? GTUBE :
                     "Hello,\r\n\r\nthe minutes of Tuesday's meeting are "
                     "below.\r\n\r\nRegards";
  char hdr[LINEMAX * 2], date[64];
  time_t t = time(NULL);
  struct tm tm;
  /* the current date: a stale one alone scores as spam */
  strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000",
           gmtime_r(&t, &tm));
  if (cmd(k, "DATA\r\n", NULL) != 354) return -1;
  snprintf(hdr, sizeof hdr,
           "From: <%s>\r\nTo: <%s>\r\nSubject: trafgen %s %u/%u\r\n"
           "Date: %s\r\nMessage-ID: <%u.%u.%u@%s>\r\n\r\n",
           c->sender, to, kind_name[c->kind], ci, c->cur, date, ci, c->cur,
           g->tries, "trafgen.example.net");
  if (conn_put(k, "%s", hdr) < 0) return -1;
  if (conn_put(k, "%s\r\n.\r\n", body) < 0) return -1;
  return conn_reply(k);
}

static int xclient(struct conn *k, const struct client *c)
{
  char line[LINEMAX];
  snprintf(line, sizeof line, "XCLIENT ADDR=%s NAME=%s REVERSE_NAME=%s\r\n",
           c->addr, c->name, c->rev);
  if (cmd(k, "%s", line) != 220) return -1;
  return cmd(k, "EHLO %s\r\n", c->helo) == 250 ? 0 : -1;
}

static int reply_class(int code, const char *text)
{
  if (code >= 200 && code < 300) return X_ACCEPT;
  if (code >= 400 && code < 500) return X_GREY;
  if (code >= 500 && strstr(text, " 5.1.1 ")) return X_UNKNOWN;
  if (code >= 500) return X_POLICY;
  return -1;
}

static const char *xname[] = { "accept", "unknown", "greylist", "reject" };

static void mismatch(struct worker *w, const struct client *c,
                     const char *rcpt, int want, int code, const char *text)
{
  w->t[T_MISMATCH]++;
  if (w->fault_mode && code >= 400 && code < 500) w->t[T_TEMPFAIL]++;
  if (code >= 500 && want != X_UNKNOWN && want != X_POLICY)
    w->t[T_WRONG_REJECT]++;
  if (w->verbose || !w->fault_mode)
    fprintf(stderr, "trafgen: %s client=%s helo=%s rcpt=%s want=%s "
            "got=\"%s\"\n", w->fault_mode ? "note" : "mismatch",
            c->addr, c->helo, rcpt, xname[want], text);
}

/* One SMTP session for the client's current message; early: a retry made
 * at once.  Returns 0 when the message needs no more sessions. */
static int session(struct worker *w, unsigned ci, int early)
{
  struct model *m = w->m;
  struct client *c = &m->cl[ci];
  struct msg *g = &c->msg[c->cur];
  struct conn k;
  char to[128], first[128] = "";
  unsigned i, naccepted = 0, pending = 0;
  int code, ok = -1;
  w->t[T_SESSIONS]++;
  w->t[T_KIND0 + 3 * c->kind + 1]++;
  g->tries++;
  if (conn_open(&k) < 0) goto fail;
  if (conn_reply(&k) != 220 || cmd(&k, "EHLO trafgen.example.net\r\n",
                                   NULL) != 250 || xclient(&k, c) < 0)
    goto fail;
  if (cmd(&k, "MAIL FROM:<%s>\r\n", c->sender) != 250) goto fail;
  for (i = 0; i < g->nrcpt; i++) {
    int want, got;
    if (g->state[i]) continue;
    rcpt_text(m, g->rcpt[i], to, sizeof to);
    want = model_rcpt(w, ci, g->rcpt[i], early);
    code = cmd(&k, "RCPT TO:<%s>\r\n", to);
    if (code < 0) goto fail;
    got = reply_class(code, k.last);
    if (got != want) mismatch(w, c, to, want, code, k.last);
    if (got == X_ACCEPT) {
      g->state[i] = 1;
      naccepted++;
      if (!*first) snprintf(first, sizeof first, "%s", to);
    } else if (got != X_GREY) {
      g->state[i] = 2;
    } else {
      pending++;
    }
  }
  if (naccepted) {
    code = send_data(&k, c, g, ci, first);
    if (code != 250) {
      fprintf(stderr, "trafgen: data client=%s got=\"%s\"\n", c->addr,
              code < 0 ? "connection failed" : k.last);
      for (i = 0; i < g->nrcpt; i++) if (g->state[i] == 1) g->state[i] = 0;
      w->t[T_TEMPFAIL]++;
      pending++;
    } else {
      model_message(w, g, naccepted);
      w->t[T_KIND0 + 3 * c->kind + 2]++;
    }
  }
  cmd(&k, "QUIT\r\n", NULL);
  ok = pending ? 1 : 0;
fail:
  if (ok < 0) {
    /* the connection broke: every recipient not yet final is pending;
     * without faults expected, that is a difference from the model */
    w->t[T_TEMPFAIL]++;
    if (!w->fault_mode) w->t[T_MISMATCH]++;
    if (w->verbose || !w->fault_mode)
      fprintf(stderr, "trafgen: session client=%s failed: %s\n", c->addr,
              k.fd < 0 ? "connect" : "connection lost");
    ok = 1;
  }
  if (k.fd >= 0) close(k.fd);
  return ok;
}

/* ---- the schedule: a heap of (time, client) ---- */

struct event { double at; unsigned ci; };
struct heap { struct event *e; size_t n, cap; };

static void heap_push(struct heap *h, struct event ev)
{
  size_t i;
  if (h->n == h->cap) {
    h->cap = h->cap ? h->cap * 2 : 256;
    h->e = realloc(h->e, h->cap * sizeof *h->e);
    if (!h->e) die_sys(EXIT_TEMP, "allocate", "memory");
  }
  i = h->n++;
  while (i && h->e[(i - 1) / 2].at > ev.at) {
    h->e[i] = h->e[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  h->e[i] = ev;
}

static struct event heap_pop(struct heap *h)
{
  struct event top = h->e[0], last = h->e[--h->n];
  size_t i = 0, c;
  while ((c = 2 * i + 1) < h->n) {
    if (c + 1 < h->n && h->e[c + 1].at < h->e[c].at) c++;
    if (last.at <= h->e[c].at) break;
    h->e[i] = h->e[c];
    i = c;
  }
  if (h->n) h->e[i] = last;
  return top;
}

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_until(double at)
{
  double d = at - now();
  if (d > 0) {
    struct timespec ts = { (time_t)d, (long)((d - (time_t)d) * 1e9) };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
  }
}

#define MTA_TRIES 8

/* After a session: what the client does next, as its kind behaves. */
static void next_step(struct worker *w, struct heap *h, unsigned ci,
                      int more)
{
  struct client *c = &w->m->cl[ci];
  struct msg *g = &c->msg[c->cur];
  double retry = now() + w->m->delay + 1.0;
  struct event ev = { 0, ci };
  if (more) {
    int again = 0;
    switch (c->beh) {
    case B_MTA: again = g->tries < MTA_TRIES; break;
    case B_ONCE: again = g->tries < 2; break;
    case B_EARLY: break;      /* its one early retry was inline */
    default: break;
    }
    if (again) {
      ev.at = retry;
      heap_push(h, ev);
      return;
    }
    if (c->kind == K_LEGIT || c->kind == K_SMALL) w->t[T_LOST]++;
  }
  if (++c->cur < c->nmsg) {
    ev.at = now() + 0.2;
    heap_push(h, ev);
  }
}

static void run_worker(struct worker *w, unsigned nw, unsigned wi)
{
  struct heap h = { 0, 0, 0 };
  unsigned ci;
  double t0 = now();
  for (ci = wi; ci < w->m->nclients; ci += nw) {
    struct event ev = { t0, ci };
    heap_push(&h, ev);
    w->t[T_KIND0 + 3 * w->m->cl[ci].kind]++;
  }
  while (h.n) {
    struct event ev = heap_pop(&h);
    int more;
    sleep_until(ev.at);
    more = session(w, ev.ci, 0);
    /* a bot that retries at once does so well within greyd's DELAY */
    if (more && w->m->cl[ev.ci].beh == B_EARLY)
      more = session(w, ev.ci, 1);
    next_step(w, &h, ev.ci, more);
  }
  free(h.e);
}

/* ---- output ---- */

static const char *usage =
  "trafgen: usage: trafgen [-s SEED] [-n CLIENTS] [-L LAYERS] [-d DELAY]\n"
  "         [-W AWL] [-c WORKERS] [-S 127.0.0.1:PORT] [-T TRUTH]\n"
  "         [-A ACCOUNTS] [-Z ZONEDIR] [-f] [-v] [-x]";

static void write_zones(const struct model *m, const char *dir)
{
  char p[4096];
  FILE *f[2];
  unsigned i, z;
  const char *names[2] = { "main", "second" };
  for (z = 0; z < 2; z++) {
    snprintf(p, sizeof p, "%s/%s.ip4set", dir, names[z]);
    if (!(f[z] = fopen(p, "w"))) die_sys(EXIT_TEMP, "create", p);
    fprintf(f[z], "# trafgen -s %llu -n %u: the demo's %s DNSBL zone\n"
            ":127.0.0.2:Listed by the imgate demo (%s), see $\n",
            m->seed, m->nclients, names[z], names[z]);
  }
  for (i = 0; i < m->nclients; i++)
    for (z = 0; z < 2; z++)
      if (m->cl[i].lists & (1u << z)) fprintf(f[z], "%s\n", m->cl[i].addr);
  for (z = 0; z < 2; z++)
    if (fclose(f[z]) != 0) die_sys(EXIT_TEMP, "write", dir);
}

static void write_accounts(const struct model *m, const char *path)
{
  FILE *f = fopen(path, "w");
  unsigned i;
  if (!f) die_sys(EXIT_TEMP, "create", path);
  fprintf(f, "# trafgen -s %llu: the demo's mailbox accounts\n", m->seed);
  for (i = 0; i < m->naccounts; i++)
    fprintf(f, "%s@%s\n", m->accounts[i], DOMAIN);
  if (fclose(f) != 0) die_sys(EXIT_TEMP, "write", path);
}

static void put(FILE *f, const char *layer, const char *name,
                unsigned long long n)
{
  fprintf(f, "%s\t%s\t%llu\n", layer, name, n);
}

static void write_truth(const struct model *m, const unsigned long long *t,
                        FILE *f)
{
  unsigned i;
  fprintf(f, "# trafgen ground truth: seed=%llu clients=%u delay=%u "
          "layers=%s%s%s%s\n", m->seed, m->nclients, m->delay,
          has_layer(m, 'a') ? "a" : "", has_layer(m, 'g') ? "g" : "",
          has_layer(m, 'p') ? "p" : "", has_layer(m, 'c') ? "c" : "");
  for (i = 0; i < K_NKINDS; i++) {
    fprintf(f, "kind\t%s\t%llu clients %llu sessions %llu accepted\n",
            kind_name[i], t[T_KIND0 + 3 * i], t[T_KIND0 + 3 * i + 1],
            t[T_KIND0 + 3 * i + 2]);
  }
  put(f, "smtp", "sessions", t[T_SESSIONS]);
  put(f, "smtp", "rcpts", t[T_RCPTS]);
  put(f, "smtp", "messages", t[T_ACCEPTED_MSGS]);
  if (has_layer(m, 'a')) put(f, "acctd", "unknown", t[T_ACCT_UNKNOWN]);
  if (has_layer(m, 'g')) {
    put(f, "greyd", "Reject new triplet", t[T_GREY_NEW]);
    put(f, "greyd", "Reject early retry", t[T_GREY_EARLY]);
    put(f, "greyd", "Pass retry", t[T_GREY_RETRY]);
    put(f, "greyd", "Pass cached triplet", t[T_GREY_CACHED]);
    put(f, "greyd", "Pass unsuspicious client", t[T_GREY_UNSUSP]);
    put(f, "greyd", "Pass and auto-whitelist IP", t[T_GREY_AWL_ADD]);
    put(f, "greyd", "Pass new triplet from white listed IP", t[T_GREY_AWL]);
  }
  if (has_layer(m, 'p')) {
    for (i = 0; i < NRULES; i++)
      put(f, "policyd", rules[i].name, t[T_POL_RULE0 + i]);
    put(f, "policyd", "-", t[T_POL_DUNNO]);
  }
  if (has_layer(m, 'c')) {
    put(f, "content", "clean", t[T_CONTENT_CLEAN]);
    put(f, "content", "infected", t[T_CONTENT_VIRUS]);
    put(f, "content", "spam", t[T_CONTENT_SPAM]);
  }
  put(f, "delivery", "messages", t[T_DELIVERED_MSGS]);
  put(f, "delivery", "rcpts", t[T_DELIVERED_RCPTS]);
}

static void parse_server(const char *s)
{
  char host[64];
  const char *colon = strrchr(s, ':');
  size_t n;
  unsigned long port;
  if (!colon || (n = (size_t)(colon - s)) >= sizeof host)
    die_msg(EXIT_PERM, "bad server, want 127.0.0.1:PORT:", s);
  memcpy(host, s, n);
  host[n] = 0;
  port = strtoul(colon + 1, NULL, 10);
  memset(&server, 0, sizeof server);
  server.sin_family = AF_INET;
  server.sin_port = htons((unsigned short)port);
  if (!port || port > 65535 || inet_pton(AF_INET, host, &server.sin_addr) != 1)
    die_msg(EXIT_PERM, "bad server, want 127.0.0.1:PORT:", s);
  /* the generator talks to loopback only */
  if ((ntohl(server.sin_addr.s_addr) >> 24) != 127)
    die_msg(EXIT_PERM, "server must be on loopback:", s);
}

static unsigned long long layers_of(const char *s)
{
  unsigned long long x = 0;
  for (; *s; s++) {
    if (*s != 'a' && *s != 'g' && *s != 'p' && *s != 'c')
      die_msg(EXIT_PERM, "layers are letters of agpc:", s);
    x |= 1ULL << (*s - 'a');
  }
  return x;
}

struct opts {
  const char *truth, *accounts, *zones;
  unsigned workers;
  int dry, fault, verbose;
};

static unsigned long num(const char *s, unsigned long max)
{
  char *end;
  unsigned long v = strtoul(s, &end, 10);
  if (!*s || *end || v > max) die_msg(EXIT_PERM, "bad number:", s);
  return v;
}

static void get_opts(int argc, char **argv, struct model *m, struct opts *o)
{
  int ch;
  m->seed = 1; m->nclients = 200; m->delay = 2;
  m->layers = layers_of("agp");
  o->workers = 4;
  parse_server("127.0.0.1:2525");
  while ((ch = getopt(argc, argv, "s:n:L:d:c:S:T:A:Z:W:fvx")) != -1) {
    switch (ch) {
    case 's': m->seed = num(optarg, 1UL << 31); break;
    case 'n': m->nclients = (unsigned)num(optarg, 1000000); break;
    case 'L': m->layers = layers_of(optarg); break;
    case 'd': m->delay = (unsigned)num(optarg, 3600); break;
    case 'W': m->awl = (unsigned)num(optarg, 1000); break;
    case 'c': o->workers = (unsigned)num(optarg, MAXWORKERS); break;
    case 'S': parse_server(optarg); break;
    case 'T': o->truth = optarg; break;
    case 'A': o->accounts = optarg; break;
    case 'Z': o->zones = optarg; break;
    case 'f': o->fault = 1; break;
    case 'v': o->verbose = 1; break;
    case 'x': o->dry = 1; break;
    default: die_msg(EXIT_PERM, usage, NULL);
    }
  }
  if (optind != argc || !o->workers || !m->nclients)
    die_msg(EXIT_PERM, usage, NULL);
}

/* Each worker is a process with its own share of the clients; its
 * counters come back through a temporary file. */
static void run_all(struct model *m, struct opts *o, unsigned long long *t)
{
  FILE *tmp[MAXWORKERS];
  pid_t pid[MAXWORKERS];
  unsigned wi, i;
  for (wi = 0; wi < o->workers; wi++) {
    if (!(tmp[wi] = tmpfile())) die_sys(EXIT_TEMP, "create", "tmpfile");
    fflush(NULL);
    pid[wi] = fork();
    if (pid[wi] < 0) die_sys(EXIT_TEMP, "fork", "worker");
    if (pid[wi] == 0) {
      struct worker w;
      memset(&w, 0, sizeof w);
      w.m = m;
      w.fault_mode = o->fault;
      w.verbose = o->verbose;
      w.trip = calloc((size_t)m->nclients * MAXMSG * MAXRCPT,
                      sizeof *w.trip);
      w.passes = calloc(m->nclients, sizeof *w.passes);
      if (!w.trip || !w.passes) die_sys(EXIT_TEMP, "allocate", "memory");
      run_worker(&w, o->workers, wi);
      if (fwrite(w.t, sizeof w.t, 1, tmp[wi]) != 1 || fflush(tmp[wi]))
        _exit(EXIT_TEMP);
      _exit(0);
    }
  }
  for (wi = 0; wi < o->workers; wi++) {
    unsigned long long part[T_N];
    int st;
    if (waitpid(pid[wi], &st, 0) < 0 || !WIFEXITED(st) ||
        WEXITSTATUS(st) != 0)
      die_msg(EXIT_TEMP, "a worker failed", NULL);
    rewind(tmp[wi]);
    if (fread(part, sizeof part, 1, tmp[wi]) != 1)
      die_msg(EXIT_TEMP, "a worker's counts are missing", NULL);
    for (i = 0; i < T_N; i++) t[i] += part[i];
    fclose(tmp[wi]);
  }
}

static void summary(const struct model *m, const unsigned long long *t,
                    double secs, int fault)
{
  unsigned i;
  printf("%-14s %8s %9s %10s\n", "kind", "clients", "sessions",
         "accepted");
  for (i = 0; i < K_NKINDS; i++)
    if (t[T_KIND0 + 3 * i])
      printf("%-14s %8llu %9llu %10llu\n", kind_name[i], t[T_KIND0 + 3 * i],
             t[T_KIND0 + 3 * i + 1], t[T_KIND0 + 3 * i + 2]);
  printf("trafgen: %llu sessions, %llu RCPTs in %.1f s; %llu replies "
         "differ from the model\n", t[T_SESSIONS], t[T_RCPTS], secs,
         t[T_MISMATCH]);
  if (fault)
    printf("trafgen: faults: temporary=%llu wrongly_rejected=%llu "
           "lost=%llu\n", t[T_TEMPFAIL], t[T_WRONG_REJECT], t[T_LOST]);
  (void)m;
}

int main(int argc, char **argv)
{
  struct model m;
  struct opts o;
  unsigned long long t[T_N];
  unsigned i;
  double t0;
  FILE *f;
  log_init("trafgen");
  memset(&m, 0, sizeof m);
  memset(&o, 0, sizeof o);
  memset(t, 0, sizeof t);
  signal(SIGPIPE, SIG_IGN);
  get_opts(argc, argv, &m, &o);
  make_accounts(&m, 120);
  m.cl = calloc(m.nclients, sizeof *m.cl);
  if (!m.cl) die_sys(EXIT_TEMP, "allocate", "memory");
  for (i = 0; i < m.nclients; i++) make_client(&m, i);
  if (o.accounts) write_accounts(&m, o.accounts);
  if (o.zones) write_zones(&m, o.zones);
  if (o.dry) {
    free(m.cl);
    return 0;
  }
  t0 = now();
  run_all(&m, &o, t);
  summary(&m, t, now() - t0, o.fault);
  free(m.cl);
  if (o.truth) {
    if (!(f = fopen(o.truth, "w"))) die_sys(EXIT_TEMP, "create", o.truth);
    write_truth(&m, t, f);
    if (fclose(f) != 0) die_sys(EXIT_TEMP, "write", o.truth);
  }
  if (o.fault) return t[T_WRONG_REJECT] || t[T_LOST] ? 1 : 0;
  return t[T_MISMATCH] ? 1 : 0;
}
