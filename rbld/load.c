/* load.c - reading a dataset's files (plain or gzip) line by line, the
 * "$" specials every type shares, and the change check for reloads.
 * A load either completes or leaves nothing behind: the caller keeps the
 * dataset it had until a new one loaded in full. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <zlib.h>
#include "log.h"
#include "rbld.h"

#define MAXWARN 5
#define LINE_MAX_ 65536
/* read in big pieces: zlib then reads a plain file straight into the
 * buffer (no copy through its own), and a line is moved down once per
 * megabyte rather than once per 64 KB */
#define READ_BUF (1024 * 1024 + LINE_MAX_)

static const struct dstype *const types[] = {
  &dst_ip4set, &dst_ip4tset, &dst_dnset, &dst_ip4trie, &dst_ip6trie,
  &dst_ip6tset, &dst_generic, &dst_combined, &dst_acl, NULL
};

const struct dstype *dstype_find(const char *name)
{
  int i;

  for (i = 0; types[i]; i++)
    if (!strcmp(types[i]->name, name)) return types[i];
  return NULL;
}

void ds_warn(struct dsctx *c, const char *text)
{
  struct logline l;

  if (++c->warns > MAXWARN) return;
  log_start(&l, "warning", "data");
  log_str(&l, "file", c->fname ? c->fname : c->ds->spec);
  if (c->line) log_uint(&l, "line", c->line);
  log_str(&l, "error", text);
  log_end(&l);
}

/* "type:file,file" */
struct dataset *ds_new(const char *spec)
{
  struct dataset *ds;
  const char *colon = strchr(spec, ':');
  char tname[32], *files, *f, *save = NULL;

  if (!colon || colon - spec >= (long)sizeof tname) return NULL;
  memcpy(tname, spec, (size_t)(colon - spec));
  tname[colon - spec] = 0;
  ds = calloc(1, sizeof *ds);
  if (!ds) return NULL;
  ds->type = dstype_find(tname);
  ds->spec = strdup(spec);
  files = strdup(colon + 1);
  if (!ds->type || !ds->spec || !files) goto bad;
  for (f = strtok_r(files, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
    char **nf = xrealloc(ds->file, (ds->nfile + 1) * sizeof *nf);
    if (!nf) goto bad;
    ds->file = nf;
    if (!(ds->file[ds->nfile++] = strdup(f))) goto bad;
  }
  free(files);
  files = NULL;
  if (!ds->nfile) goto bad;
  ds->st = calloc(ds->nfile, sizeof *ds->st);
  if (!ds->st) goto bad;
  ds->ttl = g_opts.defttl;
  return ds;
bad:
  free(files);
  ds_free(ds);
  return NULL;
}

/* A copy of ds's identity (type, spec, files) with no data, to load into. */
static struct dataset *ds_clone_empty(const struct dataset *old)
{
  return ds_new(old->spec);
}

void ds_free(struct dataset *ds)
{
  unsigned i;

  if (!ds) return;
  if (ds->d && ds->type && ds->type->release) ds->type->release(ds);
  arena_free(&ds->ar);
  for (i = 0; i < ds->nfile; i++) free(ds->file[i]);
  free(ds->file);
  free(ds->st);
  free(ds->spec);
  free(ds);
}

static char *firstword(char *s, const char *w)
{
  size_t n = strlen(w);

  if (strncasecmp(s, w, n) || !ISSPACE(s[n])) return NULL;
  return skipspace(s + n);
}

static int special_soa(struct dataset *ds, char *w)
{
  struct soa soa;
  uint8_t odn[DN_MAX + 1], pdn[DN_MAX + 1];
  unsigned ol, pl;

  if (ds->soa) return 1;
  if (!(w = parse_ttl(w, &soa.ttl, ds->ttl)) || *w == ':') return 0;
  if (!(w = parse_dn(w, odn, &ol)) || !(w = parse_dn(w, pdn, &pl)))
    return 0;
  if (!(w = parse_uint(w, &soa.serial))) return 0;
  if (!(w = parse_time(w, &soa.refresh)) || *w == ':') return 0;
  if (!(w = parse_time(w, &soa.retry)) || *w == ':') return 0;
  if (!(w = parse_time(w, &soa.expire)) || *w == ':') return 0;
  if (!(w = parse_time(w, &soa.minttl)) || *w) return 0;
  soa.odn = arena_memdup(&ds->ar, odn, ol);
  soa.pdn = arena_memdup(&ds->ar, pdn, pl);
  ds->soa = arena_memdup(&ds->ar, &soa, sizeof soa);
  if (!soa.odn || !soa.pdn || !ds->soa) return -1;
  return 1;
}

static int special_ns(struct dataset *ds, char *w)
{
  uint8_t dn[DN_MAX + 1];
  unsigned l, i;
  uint32_t ttl;

  if (ds->nns) return 1;
  if (!(w = parse_ttl(w, &ttl, ds->ttl)) || *w == ':') return 0;
  do {
    if (*w == '-') {
      while (*w && !ISSPACE(*w)) w++;
      w = skipspace(w);
      continue;
    }
    if (!(w = parse_dn(w, dn, &l))) return 0;
    dn_lower(dn);
    for (i = 0; i < ds->nns && memcmp(ds->ns[i], dn, l); i++) ;
    if (i < ds->nns || ds->nns >= MAX_NS) continue;
    if (!(ds->ns[ds->nns++] = arena_memdup(&ds->ar, dn, l))) return -1;
  } while (*w);
  ds->nsttl = ttl;
  return 1;
}

static int special_maxrange(struct dsctx *c, char *w)
{
  uint32_t r;
  int cidr = 0;

  if (*w == '/') { cidr = 1; w++; }
  if (!(w = parse_uint(w, &r)) || *w || !r) return 0;
  if (cidr) {
    if (r > 32) return 0;
    r = r == 0 ? 0 : (uint32_t)(r == 32 ? 1 : (1u << (32 - r)));
  }
  if (c->maxrange4 && c->maxrange4 < r)
    ds_warn(c, "ignoring attempt to increase $MAXRANGE4");
  else c->maxrange4 = r;
  return 1;
}

static int special_timestamp(struct dataset *ds, struct dsctx *c, char *w)
{
  time_t stamp, exp = 0;
  uint32_t rel;

  if (!parse_timestamp(&w, &stamp)) return 0;
  if (*w == '+') {
    if (!(w = parse_time(w + 1, &rel)) || *w || !stamp || !rel) return 0;
    exp = stamp + rel;
  } else if (*w && (!parse_timestamp(&w, &exp) || *w)) return 0;
  if (stamp && stamp > time(NULL)) {
    ds_warn(c, "data timestamp is in the future, load aborted");
    return -1;
  }
  if (exp && (!ds->expires || ds->expires > exp)) ds->expires = exp;
  return 1;
}

/* 1 done, 0 invalid (warned by the caller), -1 the load must fail. */
int ds_special(struct dataset *ds, char *s, struct dsctx *c)
{
  struct dataset *cur = c->sub ? c->sub : ds;
  char *w;

  if ((w = firstword(s, "soa"))) return ds->type == &dst_acl ? 0 :
    special_soa(ds, w);
  if ((w = firstword(s, "ns")) || (w = firstword(s, "nameserver")))
    return ds->type == &dst_acl ? 0 : special_ns(ds, w);
  if ((w = firstword(s, "ttl"))) {
    uint32_t t;
    if (!(w = parse_ttl(w, &t, g_opts.defttl)) || *w) return 0;
    cur->ttl = t;
    return 1;
  }
  if ((w = firstword(s, "maxrange4"))) return special_maxrange(c, w);
  if (((s[0] >= '0' && s[0] <= '9') || s[0] == '=') && ISSPACE(s[1])) {
    int n = s[0] == '=' ? SUBST_BASE : s[0] - '0';
    if (cur->subst[n]) return 1;
    w = skipspace(s + 2);
    if (!*w) return 0;
    return (cur->subst[n] = arena_strdup(&ds->ar, w)) ? 1 : -1;
  }
  if ((w = firstword(s, "dataset"))) {
    return ds->type == &dst_combined ? combined_newset(ds, w, c) : 0;
  }
  if ((w = firstword(s, "timestamp"))) return special_timestamp(ds, c, w);
  return 0;
}

int ds_run_line(struct dataset *ds, char *s, struct dsctx *c)
{
  int r;

  if (s[0] == '$' || ((ISCOMMENT(s[0]) || s[0] == ':') && s[1] == '$')) {
    r = ds_special(ds, s[0] == '$' ? s + 1 : s + 2, c);
    if (r == 0) ds_warn(c, "invalid or unrecognized special entry");
    return r >= 0;
  }
  if (!s[0] || ISCOMMENT(s[0])) return 1;
  if (c->sub) return c->sub->type->line(c->sub, s, c) && !c->fatal;
  return ds->type->line(ds, s, c) && !c->fatal;
}

static char *trim(char *s, char *e)
{
  while (e > s && (ISSPACE(e[-1]) || e[-1] == '\r')) e--;
  *e = 0;
  return skipspace(s);
}

/* A gzip stream cut short reads like a short file (gzread returns 0,
   zlib keeps Z_BUF_ERROR aside): loading it would replace good data
   with a part of it, or with nothing, so it is a failed load. */
static int gz_complete(gzFile gz, struct dsctx *c)
{
  int err = Z_OK;

  gzerror(gz, &err);
  if (err == Z_OK) return 1;
  ds_warn(c, err == Z_BUF_ERROR ? "compressed data truncated"
                                : "read error (corrupt compressed data?)");
  return 0;
}

/* Feeds every line of one open file to the dataset; 0 on failure. */
static int read_lines(struct dataset *ds, gzFile gz, struct dsctx *c)
{
  char *buf = c->buf;
  size_t start = 0, end = 0;
  int n, eof = 0, skipping = 0;
  char *nl, *line;

  for (;;) {
    if (ds->type->bulk && !c->sub && !skipping) {
      start += ds->type->bulk(ds, c, buf + start, buf + end);
      if (c->fatal) return 0;
    }
    nl = memchr(buf + start, '\n', end - start);
    if (!nl && !eof) {
      if (start) {
        memmove(buf, buf + start, end - start);
        end -= start; start = 0;
      }
      if (end < LINE_MAX_) {
        n = gzread(gz, buf + end, (unsigned)(READ_BUF - end));
        if (n < 0) { ds_warn(c, "read error (corrupt compressed data?)");
                     return 0; }
        if (n == 0 && !gz_complete(gz, c)) return 0;
        if (n == 0) eof = 1;
        end += (size_t)n;
        continue;
      }
      if (!skipping) { c->line++; ds_warn(c, "long line (ignored)"); }
      skipping = 1; start = end = 0;
      continue;
    }
    if (!nl) {
      if (start == end) break;
      nl = buf + end;               /* last line without a newline */
    }
    line = buf + start;
    start = (size_t)(nl - buf) + (nl < buf + end);
    if (skipping) { skipping = 0; continue; }
    c->line++;
    if ((size_t)(nl - line) >= LINE_MAX_) {
      /* one found whole in the buffer is as long as one found cut by
       * its end above: ignored too, wherever the reads fell */
      ds_warn(c, "long line (ignored)");
      continue;
    }
    if (!ds_run_line(ds, trim(line, nl), c)) return 0;
  }
  return 1;
}

void fstamp_set(struct fstamp *f, const struct stat *st)
{
  f->mtime = st->st_mtime;
  f->nsec = st->st_mtim.tv_nsec;
  f->size = st->st_size;
  f->ino = st->st_ino;
  f->dev = st->st_dev;
}

int fstamp_same(const struct fstamp *f, const struct stat *st)
{
  return f->mtime == st->st_mtime && f->nsec == st->st_mtim.tv_nsec &&
         f->size == st->st_size && f->ino == st->st_ino &&
         f->dev == st->st_dev;
}

static int same_file(const struct stat *a, const struct stat *b)
{
  return a->st_mtime == b->st_mtime && a->st_size == b->st_size &&
         a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static int load_file(struct dataset *ds, unsigned i, struct dsctx *c)
{
  struct stat st0, st1;
  unsigned char magic[2];
  gzFile gz;
  int fd, ok, dup;

  c->fname = ds->file[i];
  c->line = 0;
  fd = open(ds->file[i], O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fstat(fd, &st0) < 0) {
    ds_warn(c, fd < 0 ? "unable to open file" : "unable to stat file");
    if (fd >= 0) close(fd);
    return 0;
  }
  if (g_opts.nogzip && pread(fd, magic, 2, 0) == 2 &&
      magic[0] == 0x1f && magic[1] == 0x8b) {
    ds_warn(c, "file is compressed, decompression disabled (-C)");
    close(fd);
    return 0;
  }
  dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  gz = dup >= 0 ? gzdopen(dup, "rb") : NULL;
  if (!gz) { if (dup >= 0) close(dup); close(fd);
             ds_warn(c, "unable to read file"); return 0; }
  gzbuffer(gz, 128 * 1024);
  c->def_rr = rr_default;
  ok = (!ds->type->start || ds->type->start(ds, c)) && read_lines(ds, gz, c);
  if (gzclose_r(gz) != Z_OK && ok) {
    ds_warn(c, "compressed data truncated or corrupt");
    ok = 0;
  }
  if (ok && (fstat(fd, &st1) < 0 || !same_file(&st0, &st1))) {
    c->line = 0;
    ds_warn(c, "file changed while read: write a temporary file and "
            "rename(2) it");
    ok = 0;
  }
  close(fd);
  fstamp_set(&ds->st[i], &st0);
  ds->st[i].ok = ok;
  if (st0.st_mtime > ds->stamp) ds->stamp = st0.st_mtime;
  return ok;
}

static unsigned long long usec_now(void)
{
  struct timeval tv;

  gettimeofday(&tv, NULL);
  return (unsigned long long)tv.tv_sec * 1000000ull + (unsigned)tv.tv_usec;
}

/* Loads every file of ds (which must be fresh); 1 ok, 0 failed. */
int ds_load(struct dataset *ds)
{
  struct dsctx c;
  unsigned long long t0 = usec_now();
  struct logline l;
  unsigned i;
  int ok = 1;

  memset(&c, 0, sizeof c);
  c.ds = ds;
  if (!(c.buf = malloc(READ_BUF + 1))) return 0;
  for (i = 0; ok && i < ds->nfile; i++) ok = load_file(ds, i, &c);
  free(c.buf);
  c.buf = NULL;
  c.fname = NULL;
  c.line = 0;
  if (ok && ds->type->finish) ok = ds->type->finish(ds, &c);
  if (c.warns > MAXWARN) {
    log_start(&l, "warning", "data");
    log_str(&l, "dataset", ds->spec);
    log_uint(&l, "suppressed", c.warns - MAXWARN);
    log_end(&l);
  }
  log_start(&l, ok ? "info" : "warning", ok ? "loaded" : "load_failed");
  log_str(&l, "dataset", ds->spec);
  if (ok) log_uint(&l, "entries", ds->entries);
  log_uint(&l, "warnings", c.warns);
  log_ms(&l, "ms", usec_now() - t0);
  log_end(&l);
  return ok;
}

/* Loads a fresh copy of old's spec; NULL when the files are not good. */
struct dataset *ds_reload(const struct dataset *old)
{
  struct dataset *ds = ds_clone_empty(old);

  if (!ds) return NULL;
  if (!ds_load(ds)) { ds_free(ds); return NULL; }
  return ds;
}

int ds_changed(const struct dataset *ds)
{
  struct stat st;
  unsigned i;

  for (i = 0; i < ds->nfile; i++) {
    if (stat(ds->file[i], &st) < 0) return 1;
    if (!fstamp_same(&ds->st[i], &st)) return 1;
  }
  return 0;
}

int ds_query(const struct dataset *ds, const struct qinfo *qi,
             struct answer *a)
{
  return ds->type->query(ds, qi, a);
}
