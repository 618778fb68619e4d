/*
 * proto.h - the two wire protocols acctd speaks with Postfix.
 *
 * socketmap(5): request and reply are netstrings.
 *     request  LEN ":" NAME " " KEY ","      e.g.  22:rcpt alice@example.com,
 *     reply    LEN ":" STATUS " " TEXT ","   e.g.  5:OK OK,  9:NOTFOUND ,
 * tcp_table(5): one line each way; the key is %XX-encoded.
 *     request  "get " KEY LF                 e.g.  get alice@example.com
 *     reply    CODE " " TEXT LF              e.g.  200 OK  500 NOTFOUND
 * The parsers take the bytes received so far and never read past them.
 */
#ifndef ACCTD_PROTO_H
#define ACCTD_PROTO_H

#include <stddef.h>

struct request {
  const char *name;     /* socketmap: the map name Postfix gave */
  size_t namelen;
  const char *key;      /* socketmap: inside the buffer; tcp: decoded */
  size_t keylen;
  const char *why;      /* set when the request was framed but malformed */
};

/* One socketmap netstring at buf (len bytes).  Returns the bytes it
 * takes (> 0; r->why set if the content is malformed), 0 if more must
 * arrive, or -1 if the framing is broken and the stream cannot be
 * followed any further (r->why says how).  max bounds the whole
 * netstring, LEN's digits, colon and comma counted: the bytes of one
 * request the server's buffer holds. */
long sm_parse(const char *buf, size_t len, size_t max, struct request *r);

/* "LEN:STATUS TEXT," into out; returns its length (0 if room is short). */
size_t sm_format(char *out, size_t room, const char *status,
                 const char *text);

/* One tcp_table line at buf.  Returns the bytes it takes (> 0, LF
 * included; r->why set if malformed) or 0 if no LF has arrived yet.  The
 * decoded key goes to key (room bytes, at least len). */
long tt_parse(const char *buf, size_t len, char *key, size_t room,
              struct request *r);

/* "CODE TEXT\n" into out; returns its length (0 if room is short). */
size_t tt_format(char *out, size_t room, unsigned code, const char *text);

#endif
