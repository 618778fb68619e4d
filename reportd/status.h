/*
 * status.h - the state of the gateway's services, as text or HTML:
 * every supervised service (up or down and for how long, from the same
 * supervise/status file svstat reads; restarts seen in the last hour;
 * flapping flagged), Postfix's queue sizes, disk space, process counts
 * and the latest warnings of each daemon from its multilog directory.
 *
 * Settings come from the environment (envdir):
 *   SERVICE_DIR    directory of service directories  (/etc/service)
 *   LOGS           the daemons' multilog directories, LOGS/NAME
 *                  (/var/log/imgate); else SERVICE_DIR/NAME/LOG_SUBDIR
 *   LOG_SUBDIR     the service's multilog directory   (log/main)
 *   POSTFIX_QUEUE  Postfix's queue_directory          (/var/spool/postfix)
 *   POSTFIX_CONFIG for "postqueue -j" when the queue directories cannot
 *                  be read (not root or postfix)      (/etc/postfix)
 *   MAILLOG        Postfix's log, for its latest warnings
 *                  (/var/log/mail.log)
 *   DISK_DIRS      directories whose file system is shown
 *   PROCS          process names to count
 *   FLAP_RESTARTS  restarts in an hour that flag a service as flapping (3)
 *   ERRORS         latest warnings shown per service (5)
 *   LISTEN         where --serve listens (inet:127.0.0.1:9025)
 *   PASSWORD_FILE  "user:password" lines for HTTP basic authentication;
 *                  required when LISTEN is not loopback only
 */
#ifndef REPORTD_STATUS_H
#define REPORTD_STATUS_H

#include <stdio.h>

#define MAX_SERVICES 64
#define STARTS_KEPT 32

struct svc {
  char name[64];
  long long since;           /* when the current state began */
  unsigned long pid;         /* 0: down */
  int ok;                    /* supervise is running */
  int normally_up, want_up, paused;
  int sampled;               /* looked at before */
  long long starts[STARTS_KEPT];  /* ring of observed restarts */
  unsigned nstarts;
};

struct status {
  const char *service_dir, *log_subdir, *queue_dir, *disk_dirs, *procs;
  const char *listen, *password_file, *logs, *postfix_config, *maillog;
  unsigned flap, errors;
  struct svc svc[MAX_SERVICES];
  unsigned nsvc;
};

/* Reads the settings; exits 100 on a bad one. */
void status_init(struct status *s);
/* Looks at every service once more, to notice restarts. */
void status_sample(struct status *s, long long now);
/* Restarts seen in the hour before now. */
unsigned status_restarts(const struct svc *v, long long now);
void status_write(FILE *o, struct status *s, int html, long long now);

int status_once(int html);
/* 1 if every spec of LISTEN is loopback or a unix socket. */
int listen_is_local(const char *specs);
int status_serve(void);

#endif
