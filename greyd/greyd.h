/*
 * greyd.h - the parts of greyd that tests and greyd-dump link without
 * main(): the sender normaliser, the client network, the greylisting
 * decision (a pure function of the records and the clock), the static
 * whitelists and the store interface (LMDB or PostgreSQL).
 */
#ifndef GREYD_H
#define GREYD_H

#include <stddef.h>
#include <stdint.h>

#define ADDR_MAX 512     /* one normalised address, with its NUL */
#define NET_MAX 64       /* "2001:db8:1:2::/64" */

/* ---- normalise.c ---- */

/* The stable form of an envelope sender: lower case; BATV and SRS
 * unwrapped; the extension after a delimiter character removed; every
 * token of the local part that holds a digit (VERP and per-message ids)
 * replaced by '#'; the null sender is "<>".  A form of room bytes or
 * more is cut and completed by \001 and the 64-bit hash of the whole in
 * hex (room - 1 bytes in all).  Returns the length, or 0 if room is
 * under 64 (or memory ran out). */
size_t normalise_sender(const char *sender, const char *delimiters,
                        char *out, size_t room);
/* The same form with the digits of the local part left as they are:
 * what a whitelist entry names (an entry cannot hold '#'). */
size_t unwrap_sender(const char *sender, const char *delimiters,
                     char *out, size_t room);
/* The recipient as the triplet keeps it: lower case, cut and hashed
 * like a long sender. */
size_t normalise_recipient(const char *rcpt, char *out, size_t room);
/* "203.0.113.0/24", "2001:db8:1:2::/64"; -1 if addr is not an address. */
int client_net(const char *addr, unsigned v4bits, unsigned v6bits,
               char *out, size_t room);

/* ---- decide.c ---- */

struct trec {            /* one triplet */
  uint32_t first, last;  /* first seen (of this try), last passed or seen */
  uint32_t passes;       /* deliveries passed; 0 while greylisted */
  int found;
};

struct crec {            /* one client address (auto-whitelist) */
  uint32_t count;        /* passed deliveries, at most one per interval */
  uint32_t last_count;   /* when count last grew */
  uint32_t last_seen;
  int found;
};

struct timing {
  uint32_t delay, retry_window, max_age;
  uint32_t awl_clients, awl_max_age, awl_interval;
};

enum reason {
  R_NEW, R_EARLY, R_RETRY, R_CACHED, R_AWL_ADD, R_AWL,
  R_UNSUSPICIOUS, R_WL_CLIENT, R_WL_RECIPIENT, R_WL_SENDER, R_STORE,
  R_COUNT
};

/* Which records to write back after a decision. */
enum { W_TRIPLET = 1, W_CLIENT = 2 };

/* Decide on one triplet whose records t and c were read from the store;
 * updates them and returns the reason; *age is the triplet's age in
 * seconds (for the log and the retry text); *write says what changed. */
enum reason decide(uint32_t now, const struct timing *tm, struct trec *t,
                   struct crec *c, uint32_t *age, unsigned *write);
const char *reason_text(enum reason r);
int reason_defers(enum reason r);
/* Expired?  (The store's expiry walks use these.) */
int trec_stale(uint32_t now, const struct timing *tm, const struct trec *t);
int crec_stale(uint32_t now, const struct timing *tm, const struct crec *c);

/* ---- wlist.c ---- */

struct wlist;
struct wlist *wlist_new(void);
void wlist_free(struct wlist *w);
/* Files (any may be NULL): client addresses, networks and name
 * suffixes; recipients; sender addresses and domains.  Returns 0, or -1
 * with a message in why (room bytes). */
int wlist_load(struct wlist *w, const char *clients, const char *rcpts,
               const char *senders, char *why, size_t room);
int wlist_client(const struct wlist *w, const char *addr, const char *name);
int wlist_recipient(const struct wlist *w, const char *rcpt);
/* The sender as sent, or unwrapped (unwrap_sender, extension cut at
 * one of delimiters), is whitelisted. */
int wlist_sender(const struct wlist *w, const char *sender,
                 const char *delimiters);

/* ---- store.c, store_lmdb.c, store_pg.c ---- */

/* One request's part in a batch: keys in, records out and back. */
struct item {
  const char *net, *sender, *rcpt, *addr;
  struct trec t;
  struct crec c;
  unsigned write;        /* W_TRIPLET | W_CLIENT after decide() */
};

struct store;
struct store_iter {      /* what greyd-dump lists */
  void (*triplet)(void *arg, const char *net, const char *sender,
                  const char *rcpt, const struct trec *t);
  void (*client)(void *arg, const char *addr, const struct crec *c);
  void *arg;
};

/* NULL if spec names a store; else why not.  A relative directory is
 * refused: it would name another place under another working
 * directory, and a service's is seldom writable. */
const char *store_spec_bad(const char *spec);
/* How a store is opened (LMDB; PostgreSQL ignores them): greyd and an
 * import make the store when it is missing; a listing or an expiry
 * must find one (a mistyped path must not leave an empty store behind),
 * and a listing only reads. */
enum { STORE_EXISTING = 1, STORE_RDONLY = 2 };

/* spec: a directory (LMDB) or a postgresql:// URI.  timeout: seconds a
 * PostgreSQL round trip may take; lmdb_sync: seconds between syncs to
 * disk (0: every commit); mode: 0 or STORE_ flags.  NULL with why set
 * on failure. */
struct store *store_open(const char *spec, unsigned timeout,
                         size_t lmdb_mib, unsigned lmdb_sync,
                         unsigned mode, char *why, size_t room);
void store_close(struct store *s);
const char *store_kind(const struct store *s);   /* "lmdb" or "pg" */
/* Read the records of n items (not found: found = 0). */
int store_fetch(struct store *s, struct item *it, size_t n);
/* Write what each item's write flags say, atomically, then commit. */
int store_commit(struct store *s, const struct item *it, size_t n);
/* Give up a fetched batch without writing. */
void store_abort(struct store *s);
/* Remove up to budget stale records; returns how many were removed,
 * or -1.  Called once a second; resumes where it stopped. */
long store_expire(struct store *s, uint32_t now, const struct timing *tm,
                  unsigned budget);
/* Flush to disk (LMDB without per-commit sync). */
int store_sync(struct store *s);
int store_walk(struct store *s, const struct store_iter *it);
/* The last error, for the log. */
const char *store_error(const struct store *s);

/* backends */
struct store_backend {
  const char *kind;
  void (*close)(void *b);
  int (*fetch)(void *b, struct item *it, size_t n);
  int (*commit)(void *b, const struct item *it, size_t n);
  void (*abort)(void *b);
  long (*expire)(void *b, uint32_t now, const struct timing *tm,
                 unsigned budget);
  int (*sync)(void *b);
  int (*walk)(void *b, const struct store_iter *it);
  const char *(*error)(const void *b);
};
void *lmdb_open(const char *dir, size_t mib, unsigned interval,
                unsigned mode, char *why, size_t room);
void *pg_open(const char *uri, unsigned timeout, char *why, size_t room);
extern const struct store_backend lmdb_backend, pg_backend;

#endif
