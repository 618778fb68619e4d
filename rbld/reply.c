/* reply.c - one DNS query in, one reply out.  Pure: no I/O, no
 * allocation, no state but the zone snapshot it reads, so the fuzzer and
 * the unit tests drive it directly.  The answers follow rbldnsd's
 * (section 1.5 of the notes); where rbld is better on purpose (TC bit
 * and TCP, OPT in replies to EDNS queries) the comments say so. */
#include <stdlib.h>
#include <string.h>
#include "rbld.h"

enum { T_A = 1, T_NS = 2, T_SOA = 6, T_MX = 15, T_TXT = 16, T_OPT = 41,
       T_ANY = 255, C_IN = 1, C_CH = 3, C_ANY = 255 };
enum { R_OK = 0, R_FORMERR = 1, R_SERVFAIL = 2, R_NXDOMAIN = 3,
       R_NOTIMP = 4, R_REFUSED = 5 };
#define F1_QR 0x80
#define F1_AA 0x04
#define F1_TC 0x02
#define F1_BAD 0x7e                      /* opcode, AA, TC */
#define F1_OPCODE 0x78
#define F1_RD 0x01
#define EDNS_OUR_SIZE 1232
#define UDP_MAX 4096

const char *version_text = "rbld";

static void put16(uint8_t *p, unsigned v) { p[0] = (uint8_t)(v >> 8);
                                            p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static unsigned get16(const uint8_t *p) { return (unsigned)p[0] << 8 | p[1]; }
static uint32_t get32(const uint8_t *p)
{
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
         (uint32_t)p[2] << 8 | p[3];
}

/* rbldnsd's rule: an RR equal to one already in the answer is dropped,
 * and all RRs of one type share the smallest TTL.  Returns the TTL to
 * use, 0 to drop. */
static uint32_t ttl_merge(struct answer *a, unsigned type, const void *rd,
                          unsigned rdlen, uint32_t ttl)
{
  uint8_t *p = a->buf + a->ans, *e = a->buf + a->len;
  uint8_t *first = NULL;
  int same = 0;

  for (; p < e; p += 12 + get16(p + 10)) {
    if (get16(p + 2) != type) continue;
    if (get16(p + 10) == rdlen && !memcmp(p + 12, rd, rdlen)) same = 1;
    if (!first) first = p;
  }
  if (!first) return ttl;
  if (ttl >= get32(first + 6)) return same ? 0 : get32(first + 6);
  for (p = first; p < e; p += 12 + get16(p + 10))
    if (get16(p + 2) == type) put32(p + 6, ttl);
  return same ? 0 : ttl;
}

/* An answer-section RR owned by the query name (pointer to offset 12). */
void ans_rr(struct answer *a, unsigned type, const void *rd, unsigned rdlen,
            uint32_t ttl)
{
  uint8_t *c;

  if (a->ns || a->ar) return;        /* answers come first, always */
  ttl = ttl_merge(a, type, rd, rdlen, ttl);
  if (!ttl) return;
  if (a->len + 12 + rdlen > a->lim || a->an >= 255) {
    a->tc = 1;             /* rbldnsd drops it silently; we say so */
    return;
  }
  c = a->buf + a->len;
  c[0] = 0xc0; c[1] = 12;
  put16(c + 2, type); put16(c + 4, C_IN); put32(c + 6, ttl);
  put16(c + 8 + 2, rdlen);
  memcpy(c + 12, rd, rdlen);
  a->len += 12 + rdlen;
  a->an++;
}

static const char *subst_var(const struct dataset *ds, int n)
{
  for (; ds; ds = ds->parent)
    if (ds->subst[n]) return ds->subst[n];
  return NULL;
}

/* rbldnsd's TXT template expansion: $ = the listed item, $n = variable
 * n, $$ = "$", and a base template $= that wraps every entry's text.
 * The text between two '$', and each value put in, goes in one copy (a
 * byte at a time cost more than the calls). */
unsigned txt_subst(char *out, const char *txt, const char *s0,
                   const struct dataset *ds)
{
  char *const e = out + TXT_MAX;
  char *lp = out, ch;
  const char *si, *sx, *srec = s0 ? s0 : "", *base;

  base = subst_var(ds, SUBST_BASE);
  if (txt[0] == '=') sx = ++txt;
  else if (base && *base) {
    sx = *txt ? txt : srec;
    txt = base;
  } else sx = txt;
  while (lp < e) {
    const char *d = strchrnul(txt, '$');      /* the plain text: whole */
    size_t n = (size_t)(d - txt);
    if (n > (size_t)(e - lp)) n = (size_t)(e - lp);
    memcpy(lp, txt, n);
    lp += n;
    if (!*d || lp >= e) break;
    txt = d + 1;
    ch = *txt;
    if (ch == '$') { *lp++ = '$'; txt++; continue; }
    if (ch >= '0' && ch <= '9') {
      txt++;
      if (!(si = subst_var(ds, ch - '0'))) {     /* unset: "$n" stays */
        *lp++ = '$';
        if (lp < e) *lp++ = ch;
        continue;
      }
    } else if (ch == '=') { si = sx; txt++; }
    else si = srec;
    n = strlen(si);
    if (n > (size_t)(e - lp)) n = (size_t)(e - lp);
    memcpy(lp, si, n);
    lp += n;
  }
  return (unsigned)(lp - out);
}

void ans_a_txt(struct answer *a, unsigned tflag, const uint8_t *rr,
               const char *subst, const struct dataset *ds)
{
  char sb[TXT_MAX + 2];
  unsigned sl;

  if (tflag & QT_A) ans_rr(a, T_A, rr, 4, ds->ttl);
  if (tflag & QT_TXT) {
    sl = txt_subst(sb + 1, (const char *)rr + 4, subst, ds);
    if (sl) { sb[0] = (char)sl; ans_rr(a, T_TXT, sb, sl + 1, ds->ttl); }
  }
}

static int digit(int c) { return c >= '0' && c <= '9'; }

/* 32 nibble labels; an IPv4 address mapped into IPv6 (or 6to4) also
 * gives its IPv4 form to the types that take those */
static APART void qinfo_ip6(struct qinfo *qi, unsigned flags)
{
  const uint8_t *q = qi->dn;
  int i;

  for (i = 31; i >= 0; i--, q += 2) {
    int c = q[1], v;
    if (q[0] != 1) return;
    v = digit(c) ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    if (v < 0) return;
    if (i & 1) qi->ip6[i / 2] = (uint8_t)((qi->ip6[i / 2] & 0xf0) | v);
    else qi->ip6[i / 2] = (uint8_t)((qi->ip6[i / 2] & 0x0f) | v << 4);
  }
  qi->ip6ok = 1;
  if (!(flags & DSTF_IP4REV)) return;
  if (qi->ip6[0] == 0x20 && qi->ip6[1] == 0x02) {          /* 6to4 */
    qi->ip4 = get32(qi->ip6 + 2);
    qi->ip4ok = 1;
  } else if (!memcmp(qi->ip6, "\0\0\0\0\0\0\0\0\0\0\377\377", 12)) {
    qi->ip4 = get32(qi->ip6 + 12);
    qi->ip4ok = 1;
    qi->ip6ok = 0;
  }
}

#ifdef RBLD_SSE2
/* 4 decimal labels in the 16 bytes at q (a name at most 17 bytes
 * long): one vector compare finds the digits, the label lengths say
 * where the octets are, each is picked, not branched to.  1 and the
 * address in *ip, or 0. */
static int ip4_labels(const uint8_t *q, uint32_t *ip)
{
  uint8_t dd[16 + 4];
  unsigned dig = digits16(_mm_loadu_si128((const __m128i *)(const void *)q),
                          dd);
  unsigned l0 = q[0], p1 = l0 + 1, l1 = q[p1], p2 = p1 + l1 + 1,
           l2 = q[p2], p3 = p2 + l2 + 1, l3 = q[p3], end = p3 + l3 + 1;
  unsigned want = ((1u << end) - 1) & ~(1u | 1u << p1 | 1u << p2 | 1u << p3);
  uint32_t o0, o1, o2, o3;

  if ((l0 - 1 > 2) | (l1 - 1 > 2) | (l2 - 1 > 2) | (l3 - 1 > 2) ||
      (dig & want) != want) return 0;
  o0 = octet_value(dd + 1, l0);
  o1 = octet_value(dd + p1 + 1, l1);
  o2 = octet_value(dd + p2 + 1, l2);
  o3 = octet_value(dd + p3 + 1, l3);
  if ((o0 | o1 | o2 | o3) > 255) return 0;
  *ip = o3 << 24 | o2 << 16 | o1 << 8 | o0;
  return 1;
}
#endif

/* 4 decimal labels (reversed) or 32 nibble labels.  qi->dn must have
 * 16 readable bytes from its start (what lies past the name does not
 * change the result; set_qinfo zeroes it, for memory checkers) and a
 * readable byte after its final 0. */
void qinfo_ip(struct qinfo *qi, unsigned flags)
{
  const uint8_t *q = qi->dn;
#ifndef RBLD_SSE2
  uint32_t ip = 0, o;
  unsigned bad = 0;
  int i;
#endif

  qi->ip4ok = qi->ip6ok = 0;
#ifdef RBLD_SSE2
  if (qi->nlab == 4) {
    qi->ip4ok = qi->dnlen <= 17 && ip4_labels(q, &qi->ip4);
    return;
  }
#else
  if (qi->nlab == 4) {
    /* each label's three possible values computed and the one its
     * length says taken, bad digits gathered in one flag: a random
     * address's label lengths would defeat a branch predictor.  The 3
     * bytes read after a label's length are the labels after it, or
     * for the last one its final 0 and at most one byte past it. */
#pragma GCC unroll 4
    for (i = 0; i < 4; i++, q += *q + 1) {
      unsigned l = *q, d0 = q[1] - 48u, d1 = q[2] - 48u, d2 = q[3] - 48u;
      uint32_t v[4];
      v[0] = d0;
      v[1] = d0 * 10 + d1;
      v[2] = v[1] * 10 + d2;
      v[3] = 0;
      o = v[(l - 1) & 3];
      bad |= (l - 1 > 2) | (d0 > 9) | ((l > 1) & (d1 > 9)) |
             ((l > 2) & (d2 > 9)) | (o > 255);
      ip |= o << (8 * i);
    }
    if (bad) return;
    qi->ip4 = ip;
    qi->ip4ok = 1;
    return;
  }
#endif
  if (qi->nlab == 32 && qi->dnlen == 65) qinfo_ip6(qi, flags);
}

/* Skips one name in a packet; 0 when malformed. */
static size_t skip_name(const uint8_t *q, size_t len, size_t p)
{
  while (p < len) {
    unsigned l = q[p];
    if (l == 0) return p + 1;
    if ((l & 0xc0) == 0xc0) return p + 2 <= len ? p + 2 : 0;
    if (l > 63) return 0;
    p += l + 1;
  }
  return 0;
}

/* Looks for an OPT RR among the RRs after the question.  RFC 6891:
   two OPT RRs are a FORMERR; so is an RR cut off or running past the
   packet (its OPT, if any, cannot be trusted: the FORMERR goes
   without one). */
static APART void parse_edns(const uint8_t *q, size_t len,
                             struct query *k)
{
  unsigned n = get16(q + 6) + get16(q + 8) + get16(q + 10), i;
  size_t p = k->qend;

  for (i = 0; i < n && i < 64; i++) {
    size_t np = skip_name(q, len, p);
    if (!np || np + 10 > len) { k->formerr = 1; break; }
    if (get16(q + np) == T_OPT && q[p] == 0) {
      if (k->edns) { k->formerr = 1; break; }
      k->edns = 1;
      k->udpsize = get16(q + np + 2);
      k->ednsver = q[np + 5];
    }
    p = np + 10 + get16(q + np + 8);
    if (p > len) { k->formerr = 1; break; }
  }
  if (k->formerr) k->edns = 0;
}

/* The labels are walked by their lengths first, then the whole name is
 * copied lowercased in one go (most of a name is letters and digits,
 * and a byte at a time was the costliest part of a reply). */
static int parse_query(const uint8_t *q, size_t len, struct query *k)
{
  size_t x, p = 12;

  if (len < 17) return 0;
  x = len - 5;                           /* last place for the root */
  if (x > 12 + DN_MAX - 1) x = 12 + DN_MAX - 1;
  if (q[2] & F1_QR) return 0;
  if (q[4] || q[5] != 1) return 0;
  k->nlab = 0;
  while (q[p]) {
    unsigned l = q[p];
    if (l > 63 || p + l + 1 > x) return 0;
    k->lab[k->nlab++] = (uint8_t)(p - 12);
    p += l + 1;
  }
  lower_copy(k->dn, q + 12, p - 12);
  k->dn[p - 12] = 0;
  k->dnlen = (unsigned)(p - 12 + 1);
  k->type = get16(q + p + 1);
  k->cls = get16(q + p + 3);
  k->qend = (unsigned)(p + 5);
  k->edns = k->formerr = 0;
  if (q[6] | q[7] | q[8] | q[9] | q[10] | q[11]) parse_edns(q, len, k);
  return 1;
}

static const struct zone *find_zone(const struct zoneset *zs,
                                    const struct query *k, int *zi)
{
  const struct zone *best = NULL;
  unsigned i;

  for (i = 0; i < zs->nz; i++) {
    const struct zone *z = &zs->z[i];
    if (z->nlab > k->nlab || (best && z->nlab <= best->nlab)) continue;
    if (memcmp(k->dn + k->lab[k->nlab - z->nlab], z->dn, z->dnlen))
      continue;
    best = z;
    *zi = (int)i;
  }
  return best;
}

/* A name written out in full (no compression in RDATA). */
static int put_dn(struct answer *a, const uint8_t *dn)
{
  unsigned l = dn_len(dn);

  if (a->len + l > a->lim) return 0;
  memcpy(a->buf + a->len, dn, l);
  a->len += l;
  return 1;
}

/* Zone-owned RR header: owner is a pointer into the question. */
static int put_zone_rr(struct answer *a, unsigned zoff, unsigned type,
                       uint32_t ttl)
{
  uint8_t *c;

  if (a->len + 12 > a->lim) return 0;
  c = a->buf + a->len;
  if (zoff < 12 + DN_MAX) { c[0] = (uint8_t)(0xc0 | zoff >> 8);
                            c[1] = (uint8_t)zoff; }
  put16(c + 2, type); put16(c + 4, C_IN); put32(c + 6, ttl);
  a->len += 12;
  return 1;
}

static int add_soa(struct answer *a, const struct zone *z, unsigned zoff,
                   int auth)
{
  size_t save = a->len, rd;
  const struct soa *s = z->soa;
  uint8_t *c;

  if (!s) return 0;
  if (!put_zone_rr(a, zoff, T_SOA, auth ? s->minttl : z->soa_ttl)) goto no;
  rd = a->len;
  if (!put_dn(a, s->odn) || !put_dn(a, s->pdn) || a->len + 20 > a->lim)
    goto no;
  c = a->buf + a->len;
  put32(c, z->serial); put32(c + 4, s->refresh); put32(c + 8, s->retry);
  put32(c + 12, s->expire); put32(c + 16, s->minttl);
  a->len += 20;
  put16(a->buf + rd - 2, (unsigned)(a->len - rd));
  if (auth) a->ns++; else a->an++;
  return 1;
no:
  a->len = save;
  return 0;
}

static int add_ns(struct answer *a, const struct zone *z, unsigned zoff,
                  int auth)
{
  size_t save = a->len, rd;
  unsigned i;

  if (!z->nns) return 0;
  for (i = 0; i < z->nns; i++) {
    if (!put_zone_rr(a, zoff, T_NS, z->nsttl)) goto no;
    rd = a->len;
    if (!put_dn(a, z->ns[i])) goto no;
    put16(a->buf + rd - 2, (unsigned)(a->len - rd));
  }
  if (auth) a->ns += z->nns; else a->an += z->nns;
  return 1;
no:
  a->len = save;
  return 0;
}

/* The zone's authority records, once for its snapshot: what add_soa
 * and add_ns would write, owned by a pointer to offset 12 that each
 * reply moves to where its question has the zone's name.  0 when out
 * of memory. */
int zone_auth_build(struct zone *z)
{
  struct answer a;
  size_t room = 0;
  unsigned i;

  z->auth = NULL;
  z->auth_soa = z->auth_ns = 0;
  if (z->soa) room += 12 + dn_len(z->soa->odn) + dn_len(z->soa->pdn) + 20;
  for (i = 0; i < z->nns; i++) room += 12 + dn_len(z->ns[i]);
  if (!room) return 1;
  memset(&a, 0, sizeof a);
  if (!(a.buf = malloc(room))) return 0;
  a.lim = room;
  add_soa(&a, z, 12, 1);
  z->auth_soa = (unsigned)a.len;
  add_ns(&a, z, 12, 1);
  z->auth_ns = (unsigned)a.len - z->auth_soa;
  z->auth = a.buf;
  return 1;
}

/* n records of the zone's authority (len bytes at off) into the reply,
 * all or none, as add_soa and add_ns do; their owners point at zoff */
static void put_auth(struct answer *a, const struct zone *z, unsigned off,
                     unsigned len, unsigned n, unsigned zoff)
{
  uint8_t *c = a->buf + a->len, *e = c + len;

  if (!len || a->len + len > a->lim) return;
  memcpy(c, z->auth + off, len);
  for (; c < e; c += 12 + get16(c + 10)) {
    c[0] = (uint8_t)(0xc0 | zoff >> 8);
    c[1] = (uint8_t)zoff;
  }
  a->len += len;
  a->ns += n;
}

static RARE int version_req(const struct query *k, struct answer *a)
{
  uint8_t rd[64];
  size_t l;
  uint8_t *c;

  if (!version_text || k->type != T_TXT || k->cls != C_CH) return 0;
  if (strcmp((const char *)k->dn, "\7version\4bind") &&
      strcmp((const char *)k->dn, "\7version\6server")) return 0;
  l = strlen(version_text);
  if (l > 60) l = 60;
  rd[0] = (uint8_t)l;
  memcpy(rd + 1, version_text, l);
  if (a->len + 12 + l + 1 > a->lim) return 0;
  c = a->buf + a->len;
  c[0] = 0xc0; c[1] = 12;
  put16(c + 2, T_TXT); put16(c + 4, C_CH); put32(c + 6, 0);
  put16(c + 10, (unsigned)l + 1);
  memcpy(c + 12, rd, l + 1);
  a->len += 12 + l + 1;
  a->an++;
  return 1;
}

static unsigned type_flag(unsigned t)
{
  switch (t) {
  case T_ANY: return QT_ANY;
  case T_A: return QT_A;
  case T_TXT: return QT_TXT;
  case T_NS: return QT_NS;
  case T_SOA: return QT_SOA;
  case T_MX: return QT_MX;
  default: return t >= 250 ? 0 : QT_OTHER;
  }
}


/* A dataset under an ACL's "empty" or "always listed": returns Q_*
 * flags. */
static RARE int ask_over(const struct dataset *ds, const struct qinfo *qi,
                         struct answer *a)
{
  int wants;

  if (ds->type == &dst_generic) {
    /* as rbldnsd does (its man page says otherwise): the name exists,
     * but the ACL hides its records */
    struct qinfo q0 = *qi;
    q0.tflag = 0;
    return ds_query(ds, &q0, a);
  }
  if (ds->type == &dst_combined) return ds_query(ds, qi, a);
  wants = (ds->type->flags & DSTF_IP4REV) ? qi->ip4ok :
          (ds->type->flags & DSTF_IP6REV) ? qi->ip6ok : qi->nlab > 0;
  return wants && a->acl_rr ? Q_ADDPEER | Q_FOUND : 0;
}

/* The datasets' part: returns Q_* flags. */
static int ask_datasets(const struct zone *z, const struct qinfo *qi,
                        struct answer *a, int over)
{
  int found = 0;
  unsigned i;

  for (i = 0; i < z->nds; i++)
    found |= over ? ask_over(z->ds[i], qi, a) : ds_query(z->ds[i], qi, a);
  return found;
}

static RARE void add_peer_answer(struct answer *a,
                                 const struct qinfo *qi,
                                 const struct peer *p)
{
  char ip[64] = "";

  if (p && p->sa && p->sa->sa_family == AF_INET) {
    const uint8_t *b = (const uint8_t *)p->sa + 4;
    ip4_text(get32(b), ip);
  } else if (p && p->sa && p->sa->sa_family == AF_INET6) {
    ip6_text((const uint8_t *)p->sa + 8, ip);
  }
  ans_a_txt(a, qi->tflag, a->acl_rr, ip, a->acl_ds);
}

/* SOA and NS of the zone itself; 0: asked for but not there */
static RARE int apex(struct answer *a, const struct zone *z, unsigned zoff,
                     unsigned tflag)
{
  if (((tflag & QT_SOA) && !add_soa(a, z, zoff, 0)) ||
      ((tflag & QT_NS) && !add_ns(a, z, zoff, 0))) {
    a->len = a->ans; a->an = 0;
    return 0;
  }
  return 1;
}

struct ctx {
  const struct zoneset *zs;
  const struct query *k;
  struct answer *a;
  const struct peer *p;
};

/* Everything after the zone is known.  Returns the rcode. */
static int answer_zone(struct ctx *x, const struct zone *z)
{
  const struct query *k = x->k;
  struct answer *a = x->a;
  const struct qinfo *qi = &k->qi;
  unsigned zoff = 12 + k->lab[k->nlab - z->nlab];
  int found = 0, acl = 0;

  if (x->zs->gacl) acl |= acl_check(x->zs->gacl, x->p, a);
  if (z->acl) acl |= acl_check(z->acl, x->p, a);
  if (acl & Q_IGNORE) return -1;
  if (!z->loaded) return R_SERVFAIL;
  if (acl & Q_REFUSE) return R_REFUSED;
  if (qi->nlab == 0) {
    if (!apex(a, z, zoff, qi->tflag)) return R_REFUSED;
    found = Q_FOUND;
  }
  found |= ask_datasets(z, qi, a, acl & (Q_EMPTY | Q_ADDPEER));
  if (found & Q_ADDPEER) add_peer_answer(a, qi, x->p);
  if (!(found & Q_FOUND)) {
    put_auth(a, z, 0, z->auth_soa, 1, zoff);
    return R_NXDOMAIN;
  }
  if (!a->an) put_auth(a, z, 0, z->auth_soa, 1, zoff);
  else if (!g_opts.lazy)
    put_auth(a, z, z->auth_soa, z->auth_ns, z->nns, zoff);
  return R_OK;
}

static size_t finish(struct answer *a, const struct query *k, int rcode,
                     int aa)
{
  uint8_t *h = a->buf;

  h[3] = (uint8_t)(rcode & 15);
  if (!aa) h[2] &= (uint8_t)~F1_AA;
  if (a->tc) h[2] |= F1_TC;
  if (k->edns) {             /* RFC 6891: an OPT answers an OPT */
    uint8_t *c = h + a->len;
    c[0] = 0;
    put16(c + 1, T_OPT);
    put16(c + 3, EDNS_OUR_SIZE);
    c[5] = (uint8_t)(rcode >> 4); c[6] = 0; c[7] = 0; c[8] = 0;
    put16(c + 9, 0);
    a->len += 11;
    a->ar++;
  }
  put16(h + 6, a->an); put16(h + 8, a->ns); put16(h + 10, a->ar);
  return a->len;
}

/* What the zone's datasets are asked: the labels below the zone, as
 * their own name, and the address they spell, if any. */
static void set_qinfo(struct query *k, const struct zone *z)
{
  struct qinfo *qi = &k->qi;

  memset(qi, 0, sizeof *qi);
  qi->nlab = k->nlab - z->nlab;
  qi->dnlen = (qi->nlab ? k->lab[qi->nlab] : 0) + 1u;
  qi->tflag = type_flag(k->type);
  if (qi->dnlen <= 32) {                         /* one size: inlined */
    memcpy(k->rel, k->dn, 32);
    memset(k->rel + qi->dnlen - 1, 0, 16);
  } else {
    memcpy(k->rel, k->dn, qi->dnlen - 1);
    memset(k->rel + qi->dnlen - 1, 0, 4);
  }
  qi->dn = k->rel;
  if (z->flags & (DSTF_IP4REV | DSTF_IP6REV)) qinfo_ip(qi, z->flags);
}

static void prefetch_step(struct query *k, int step)
{
  const struct zone *z = k->z;
  unsigned i;

  if (!z || !z->loaded) return;
  for (i = 0; i < z->nds; i++)
    if (z->ds[i]->type->prefetch)
      z->ds[i]->type->prefetch(z->ds[i], &k->qi, step);
}

/* The zone is looked for only where reply_answer will want it: past
 * the checks that answer without one, in the same order. */
void reply_prepare(const struct zoneset *zs, const uint8_t *q, size_t qlen,
                   struct query *k)
{
  k->z = NULL;
  k->zi = -1;
  k->parsed = parse_query(q, qlen, k);
  if (!k->parsed || (q[2] & F1_BAD) || k->formerr ||
      (k->edns && k->ednsver) || (k->cls != C_IN && k->cls != C_ANY) ||
      !type_flag(k->type)) return;
  if (!(k->z = find_zone(zs, k, &k->zi))) return;
  set_qinfo(k, k->z);
  prefetch_step(k, 0);
}

void reply_prefetch(struct query *k)
{
  prefetch_step(k, 1);
  k->qi.prefetched = 1;
}

size_t reply_answer(const struct zoneset *zs, struct query *k,
                    const uint8_t *q, uint8_t *out, size_t room, int tcp,
                    const struct peer *p, int *zi, int *rcode)
{
  struct answer a;
  struct ctx x;
  int rc, aa;

  *zi = -1;
  *rcode = -1;
  if (!k->parsed || room < k->qend + 11 || room < 512) return 0;
  memset(&a, 0, sizeof a);
  a.buf = out;
  memcpy(out, q, k->qend);
  a.len = a.ans = k->qend;
  if (tcp) a.lim = room < 65535 ? room : 65535;
  else if (k->edns) {
    a.lim = k->udpsize < 512 ? 512 : k->udpsize;
    if (a.lim > UDP_MAX) a.lim = UDP_MAX;
    if (a.lim > room) a.lim = room;
  } else a.lim = 512;
  if (k->edns) a.lim -= 11;
  out[2] = (uint8_t)((q[2] & ~F1_TC) | F1_QR);
  out[3] = 0;
  if (q[2] & F1_BAD) {
    /* RFC 1035 4.1.1: the opcode is copied into the response; a client
     * (dig, a NOTIFY sender) drops a reply whose opcode differs.
     * rbldnsd clears it. */
    out[2] = (uint8_t)(F1_QR | (q[2] & (F1_OPCODE | F1_RD)));
    rc = R_NOTIMP; aa = 0;
  } else if (k->formerr) {
    rc = R_FORMERR; aa = 0;
  } else if (k->edns && k->ednsver) {
    rc = 16; aa = 0;                         /* BADVERS */
  } else if (k->cls != C_IN && k->cls != C_ANY) {
    rc = version_req(k, &a) ? R_OK : R_REFUSED; aa = 0;
  } else if (!type_flag(k->type)) {
    rc = R_NOTIMP; aa = 0;
  } else if (!k->z) {
    rc = R_REFUSED; aa = 0;
  } else {
    *zi = k->zi;
    x.zs = zs; x.k = k; x.a = &a; x.p = p;
    out[2] |= F1_AA;
    rc = answer_zone(&x, k->z);
    if (rc < 0) return 0;
    aa = k->cls == C_IN && (rc == R_OK || rc == R_NXDOMAIN);
  }
  *rcode = rc;
  return finish(&a, k, rc, aa);
}

size_t reply(const struct zoneset *zs, const uint8_t *q, size_t qlen,
             uint8_t *out, size_t room, int tcp, const struct peer *p,
             int *zi, int *rcode)
{
  struct query k;

  reply_prepare(zs, q, qlen, &k);
  reply_prefetch(&k);
  return reply_answer(zs, &k, q, out, room, tcp, p, zi, rcode);
}
