# tests/demo/lib.sh - the demo's steps (sourced by tests/demo/run, after
# tests/lib/common.sh and tests/lib/postfix.sh).  The sandbox S holds:
#   etc/       the private copy of /etc, bind-mounted on /etc
#   root/      the gateway's ROOT for package/install
#   postfix/   the Postfix instance (etc/, queue/, log/maillog)
#   zones/     trafgen's DNSBL zones;  truth: trafgen's ground truth
#   amavis/    amavisd-new, clamd and their files (content scanning)

PFX_PORT=2525
PFX_RELAY_DOMAINS=example.com
DEMO_ZONE_MAIN=bl.demo.imgate.test
DEMO_ZONE_SECOND=bl2.demo.imgate.test

# A private /etc: useradd and setuidgid work on it, the host's stays as
# it was.  resolv.conf names loopback only.
demo_private_etc() {
  cp -a /etc "$1/etc" || return 1
  rm -f "$1/etc/resolv.conf"
  printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' \
    > "$1/etc/resolv.conf"
  mount --bind "$1/etc" /etc
}

have() { [ -x "$B/$1" ]; }
pkg_has() { [ -d "${PKG:-$TOP/package}/$1" ]; }

# Which layers can run: a daemon needs its program and its service
# directory.  policyd needs a DNS server for its lists: rbld, or until
# rbld is built, Debian's rbldnsd standing in for it.
demo_layers() {
  LAYERS="" LAYER_NAMES="" DAEMONS="" DNS_SERVER=""
  if have acctd && have acctd-data && pkg_has acctd; then
    LAYERS=a DAEMONS=acctd LAYER_NAMES="recipient validation (acctd)"
  fi
  if have greyd && pkg_has greyd; then
    LAYERS=${LAYERS}g DAEMONS="$DAEMONS greyd"
    LAYER_NAMES="$LAYER_NAMES, greylisting (greyd)"
  fi
  if have rbld && pkg_has rbld; then
    DNS_SERVER=rbld DAEMONS="$DAEMONS rbld"
  elif command -v rbldnsd >/dev/null; then
    DNS_SERVER=rbldnsd
  fi
  if have policyd && pkg_has policyd && [ -n "$DNS_SERVER" ]; then
    LAYERS=${LAYERS}p DAEMONS="$DAEMONS policyd"
    LAYER_NAMES="$LAYER_NAMES, envelope policy (policyd, DNSBLs on $DNS_SERVER)"
  fi
  CONTENT=no
  case ${DEMO_CONTENT:-auto} in
    auto|yes) if amavis_available; then
                CONTENT=amavis LAYERS=${LAYERS}c
                LAYER_NAMES="$LAYER_NAMES, content scanning (amavisd-new, ClamAV, SpamAssassin)"
              elif [ "${DEMO_CONTENT:-auto}" = yes ]; then
                echo "demo: content scanning asked for, but amavisd-new, clamd or spamassassin is missing" >&2
                return 1
              fi ;;
  esac
  if have reportd && pkg_has reportd; then DAEMONS="$DAEMONS reportd"; fi
  LAYER_NAMES=${LAYER_NAMES#, }
  [ -n "$LAYER_NAMES" ] || LAYER_NAMES="none (Postfix alone: no daemon is built yet)"
}

# policyd's rules for the demo: the default rules of conf/policyd, with
# the demo's two DNSBL zones (served on loopback) in place of the public
# lists, which the sandbox cannot reach.
demo_rules() {
  echo "# the imgate demo: conf/policyd/rules with the demo's DNSBL zones"
  echo "dnsbl main $DEMO_ZONE_MAIN main listed=127.0.0.2"
  echo "dnsbl second $DEMO_ZONE_SECOND listed=127.0.0.2"
  # the public lists' declarations go, and the rules that name them
  awk '$1 == "dnsbl" || $1 == "dnswl" { drop[$2] = 1; next }
       { for (i = 1; i <= NF; i++) { w = $i; sub(/^!/, "", w)
           if (w in drop) next } print }' "$TOP/conf/policyd/rules"
}

demo_install() {
  S=$1 ROOT=$1/root
  # smtpd chrooted, as in Debian's master.cf: the wiring must reach it
  PFX_DIR=$S/postfix PFX_CHROOT=y
  pfx_write_config
  # Postfix's defaults, not the test suite's: a dictionary attacker is
  # slowed after 10 errors; the demo's attackers stay below that.
  mkdir -p "$S/zones"
  trafgen -s "$SEED" -n "$N" -L "$LAYERS" -x -A "$S/accounts.txt" \
    -Z "$S/zones" || return 1
  mkdir -p "$ROOT/etc/imgate/acctd"
  cp "$S/accounts.txt" "$ROOT/etc/imgate/acctd/accounts.txt"
  ROOT=$ROOT SVSCAN=no POSTFIX_CONFIG=$PFX_DIR/etc DAEMONS=$DAEMONS \
    RELAY_DOMAINS=example.com CONTENT_FILTER=$CONTENT \
    "$TOP/package/install" "$B" > "$S/install.out" 2>&1 ||
    { cat "$S/install.out" >&2; return 1; }
  sed 's/^/  /' "$S/install.out"
  demo_settings "$S"
  [ "$CONTENT" = amavis ] && { amavis_setup "$S" || return 1; }
  # Postfix waits for a main.cf more than a second old
  touch -d '10 seconds ago' "$PFX_DIR/etc/main.cf" "$PFX_DIR/etc/master.cf"
}

SVC=""
# The gateway tests' install, of the programs in $S/build: inst runs it
# (output in $S/install.out); gw_first_install checks it exits 0 and
# kills the svscan it started at exit.
inst() { "$TOP/package/install" "$S/build" > "$S/install.out" 2>&1; }
gw_first_install() {
  inst; gw_rc=$?
  t_eq "$gw_rc" 0 "install exits 0"
  [ "$gw_rc" = 0 ] || sed 's/^/# /' "$S/install.out"
  svscan=$(sed -n 's/^install: svscan .* started (pid \([0-9]*\))$/\1/p' \
    "$S/install.out")
  [ -n "$svscan" ] && t_atexit "kill $svscan"
}

svc_dir() { echo "$ROOT/etc/imgate/service/$1"; }
env_file() { echo "$(svc_dir "$1")/env/$2"; }

# The demo's own settings, on top of the installed defaults.
demo_settings() {
  case " $DAEMONS " in *" greyd "*)
    echo "$DELAY" > "$(env_file greyd DELAY)"
    # every pass counts towards auto-whitelisting (default: once an hour)
    echo 0 > "$(env_file greyd AWL_INTERVAL)"
    echo "$AWL" > "$(env_file greyd AWL_CLIENTS)" ;;
  esac
  case " $DAEMONS " in *" policyd "*)
    echo "127.0.0.1:53" > "$(env_file policyd DNS)"
    demo_rules > "$(cat "$(env_file policyd RULES)")" ;;
  esac
  case " $DAEMONS " in *" rbld "*)
    d=$(cat "$(env_file rbld ROOT)")
    cp "$S/zones/main.ip4set" "$S/zones/second.ip4set" "$d/"
    chmod 644 "$d"/*.ip4set
    e=$(svc_dir rbld)/env
    echo 127.0.0.1 > "$e/IP"
    echo 53 > "$e/PORT"
    echo "$DEMO_ZONE_MAIN:ip4set:main.ip4set $DEMO_ZONE_SECOND:ip4set:second.ip4set" \
      > "$e/ZONES" ;;
  esac
  return 0
}

SVSCAN_PID="" RBLDNSD_PID=""
demo_start() {
  S=$1
  if [ "$DNS_SERVER" = rbldnsd ] && [ -n "$LAYERS" ] &&
     case $LAYERS in *p*) true ;; *) false ;; esac; then
    # the stand-in for rbld until it is built: not supervised
    rbldnsd -n -b 127.0.0.1/53 -w "$S/zones" \
      "$DEMO_ZONE_MAIN:ip4set:main.ip4set" \
      "$DEMO_ZONE_SECOND:ip4set:second.ip4set" > "$S/rbldnsd.log" 2>&1 &
    T_PID=$!; T_PIDS="$T_PIDS $T_PID"
    RBLDNSD_PID=$T_PID
  fi
  if [ -n "$DAEMONS" ]; then
    env - PATH="$ROOT/usr/local/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin" \
      svscan "$ROOT/etc/service" > "$S/svscan.out" 2>&1 &
    SVSCAN_PID=$!
    t_atexit demo_stop_services
    demo_wait_up || return 1
  fi
  [ "$CONTENT" = amavis ] && { amavis_start "$S" || return 1; }
  pfx start > "$S/postfix.out" 2>&1 || {
    script -qc "postfix -c '$PFX_DIR/etc' check" /dev/null </dev/null
    cat "$S/postfix.out" "$PFX_DIR/log/maillog"; return 1; }
  t_atexit pfx_stop
  t_wait_tcp "$PFX_PORT" 20 || { echo "demo: Postfix does not listen" >&2; return 1; }
}

# Every service up and its socket there (30 s at most).
demo_wait_up() {
  for d in $DAEMONS; do
    for i in $(seq 1 300); do
      svok "$(svc_dir "$d")" 2>/dev/null &&
        svstat "$(svc_dir "$d")" 2>/dev/null | grep -q ': up' && break
      sleep 0.1
    done
    s=""
    case $d in
      acctd) s=$(sed -n 's/^unix://p' "$(env_file acctd SOCKETMAP)") ;;
      greyd|policyd) s=$(tr ',' '\n' < "$(env_file "$d" LISTEN)" | sed -n 's/^unix://p') ;;
    esac
    if [ -n "$s" ] && ! t_wait_path "$s" 30; then
      echo "demo: $d did not come up (no $s)" >&2
      tail -5 "$ROOT/var/log/imgate/$d/current" >&2
      return 1
    fi
  done
  if [ "$DNS_SERVER" = rbld ]; then
    for i in $(seq 1 100); do
      ss -Hlun 'sport = :53' | grep -q . && break; sleep 0.1
    done
  fi
  printf 'demo: services up:'
  for d in $DAEMONS; do printf ' %s' "$d"; done; echo
}

# reportd's status page (text), as its status server shows it now.
demo_status() {
  case " $DAEMONS " in *" reportd "*) ;; *) return 0 ;; esac
  command -v curl >/dev/null || return 0
  l=$(sed -n 's/^inet://p' "$(env_file reportd LISTEN)" 2>/dev/null)
  [ -n "$l" ] || return 0
  echo; echo "===== reportd's status page (http://$l/status.txt) ====="
  curl -s --max-time 10 "http://$l/status.txt"
}

# Every accepted message delivered (or the queue stuck: 60 s at most),
# and amavis's line about each message it took written (amavis logs
# after it has handed the message back).
demo_drain() {
  for i in $(seq 1 600); do
    postqueue -c "$PFX_DIR/etc" -p 2>/dev/null | grep -q 'Mail queue is empty' &&
      break
    sleep 0.1
  done
  [ "$i" = 600 ] && { echo "demo: the queue did not drain:" >&2
    postqueue -c "$PFX_DIR/etc" -p | tail -5 >&2; }
  [ "$CONTENT" = amavis ] || return 0
  handed=$(grep 'relay=127.0.0.1\[127.0.0.1\]:10024,.*status=sent' \
    "$PFX_DIR/log/maillog" | sed 's/.*\]: \([0-9A-F]*\): .*/\1/' | sort -u | wc -l)
  for i in $(seq 1 300); do
    [ "$(grep -c 'Queue-ID: ' "$S/amavis/amavis.log" 2>/dev/null)" -ge "$handed" ] &&
      return 0
    sleep 0.1
  done
  echo "demo: amavis logged fewer messages than it was handed ($handed)" >&2
}

# Stops supervision by PID: svscan first (so nothing is restarted), then
# every supervise through svc -dx, then waits for them.
demo_stop_services() {
  [ -n "$SVSCAN_PID" ] || return 0
  sups=$(children_of "$SVSCAN_PID")
  kill "$SVSCAN_PID" 2>/dev/null; wait "$SVSCAN_PID" 2>/dev/null
  for d in "$ROOT"/etc/imgate/service/*; do
    svc -dx "$d" "$d/log" 2>/dev/null
  done
  for p in $sups; do
    i=0
    while kill -0 "$p" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
  done
  SVSCAN_PID=""
  demo_reap "$ROOT"
}

# Whatever still runs in, or names, the sandbox DIR (a logger that lost
# its supervise, say) is ours: TERM, then KILL, each by its PID.
demo_reap() {
  for sig in TERM KILL; do
    pids=$(sandbox_pids "$1")
    [ -n "$pids" ] || return 0
    kill -s "$sig" $pids 2>/dev/null
    sleep 0.5
  done
}

sandbox_pids() {
  for p in /proc/[0-9]*; do
    [ "${p#/proc/}" = "$$" ] && continue
    c=$(readlink "$p/cwd" 2>/dev/null; tr '\0' ' ' 2>/dev/null < "$p/cmdline")
    case $c in *"$1/"*) echo "${p#/proc/}" ;; esac
  done
}

children_of() {
  for st in /proc/[0-9]*/stat; do
    read -r pid _ _ ppid _ 2>/dev/null < "$st" || continue
    [ "$ppid" = "$1" ] && echo "$pid"
  done
}

demo_stop() {
  pfx_stop
  [ "$CONTENT" = amavis ] && amavis_stop
  demo_stop_services
  [ -n "$RBLDNSD_PID" ] && t_stop "$RBLDNSD_PID"
  return 0
}

# ---- the fault test: SIGKILL each daemon during the traffic ----

# The PID supervise reports for service D, or nothing.
svc_pid() { svstat "$(svc_dir "$1")" 2>/dev/null | sed -n 's/.*(pid \([0-9]*\)).*/\1/p'; }

demo_killer() {
  sleep 1
  for round in 1 2; do
    for d in $DAEMONS; do
      p=$(svc_pid "$d")
      [ -n "$p" ] || continue
      kill -9 "$p" && echo "$d $p" >> "$S/killed"
      sleep 0.7
    done
  done
}

# After the traffic: every killed daemon runs again, under a new PID.
demo_after_kill() {
  sleep 2
  : > "$S/restart"
  while read -r d p; do
    q=$(svc_pid "$d")
    if [ -n "$q" ] && [ "$q" != "$p" ]; then echo "$d ok" >> "$S/restart"
    else echo "$d down" >> "$S/restart"; fi
  done < "$S/killed"
}

# ---- the report ----

demo_report() {
  S=$1
  LOGS="$ROOT/var/log/imgate"
  srcs=$(for d in $DAEMONS; do echo "$LOGS/$d"; done)
  "$TOP/tests/demo/count" "$LOGS" "$PFX_DIR/log/maillog" \
    "$S/amavis/amavis.log" > "$S/counted" 2>/dev/null
  if have reportd; then
    # reportd's window ends at the current second, exclusive: lines
    # logged in this very second would fall outside it
    sleep 1
    echo; echo "===== reportd's report ====="
    reportd $srcs "$PFX_DIR/log/maillog" \
      $( [ "$CONTENT" = amavis ] && echo "$S/amavis/amavis.log") \
      > "$S/report.txt" 2> "$S/report.err"
    cat "$S/report.txt"
    "$TOP/tests/demo/from-report" < "$S/report.txt" > "$S/reported"
    # deliveries are not in the report: Postfix's log says them
    grep '^delivery' "$S/counted" >> "$S/reported"
    FROM="reportd's report"
  else
    cp "$S/counted" "$S/reported"
    FROM="the demo's count of the logs (reportd is not built yet)"
  fi
  echo; echo "===== ground truth (trafgen) against $FROM ====="
  if [ -n "${DEMO_KILL:-}" ]; then demo_fault_verdict; return; fi
  demo_compare "$S/truth" "$S/reported"
}

# every number of the truth against the report's (tests/demo/compare)
demo_compare() {
  "$TOP/tests/demo/compare" "$1" "$2" || return 1
  [ "$TRAFGEN_RC" = 0 ] && return 0
  echo "demo: trafgen saw replies that differ from the model (above)"
  return 1
}

# With daemons killed the layers' counts shift (a policy daemon that is
# down passes mail); what must hold: no legitimate mail lost or wrongly
# rejected, every accepted message delivered, every daemon back up.
demo_fault_verdict() {
  rc=0
  echo "demo: killed: $(tr '\n' ' ' < "$S/killed" 2>/dev/null)"
  [ "$TRAFGEN_RC" = 0 ] || { echo "demo: trafgen: mail lost or wrongly rejected"; rc=1; }
  # every message Postfix accepted was delivered or blocked by amavis
  acc=$(awk -F'\t' '$1=="smtp" && $2=="messages" {print $3}' "$S/truth")
  del=$(awk -F'\t' '$1=="delivery" && $2=="messages" {print $3}' "$S/counted")
  blk=$(awk -F'\t' '$1=="content" && $2!="clean" {n += $3} END {print n+0}' "$S/counted")
  echo "demo: accepted $acc messages, delivered $del, blocked by content scanning $blk"
  [ "$acc" = "$((del + blk))" ] || rc=1
  n=$(grep -c . "$S/killed" 2>/dev/null)
  up=$(grep -c ' ok$' "$S/restart" 2>/dev/null)
  echo "demo: $n kills, restarted by supervise: $up"
  [ "${n:-0}" -gt 0 ] && [ "$n" = "$up" ] || rc=1
  [ "$rc" = 0 ] && echo "demo: fault run: no mail lost or wrongly rejected" ||
    echo "demo: fault run FAILED"
  return $rc
}

# ---- content scanning (layer 4) ----
# amavisd-new with SpamAssassin and clamd, in the sandbox: clamd's only
# signature database is made here (no download), one signature for
# trafgen's test pattern; SpamAssassin knows GTUBE from its own rules.

amavis_available() {
  [ -x /usr/sbin/amavisd ] && [ -x /usr/sbin/clamd ] &&
    perl -MMail::SpamAssassin -e 1 2>/dev/null && id amavis >/dev/null 2>&1
}

# trafgen's VIRUS_TEXT, as a ClamAV body signature (hex)
AV_PATTERN=IMGATE-TEST-SIGNATURE-5b1d0c7e-DO-NOT-DELIVER
AMAVIS_PIDS=""

amavis_setup() {
  A=$1/amavis
  mkdir -p "$A/tmp" "$A/db" "$A/clamdb" "$A/var"
  hex=$(printf '%s' "$AV_PATTERN" | od -An -tx1 | tr -d ' \n')
  echo "Imgate.Test.Signature:0:*:$hex" > "$A/clamdb/imgate.ndb"
  cat > "$A/clamd.conf" <<EOC
LocalSocket $A/clamd.sock
FixStaleSocket yes
User amavis
Foreground yes
DatabaseDirectory $A/clamdb
LogFile $A/clamd.log
TemporaryDirectory $A/tmp
EOC
  {
    cat <<EOC
use strict;
\$MYHOME = '$A';
\$TEMPBASE = '$A/tmp';
\$db_home = '$A/db';
\$helpers_home = '$A/var';
\$QUARANTINEDIR = undef;
\$pid_file = '$A/amavisd.pid';
\$lock_file = '$A/amavisd.lock';
\$daemon_user = 'amavis';
\$daemon_group = 'amavis';
\$mydomain = 'example.com';
\$myhostname = 'mx.example.com';
@local_domains_maps = (['.example.com']);
@mynetworks = qw(127.0.0.0/8);
\$max_servers = 2;
\$DO_SYSLOG = 0;
\$LOGFILE = '$A/amavis.log';
\$log_level = 0;
\$sa_local_tests_only = 1;
\$enable_dkim_verification = 0;
\$unix_socketname = undef;
\$virus_quarantine_to = undef;
\$spam_quarantine_to = undef;
\$banned_quarantine_to = undef;
\$bad_header_quarantine_to = undef;
EOC
    sed "s#/var/run/clamav/clamd.ctl#$A/clamd.sock#" \
      "$TOP/conf/gateway/amavis.conf"
    # The demo's messages are plain short texts; SpamAssassin's score of
    # a bot's text depends on rules outside the model (its dynamic PTR in
    # the Received header, say).  GTUBE (1000 points) must be the only
    # spam, so the truth is exact: the kill level is raised for the demo.
    echo '$sa_kill_level_deflt = 20;'
    echo '1;' 
  } > "$A/amavisd.conf"
  chown -R amavis:amavis "$A"
  chmod 755 "$A"
  # amavisd wants its configuration, and the directory holding it, root's
  mkdir -p "$1/amavis-etc"
  mv "$A/amavisd.conf" "$A/clamd.conf" "$1/amavis-etc/"
  chown -R root:root "$1/amavis-etc"
  chmod 644 "$1/amavis-etc"/*
}

amavis_start() {
  A=$1/amavis
  clamd --config-file="$1/amavis-etc/clamd.conf" > "$A/clamd.out" 2>&1 &
  AMAVIS_PIDS="$!"
  amavisd -c "$1/amavis-etc/amavisd.conf" foreground > "$A/amavisd.out" 2>&1 &
  AMAVIS_PIDS="$AMAVIS_PIDS $!"
  t_atexit amavis_stop
  t_wait_path "$A/clamd.sock" 60 ||
    { echo "demo: clamd did not start" >&2; cat "$A/clamd.out" >&2; return 1; }
  t_wait_tcp 10024 120 ||
    { echo "demo: amavisd did not start" >&2; tail "$A/amavisd.out" >&2; return 1; }
  echo "demo: content scanning up: amavisd-new on 127.0.0.1:10024, clamd"
}

amavis_stop() {
  for p in $AMAVIS_PIDS; do t_stop "$p"; done
  AMAVIS_PIDS=""
}
