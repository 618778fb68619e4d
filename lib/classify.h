/*
 * classify.h - is this SMTP client suspicious?  Shared by greyd (which
 * greylists suspicious clients) and policyd (whose rules combine these
 * conditions with DNSBL hits).  Input is what Postfix's policy request
 * carries: client_address, client_name (verified PTR or "unknown"),
 * reverse_client_name (unverified PTR or "unknown") and helo_name.
 */
#ifndef IMGATE_CLASSIFY_H
#define IMGATE_CLASSIFY_H

#include <stddef.h>

enum {
  CL_PTRNUL = 1,        /* no verified PTR name */
  CL_PTR_ACCNET = 2,    /* PTR name looks like an access/dynamic network */
  CL_HELO_IP = 4,       /* HELO is an address literal or a bare address */
  CL_HELO_NOTFQDN = 8,  /* HELO has no dot or is not a valid host name */
  CL_HELO_ACCNET = 16   /* HELO looks like an access/dynamic network */
};
#define CL_ALL 31

struct classifier;

/* A classifier with the built-in access-network patterns. */
struct classifier *classifier_new(void);
void classifier_free(struct classifier *c);

/* Add the patterns of a file (one per line, '#' comments; the syntax is
 * in greyd(8)).  Returns 0, or -1 with *line and *why set. */
int classifier_load(struct classifier *c, const char *path,
                    unsigned long *line, const char **why);

/* The CL_ bits that hold for this client. */
unsigned classify(const struct classifier *c, const char *client_address,
                  const char *client_name, const char *reverse_client_name,
                  const char *helo_name);

/* "PTRNUL,HELO_IP" (in the enum's order) or "none"; returns the length. */
size_t classify_names(unsigned bits, char *out, size_t room);
/* The bit of one name ("PTR_ACCNET"), or 0 if unknown. */
unsigned classify_bit(const char *name);

#endif
