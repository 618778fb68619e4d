# tests/lib/postfix.sh - a throwaway Postfix on loopback for tests (sourced
# after common.sh; needs root, and runs inside tests/run's namespace).
#
# The instance lives under one directory: etc/ (main.cf, master.cf),
# queue/, data/ and log/maillog (written by postlogd; there is no
# syslog).  Accepted mail is discarded (every transport is discard:), so
# nothing is ever delivered anywhere.  Settings, read by pfx_start:
#   PFX_DIR            instance directory (default: a t_tmpdir)
#   PFX_PORT           smtpd on 127.0.0.1:PORT (default 2525)
#   PFX_RELAY_DOMAINS  relay_domains (example.com)
#   PFX_RECIPIENT_MAP  relay_recipient_maps (empty: no validation)
#   PFX_POLICIES       check_policy_service endpoints, space separated,
#                      each "unix:/path" or "inet:127.0.0.1:PORT" or a
#                      "{ endpoint, default_action=DUNNO }" group
#   PFX_RCPT_RESTRICTIONS  the whole smtpd_recipient_restrictions instead
#   PFX_MAIN_EXTRA     more "name = value" lines, applied last
#   PFX_SMTPD_ARGS     extra smtpd arguments (-v)
#   PFX_CHROOT         y: smtpd runs chrooted in the queue directory, as
#                      Debian's master.cf has it (default n); a unix:
#                      endpoint must then be inside the queue directory,
#                      named relative to it (unix:imgate/greyd/policy)
# XCLIENT is allowed from 127.0.0.0/8 so tests can present any client
# address, PTR name and HELO; 127.0.0.1 is NOT in mynetworks, so the
# test client is treated as a stranger from the Internet.
#
#   pfx_start / pfx_stop / pfx_log (path of the log) / pfx_postconf ARGS
#   pfx_rcpt [swaks options]   the server's reply to the (last) RCPT TO,
#                              e.g. "550 5.1.1 <x@example.com>: ..."
#   pfx_send [swaks options]   the reply to the end of DATA (or the first
#                              failure)

PFX_PORT=${PFX_PORT:-2525}
PFX_RELAY_DOMAINS=${PFX_RELAY_DOMAINS:-example.com}

pfx() { postfix -c "$PFX_DIR/etc" "$@"; }
pfx_postconf() { postconf -c "$PFX_DIR/etc" "$@"; }
pfx_log() { echo "$PFX_DIR/log/maillog"; }

pfx_restrictions() {
  if [ -n "${PFX_RCPT_RESTRICTIONS:-}" ]; then
    echo "$PFX_RCPT_RESTRICTIONS"; return
  fi
  r="reject_unauth_destination, reject_unlisted_recipient"
  for p in ${PFX_POLICIES:-}; do r="$r, check_policy_service $p"; done
  echo "$r"
}

pfx_write_config() {
  mkdir -p "$PFX_DIR/etc" "$PFX_DIR/queue" "$PFX_DIR/data" "$PFX_DIR/log"
  chown root:root "$PFX_DIR/queue"; chmod 755 "$PFX_DIR/queue"
  chown postfix "$PFX_DIR/data"; chmod 700 "$PFX_DIR/data"
  chmod 755 "$PFX_DIR" "$PFX_DIR/log"
  cat > "$PFX_DIR/etc/main.cf" <<EOC
compatibility_level = 3.6
queue_directory = $PFX_DIR/queue
data_directory = $PFX_DIR/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.example.com
mydomain = example.com
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.254/32
maillog_file = $PFX_DIR/log/maillog
maillog_file_prefixes = $PFX_DIR
default_transport = discard:test
relay_transport = discard:test
local_transport = discard:test
virtual_transport = discard:test
local_recipient_maps =
alias_maps =
alias_database =
biff = no
smtp_dns_support_level = disabled
relay_domains = $PFX_RELAY_DOMAINS
relay_recipient_maps = ${PFX_RECIPIENT_MAP:-}
smtpd_authorized_xclient_hosts = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = $(pfx_restrictions)
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
smtpd_error_sleep_time = 0
smtpd_client_connection_rate_limit = 0
EOC
  # Each smtpd is its own process with its own map and policy connections;
  # chroot is off unless PFX_CHROOT=y, so unix sockets outside the queue
  # are reachable.
  cat > "$PFX_DIR/etc/master.cf" <<EOC
127.0.0.1:$PFX_PORT inet n - ${PFX_CHROOT:-n} - - smtpd ${PFX_SMTPD_ARGS:-}
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n -  0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n -  - trivial-rewrite
bounce    unix  - - n -  0 bounce
defer     unix  - - n -  0 bounce
trace     unix  - - n -  0 bounce
verify    unix  - - n -  1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -  - proxymap
showq     unix  n - n -  - showq
error     unix  - - n -  - error
retry     unix  - - n -  - error
discard   unix  - - n -  - discard
anvil     unix  - - n -  1 anvil
scache    unix  - - n -  1 scache
postlog   unix-dgram n - n - 1 postlogd
EOC
  if [ -n "${PFX_MAIN_EXTRA:-}" ]; then
    printf '%s\n' "$PFX_MAIN_EXTRA" | while IFS= read -r line; do
      [ -n "$line" ] && pfx_postconf -e "$line"
    done
  fi
  if [ "${PFX_CHROOT:-n}" = y ]; then pfx_chroot_files; fi
  # Postfix commands wait until main.cf is more than a second old; an old
  # mtime saves that wait on every start.
  touch -d '10 seconds ago' "$PFX_DIR/etc/main.cf" "$PFX_DIR/etc/master.cf"
}

# What a chrooted smtpd reads from /etc and the name-service libraries,
# copied into the instance's own queue directory, as Debian's
# configure-instance.sh does for the system's at start (never the
# system's /var/spool/postfix).  resolv.conf is the test namespace's.
pfx_chroot_files() {
  q=$PFX_DIR/queue
  mkdir -p "$q/etc"
  for f in localtime services resolv.conf hosts host.conf nsswitch.conf; do
    [ -f "/etc/$f" ] || continue
    cp -L "/etc/$f" "$q/etc/$f" && chmod 644 "$q/etc/$f"
  done
  for f in /lib/*/libnss_*.so* /lib/*/libresolv*.so* /lib/*/libgcc_s*.so*
  do
    [ -f "$f" ] || continue
    mkdir -p "$q${f%/*}" && cp -L "$f" "$q$f"
  done
  return 0
}

pfx_master_pid() {
  [ -r "$PFX_DIR/queue/pid/master.pid" ] &&
    tr -dc 0-9 < "$PFX_DIR/queue/pid/master.pid"
}

# Alive and not a zombie (a stopped master can linger unreaped).
pfx_alive() {
  st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  case $st in Z*|"") return 1 ;; esac
}

pfx_start() {
  [ "$(id -u)" = 0 ] || { echo "pfx_start: needs root" >&2; return 1; }
  command -v postfix >/dev/null || PATH=$PATH:/usr/sbin
  : "${PFX_DIR:=$(t_tmpdir)}"
  pfx_write_config
  [ -d "$PFX_DIR/queue/pid" ] && touch "$PFX_DIR/queue/quick-start"
  if ! pfx start > "$PFX_DIR/log/start.out" 2>&1; then
    # Postfix prints its reasons only to a tty; show them through script.
    script -qc "postfix -c '$PFX_DIR/etc' check" /dev/null >&2 </dev/null
    cat "$PFX_DIR/log/start.out" "$PFX_DIR/log/maillog" >&2
    return 1
  fi
  t_atexit pfx_stop
  t_wait_tcp "$PFX_PORT" 20 || { echo "pfx_start: no listener" >&2; return 1; }
}

pfx_stop() {
  pid=$(pfx_master_pid) || return 0
  [ -n "$pid" ] && pfx_alive "$pid" || return 0
  pfx stop >/dev/null 2>&1
  i=0
  while pfx_alive "$pid" && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
  pfx_alive "$pid" && kill -9 "$pid"
  return 0
}

pfx_reload() { pfx_write_config; pfx reload >/dev/null 2>&1; }

# swaks prints the server's lines as "<-  250 ..." or "<** 550 ...".
pfx_swaks() {
  swaks --server "127.0.0.1:$PFX_PORT" --timeout 120 "$@" 2>&1
}

pfx_rcpt() {
  pfx_swaks --quit-after RCPT "$@" |
    awk '/^ -> RCPT TO/ { want = 1; next }
         want && /^<(-|\*\*) / { sub(/^<(-|\*\*) +/, ""); r = $0; want = 0 }
         END { print r }'
}

pfx_send() {
  pfx_swaks "$@" |
    awk '/^<\*\* / { sub(/^<\*\* +/, ""); if (!bad) bad = $0 }
         /^<-  250 .*queued/ { sub(/^<- +/, ""); ok = $0 }
         END { print (bad != "" ? bad : ok) }'
}
