/*
 * rbld.h - types shared by rbld's loader, datasets and packet code.
 *
 * A dataset is what one "type:file,file" spec loads: its entries (in the
 * type's own compact structure), the values they answer with, and the
 * specials ($SOA, $NS, $TTL, $n) its files set.  A value ("rr") is four
 * bytes of A record followed by a NUL-terminated TXT template; an empty
 * template means "no TXT".  Everything a dataset owns lives in its arena
 * and is freed at once when a reload replaces it.
 */
#ifndef RBLD_H
#define RBLD_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/types.h>
#include <sys/socket.h>

#define DN_MAX 255           /* wire length of a domain name */
#define LAB_MAX 128
#define MAX_NS 32
#define TXT_MAX 254          /* rbldnsd cuts expanded TXT at 254 bytes */
#define SUBST_BASE 10        /* index of $= among the $0..$9 variables */

/* Code for the rare cases of a query, kept out of the common path: a
 * query finds the code it runs cold (the kernel's work between two
 * queries evicts it), so every line of it the common case skips over
 * would cost a fetch. */
#define RARE __attribute__((cold, noinline))
#define APART __attribute__((noinline))

/* The SSE2 paths (every x86-64 has them) of the address and name
 * readers; -DRBLD_NO_SSE2 builds the portable ones that other machines
 * run, which t_rbld_plain tests here. */
#if defined(__SSE2__) && !defined(RBLD_NO_SSE2)
#define RBLD_SSE2 1
#include <emmintrin.h>
#include <string.h>

/* The 16 bytes of b less '0' into dd, which gets 4 zero bytes after
 * them (an octet read at its end stays inside); returns the mask of
 * those that are digits (less '0', at most 9). */
static inline unsigned digits16(__m128i b, uint8_t dd[16 + 4])
{
  const __m128i d = _mm_sub_epi8(b, _mm_set1_epi8('0'));

  _mm_storeu_si128((__m128i *)(void *)dd, d);
  memset(dd + 16, 0, 4);
  return (unsigned)_mm_movemask_epi8(
           _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d));
}
#endif

/* The value of the decimal octet of l digits (1 to 3) at d, each less
 * '0'.  All three values are computed and the one l names taken: the
 * octet lengths of addresses are random, and a branch on them would
 * mispredict one time in two. */
static inline uint32_t octet_value(const uint8_t *d, unsigned l)
{
  uint32_t v[3];

  v[0] = d[0];
  v[1] = v[0] * 10 + d[1];
  v[2] = v[1] * 10 + d[2];
  return v[l - 1];
}

/* ---- memory ---- */
struct arena {
  struct chunk *head;
  char *cur;
  size_t left;
  size_t total;
};
void *arena_alloc(struct arena *a, size_t n);
char *arena_strdup(struct arena *a, const char *s);
void *arena_memdup(struct arena *a, const void *p, size_t n);
void arena_free(struct arena *a);
void *xrealloc(void *p, size_t n);   /* NULL on failure, never dies */
/* malloc, but a big block is 2 MB aligned and asks for huge pages (fewer
 * TLB misses in lookups); free() releases it */
void *big_alloc(size_t n);

/* ---- options that shape loading ---- */
struct opts {
  uint32_t defttl, minttl, maxttl;
  int accept_host_bits;      /* -e */
  int lazy;                  /* -a: no NS in AUTHORITY of answers */
  int nogzip;                /* -C */
};
extern struct opts g_opts;   /* set once by main before the first load */

/* ---- query ---- */
enum {
  QT_A = 1, QT_TXT = 2, QT_NS = 4, QT_SOA = 8, QT_MX = 16, QT_OTHER = 32,
  QT_ANY = 63
};
/* what a dataset query can return besides "found" */
enum { Q_FOUND = 1, Q_IGNORE = 2, Q_REFUSE = 4, Q_EMPTY = 8, Q_ADDPEER = 16 };

struct qinfo {
  const uint8_t *dn;         /* lowercased labels below the zone, then 0 */
  unsigned dnlen;            /* bytes of dn including the final 0 */
  unsigned nlab;
  unsigned tflag;            /* QT_* bits the query asks for */
  int ip4ok, ip6ok;
  uint32_t ip4;
  uint8_t ip6[16];
  int prefetched;            /* the datasets' prefetch steps were run */
  int dnhash_ok;             /* dnhash is dnset's hash of dn */
  uint32_t dnhash;
};
void qinfo_ip(struct qinfo *qi, unsigned flags);

struct dataset;
/* The reply under construction. */
struct answer {
  uint8_t *buf;
  size_t len, lim;           /* bytes used, bytes allowed */
  size_t ans;                /* offset of the answer section */
  unsigned an, ns, ar;
  int tc;                    /* an answer RR did not fit */
  const uint8_t *acl_rr;     /* ACL "always listed" value, if any */
  const struct dataset *acl_ds;
};
void ans_rr(struct answer *a, unsigned type, const void *rd, unsigned rdlen,
            uint32_t ttl);
void ans_a_txt(struct answer *a, unsigned tflag, const uint8_t *rr,
               const char *subst, const struct dataset *ds);
unsigned txt_subst(char *out, const char *tmpl, const char *subst,
                   const struct dataset *ds);

/* ---- datasets ---- */
struct dsctx;
enum { DSTF_IP4REV = 1, DSTF_IP6REV = 2 };

struct dstype {
  const char *name;
  unsigned flags;
  int (*start)(struct dataset *ds, struct dsctx *c);  /* each file */
  int (*line)(struct dataset *ds, char *s, struct dsctx *c);
  int (*finish)(struct dataset *ds, struct dsctx *c);
  int (*query)(const struct dataset *ds, const struct qinfo *qi,
               struct answer *a);
  void (*release)(struct dataset *ds);
  /* optional: reads as many whole lines of the commonest form as it can
   * from [p, end) in one loop, returns the bytes used (0: none; the
   * next line then goes to line()); sets c->fatal when out of memory */
  size_t (*bulk)(struct dataset *ds, struct dsctx *c, const char *p,
                 const char *end);
  /* optional: asks for what query() will read, without waiting for it;
   * step 0 what the query alone tells, step 1 what step 0 fetched
   * points to */
  void (*prefetch)(const struct dataset *ds, struct qinfo *qi, int step);
};
extern const struct dstype dst_ip4set, dst_ip4tset, dst_dnset, dst_ip4trie,
  dst_ip6trie, dst_ip6tset, dst_generic, dst_combined, dst_acl;
const struct dstype *dstype_find(const char *name);

struct soa {
  uint32_t ttl, serial, refresh, retry, expire, minttl;
  uint8_t *odn, *pdn;        /* wire names */
};

/* A file as stat(2) saw it.  The nanoseconds count: a file rewritten in
 * place within one second, to the same size, is still a change. */
struct fstamp { time_t mtime; long nsec; off_t size; ino_t ino; dev_t dev;
                int ok; };
struct stat;
void fstamp_set(struct fstamp *f, const struct stat *st);
int fstamp_same(const struct fstamp *f, const struct stat *st);

struct dataset {
  const struct dstype *type;
  char *spec;                /* "type:file,file" for logs */
  char **file;
  unsigned nfile;
  struct fstamp *st;         /* files as they were when loaded */
  time_t stamp, expires;
  unsigned refs;
  struct arena ar;
  uint32_t ttl;
  struct soa *soa;
  uint8_t *ns[MAX_NS];
  unsigned nns;
  uint32_t nsttl;
  char *subst[11];
  void *d;                   /* the type's own data */
  unsigned long entries;
  struct dataset *parent;    /* for nested datasets of a combined one */
};

struct dsctx {
  struct dataset *ds;
  struct dataset *sub;       /* current nested dataset (combined) */
  const char *fname;
  unsigned long line;
  unsigned warns;
  uint32_t maxrange4;        /* 0: no limit */
  const uint8_t *def_rr;     /* default value for this file */
  uint8_t *last_rr;          /* the last value parse_a_txt made */
  int fatal;
  char *buf;                 /* line buffer of the load */
};
void ds_warn(struct dsctx *c, const char *text);
extern const uint8_t rr_default[5];   /* 127.0.0.2, no TXT */

struct dataset *ds_new(const char *spec);     /* NULL: bad spec */
int ds_load(struct dataset *ds);              /* 1 ok, 0 failed */
int ds_changed(const struct dataset *ds);     /* files differ on disk */
void ds_free(struct dataset *ds);
int ds_query(const struct dataset *ds, const struct qinfo *qi,
             struct answer *a);
int ds_special(struct dataset *ds, char *s, struct dsctx *c);
int ds_run_line(struct dataset *ds, char *s, struct dsctx *c);

/* ---- parsing helpers (util.c) ---- */
#define ISSPACE(c) ((c) == ' ' || (c) == '\t')
#define ISCOMMENT(c) ((c) == '#' || (c) == ';')
char *skipspace(char *s);
int ip4prefix(const char *s, uint32_t *a, const char **end);
int ip4range(const char *s, uint32_t *a, uint32_t *b, const char **end);
int ip4cidr(const char *s, uint32_t *a, const char **end);
int ip4addr(const char *s, uint32_t *a, const char **end);
int ip6cidr(const char *s, uint8_t a[16], const char **end);
int ip6addr_full(const char *s, uint8_t a[16], const char **end);
char *parse_time(char *s, uint32_t *t);
char *parse_ttl(char *s, uint32_t *t, uint32_t def);
char *parse_uint(char *s, uint32_t *n);
char *parse_dn(char *s, uint8_t *dn, unsigned *len);
int dn_from_text(const char *s, size_t n, uint8_t *dn);
void dn_lower(uint8_t *dn);
/* n bytes from s to d with 'A'..'Z' lowercased; a whole wire name can
 * go through it (its length bytes are below 'A') */
void lower_copy(uint8_t *d, const uint8_t *s, size_t n);
unsigned dn_len(const uint8_t *dn);
unsigned dn_labels(const uint8_t *dn);
size_t dn_to_text(const uint8_t *dn, char *out, size_t room);
int parse_a_txt(char *s, const uint8_t *def, struct dsctx *c,
                uint8_t **rr);
char *ip4_text(uint32_t a, char *buf);
char *ip6_text(const uint8_t a[16], char *buf);
int parse_timestamp(char **sp, time_t *t);

/* ---- answers for a whole query (reply.c) ---- */
struct zone;
struct zoneset;
struct peer { const struct sockaddr *sa; socklen_t len; };
/* Builds the reply to query q (qlen bytes) into out (room bytes); tcp
 * selects the 64 KB limit.  Returns the reply length, or 0: no reply.
 * *zi gets the zone index (or -1) for statistics. */
size_t reply(const struct zoneset *zs, const uint8_t *q, size_t qlen,
             uint8_t *out, size_t room, int tcp, const struct peer *p,
             int *zi, int *rcode);

/* The same in three steps, for a batch: reply_prepare reads each query
 * and asks for the first memory its lookups will read, reply_prefetch
 * for the next, and reply_answer answers.  The lookups' cache misses
 * (one or two from main memory each) then overlap across the batch
 * instead of following one another.  q stays where it was throughout. */
struct query {
  uint8_t dn[DN_MAX + 1];    /* the question's name, lowercased */
  uint8_t rel[DN_MAX + 4];   /* its labels below the zone, as a name,
                                then three 0 bytes (see qinfo_ip) */
  uint8_t lab[LAB_MAX];      /* offset of each label in dn */
  unsigned dnlen, nlab;
  unsigned type, cls, qend;
  int parsed, edns, ednsver, formerr;
  unsigned udpsize;
  const struct zone *z;      /* its zone, if it gets that far */
  int zi;
  struct qinfo qi;           /* what the zone's datasets are asked */
};
void reply_prepare(const struct zoneset *zs, const uint8_t *q, size_t qlen,
                   struct query *k);
void reply_prefetch(struct query *k);
size_t reply_answer(const struct zoneset *zs, struct query *k,
                    const uint8_t *q, uint8_t *out, size_t room, int tcp,
                    const struct peer *p, int *zi, int *rcode);

/* ---- zones (zone.c) ---- */
struct zone {
  uint8_t dn[DN_MAX + 1];
  unsigned dnlen, nlab;
  char *name;
  struct dataset **ds;       /* in command-line order */
  unsigned nds;
  struct dataset *acl;
  unsigned flags;
  /* derived when a snapshot is built */
  int loaded;
  const struct soa *soa;
  uint32_t soa_ttl, serial;
  uint8_t *const *ns;
  unsigned nns;
  uint32_t nsttl;
  /* the authority records (SOA; NS), written once per snapshot as a
   * reply carries them, each owner a pointer to offset 12 */
  uint8_t *auth;
  unsigned auth_soa, auth_ns;        /* bytes of each, one after other */
};
struct zoneset {
  struct zone *z;
  unsigned nz;
  struct dataset *gacl;
  time_t now;
};
/* z's authority records for its snapshot (reply.c); 0: out of memory */
int zone_auth_build(struct zone *z);
extern const char *version_text;   /* NULL: refuse version.bind */

/* ---- helpers for the sorted-array types (sort.c) ---- */
struct rrtab {                 /* values by index; index 0 = exclusion */
  const uint8_t **v;
  uint32_t n, a;
  const uint8_t *last;
  uint32_t lasti;
};
uint32_t rrtab_add(struct rrtab *t, const uint8_t *rr);  /* 0: no memory */
void rrtab_free(struct rrtab *t);
struct vec64 { uint64_t *v; size_t n, a; };
int vec64_push(struct vec64 *v, uint64_t x);
int vec64_reserve(struct vec64 *v, size_t more);
void sort64(uint64_t *v, size_t n);
size_t uniq64(uint64_t *v, size_t n);
/* idx[h] = first position whose top 16 bits (of 64) are >= h */
uint32_t *index64(const uint64_t *v, size_t n);
/* first position of key k (top 32 bits) or n */
size_t find64(const uint64_t *v, size_t n, const uint32_t *idx, uint32_t k);

/* A compact sorted table of 32-bit keys, each with a value index.  The
 * top B bits of a key select a slot of idx (B grows with the table, up
 * to 16, so a small table's index stays in cache).  With B = 16 each
 * key is a cell of kv: its low 16 bits and its value side by side;
 * otherwise keys are whole (k32) and values apart (val).  Value indexes
 * take 1, 2 or 4 bytes.  A lookup reads one slot and about one cache
 * line of keys. */
struct ktab {
  uint32_t *idx;             /* (1 << bits) + 1 slots */
  uint32_t *c10;             /* 1025 slots: idx on the top 10 bits only
                                (kv tables) */
  uint32_t *k32;
  void *val;
  uint8_t *kv;               /* cells: low 16 bits of key, value */
  int vw, bits;
  size_t cw;                 /* bytes of a kv cell: 2 + vw */
  size_t n;
  void *mem;                 /* the one block all of the above live in */
};
/* Builds t from v[0..n) (key << 32 | value), which it sorts in place
 * and frees; 0 when out of memory. */
int ktab_build(struct ktab *t, uint64_t *v, size_t n);
/* start loading what a lookup of k reads: its index slot, then (once
 * that slot is in) its keys; several tables' misses then overlap */
void ktab_prefetch(const struct ktab *t, uint32_t k);
void ktab_prefetch_keys(const struct ktab *t, uint32_t k);
/* position of the first entry with key k, or t->n */
size_t ktab_find(const struct ktab *t, uint32_t k);
uint32_t ktab_val(const struct ktab *t, size_t i);
/* whether entry i (at or after the one ktab_find gave) still holds k */
uint32_t ktab_key(const struct ktab *t, size_t i, uint32_t k);
void ktab_free(struct ktab *t);

/* shared by the types that read rbldnsd's entry syntax */
int ip4_entry(struct dsctx *c, char **sp, uint32_t *a, uint32_t *b);
int entry_value(struct dsctx *c, char *s, int excl, const uint8_t **rr);
int default_line(struct dsctx *c, char *s);
int ip6_query_prefix(const uint8_t *ip6, unsigned bits, uint8_t *out);

/* longest-prefix tables (ptab.c) for ip4trie, ip6trie and acl */
struct pent { uint64_t hi, lo; uint32_t seq, v; };
struct ptab {
  struct pent *e[129];
  size_t n[129], a[129];
  uint32_t seq;
};
int ptab_add(struct ptab *t, const uint8_t key[16], int bits, uint32_t v);
unsigned long ptab_finish(struct ptab *t);
const struct pent *ptab_find(const struct ptab *t, const uint8_t key[16],
                             int maxbits);
void ptab_free(struct ptab *t);

/* ip4trie and ip6trie: the same table and entry syntax, their own key
 * parser (ptab.c) */
struct trie { struct ptab t; struct rrtab rr; };
typedef int trie_keyfn(struct dsctx *c, char **sp, uint8_t key[16],
                       int *bits);
int trie_start(struct dataset *ds, struct dsctx *c);
int trie_entry(struct dataset *ds, char *s, struct dsctx *c,
               trie_keyfn *key);
int trie_finish(struct dataset *ds, struct dsctx *c);
void trie_release(struct dataset *ds);

/* type-specific entry points used across files */
struct dataset *ds_reload(const struct dataset *old);
int combined_newset(struct dataset *ds, char *w, struct dsctx *c);
int ip4trie_key(struct dsctx *c, char **sp, uint8_t key[16], int *bits);
int ip6trie_key(struct dsctx *c, char **sp, uint8_t key[16], int *bits);
struct peer;
int acl_check(const struct dataset *acl, const struct peer *p,
              struct answer *a);

#endif
