/*
 * policy.h - Postfix's policy delegation protocol (greyd, policyd).
 *
 * A request is "name=value\n" lines ended by an empty line; no encoding.
 * policy_parse() reads one request in place (it writes NULs into buf) and
 * fills a fresh struct, so nothing of one request leaks into the next.
 * Attributes not sent are "" (never NULL); unknown ones are ignored; the
 * first of a repeated attribute wins.
 */
#ifndef IMGATE_POLICY_H
#define IMGATE_POLICY_H

#include <stddef.h>

struct policy_request {
  const char *request;             /* smtpd_access_policy */
  const char *protocol_state;      /* RCPT, DATA, END-OF-MESSAGE ... */
  const char *client_address;
  const char *client_name;         /* verified PTR name or "unknown" */
  const char *reverse_client_name; /* unverified PTR name or "unknown" */
  const char *helo_name;
  const char *sender;              /* "" for the null sender */
  const char *recipient;
  const char *instance;
  const char *queue_id;
  unsigned attributes;             /* how many lines the request had */
};

enum { POLICY_MALFORMED = -1 };

/* Returns the bytes of one complete request (r filled), 0 if the empty
 * line has not arrived yet, or POLICY_MALFORMED (a line without '=' or
 * with an empty name, or a NUL byte). */
long policy_parse(char *buf, size_t len, struct policy_request *r);

/* Formats "action=ACTION[ TEXT]\n\n" into out; control characters in
 * text become spaces.  Returns the length, or 0 if it does not fit. */
size_t policy_format(char *out, size_t room, const char *action,
                     const char *text);

#endif
