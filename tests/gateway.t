#!/bin/sh
# tests/gateway.t - package/install and package/uninstall, in a private
# root and a private /etc: users, directories with owners and modes,
# service directories linked into svscan's directory and running under
# an svscan that install starts, the Postfix wiring in the order of the
# layers, cron jobs; a second install changes nothing and keeps a site's
# edited settings; uninstall stops the services and puts Postfix back.
TOP=$IMGATE_TOP B=$IMGATE_BUILD
. "$TOP/tests/lib/common.sh"
t_own_mounts gateway "$0" "$@"
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/demo/lib.sh"
PATH=$B:/usr/sbin:$PATH
S=$(t_tmpdir)
demo_private_etc "$S"
# smtpd chrooted, as Debian's master.cf has it
ROOT=$S/root PFX_DIR=$S/postfix PFX_CHROOT=y
Q=$PFX_DIR/queue
pfx_write_config
before=$(postconf -c "$PFX_DIR/etc" -n) beforeM=$(postconf -c "$PFX_DIR/etc" -M)
defaultcf=$(cat /etc/postfix/main.cf 2>/dev/null || echo none)
DS=""
for d in acctd greyd policyd rbld reportd; do
  [ -x "$B/$d" ] && [ -d "$TOP/package/$d" ] && DS="$DS $d"
done
[ -n "$DS" ] || { t_skip gateway "no daemon has its package/ directory yet"; exit 0; }
export ROOT POSTFIX_CONFIG=$PFX_DIR/etc RELAY_DOMAINS=example.com \
  MAILBOX_SERVER='[192.0.2.25]:25'
# the programs of this moment: a build that changes meanwhile must not
# look like an install that is not idempotent
mkdir -p "$S/build"
for p in acctd acctd-data greyd greyd-dump policyd rbld rbld-harvest reportd; do
  [ -x "$B/$p" ] && cp "$B/$p" "$S/build/"
done
gw_first_install
t_match "$svscan" '^[0-9]+$' "install starts svscan on the service directory"

# a daemon's user: the one its run script switches to, or env/USER for
# one that drops privileges itself (rbld)
duser() {
  u=$(grep -v '^[[:space:]]*#' "$TOP/package/$1/run" |
      sed -n 's/.*setuidgid \([a-z]*\).*/\1/p' | head -n 1)
  [ -n "$u" ] || u=$(cat "$TOP/package/$1/env/USER")
  echo "$u"
}
for d in $DS; do
  u=$(duser "$d")
  t_eq "$(stat -c '%U %a' "$ROOT/var/lib/imgate/$d")" "$u 750" "$d: data directory"
  t_eq "$(stat -c '%U %a' "$ROOT/run/imgate/$d")" "$u 755" "$d: socket directory"
  t_eq "$(stat -c '%U' "$ROOT/var/log/imgate/$d")" "imgatelog" "$d: log directory"
  t_eq "$(readlink "$ROOT/etc/service/$d")" "$ROOT/etc/imgate/service/$d" \
    "$d: linked into svscan's directory"
  t_eq "$(stat -c %a "$ROOT/etc/imgate/service/$d/run")" 755 "$d: run is executable"
  ok=""
  for i in $(seq 1 100); do
    svstat "$ROOT/etc/imgate/service/$d" 2>/dev/null | grep -q ': up' && { ok=1; break; }
    sleep 0.1
  done
  t_eq "$ok" 1 "$d: up under supervise"
  t_match "$(svstat "$ROOT/etc/imgate/service/$d/log")" ': up ' "$d: its logger up"
done
case " $DS " in *" greyd "*)
  t_eq "$(cat "$ROOT/etc/imgate/service/greyd/env/STORE")" \
    "$ROOT/var/lib/imgate/greyd" "greyd: paths in env/ moved into ROOT"
  t_match "$(id -nG postfix)" '(^| )greyd( |$)' "postfix is in greyd's group"
  t_wait_path "$Q/imgate/greyd/policy" 10
  t_eq "$(printf 'request=smtpd_access_policy\nclient_address=192.0.2.1\nclient_name=mx.example.net\nreverse_client_name=mx.example.net\nhelo_name=mx.example.net\nsender=a@example.net\nrecipient=b@example.com\n\n' |
    runuser -u postfix -- socat -t 5 - "UNIX-CONNECT:$Q/imgate/greyd/policy")" \
    "action=DUNNO" "greyd answers Postfix's user on its socket (in the queue directory)"
esac

case " $DS " in *" rbld "*)
  # the shipped ZONES name files no one has made yet: install makes them
  # (local.soa from conf/rbld, the private zones empty) so rbld starts
  r=$ROOT/var/lib/imgate/rbld
  t_eq "$(cd "$r" && for f in local.soa black white black6 white6; do
          printf '%s:%s ' "$f" "$(stat -c %a "$f" 2>/dev/null)"; done)" \
    "local.soa:644 black:644 white:644 black6:644 white6:644 " \
    "rbld: the files its ZONES names are there at first start"
  t_eq "$(cmp -s "$r/local.soa" "$TOP/conf/rbld/local.soa" && echo same)" \
    same "rbld: local.soa is conf/rbld's"
  soa=""
  for i in $(seq 1 50); do
    soa=$(dig +short +time=1 +tries=1 -p 53 @127.0.0.1 bl.local SOA 2>/dev/null)
    [ -n "$soa" ] && break
    sleep 0.2
  done
  # serial 0 in local.soa: the data's time stands in, as in rbldnsd
  t_match "$soa" \
    '^ns1\.example\.net\. hostmaster\.example\.net\. [1-9][0-9]* 3600 600 604800 300$' \
    "rbld answers for the private zone bl.local after a first install"
  t_match "$(dig +time=1 +tries=1 -p 53 @127.0.0.1 2.0.0.127.wl.local A)" \
    'status: NXDOMAIN' "rbld: wl.local, empty, lists nobody"
esac

want="reject_unauth_destination, reject_unlisted_recipient, permit_mynetworks"
case " $DS " in *" greyd "*)
  want="$want, check_policy_service { unix:imgate/greyd/policy, default_action=DUNNO }"
esac
case " $DS " in *" policyd "*)
  want="$want, check_policy_service { unix:imgate/policyd/policy, default_action=DUNNO }"
esac
pc() { postconf -c "$PFX_DIR/etc" "$@"; }
t_eq "$(pc -h smtpd_recipient_restrictions)" "$want" \
  "postfix: restrictions in the order of the layers, policy services fail open"
t_eq "$(pc -h relay_domains)" "example.com" "postfix: relay_domains"
t_eq "$(pc -h relay_transport)" "relay:[192.0.2.25]:25" "postfix: mail goes to the mailbox server"
case " $DS " in *" acctd "*)
  t_eq "$(pc -h relay_recipient_maps)" \
    "proxy:socketmap:unix:$ROOT/run/imgate/acctd/socketmap:accounts" \
    "postfix: acctd by socketmap, through proxymap (not chrooted)"
esac
t_eq "$(pc -n proxy_read_maps)" "" \
  "postfix: proxy_read_maps left alone (its default lists \$relay_recipient_maps)"
t_eq "$(pc -F '127.0.0.1:2525/inet/chroot')" "127.0.0.1:2525/inet/chroot = y" \
  "postfix: smtpd left in its chroot"
t_eq "$(grep -v '^#' "$ROOT/etc/tmpfiles.d/imgate.conf")" \
  "$(echo "d $ROOT/run/imgate 0755 root root -"
     for d in $DS; do u=$(duser "$d"); echo "d $ROOT/run/imgate/$d 0755 $u $u -"; done)" \
  "tmpfiles.d: RUN's directories made again at boot"
t_match "$(cat "$ROOT/etc/cron.d/imgate")" "15 6 \* \* \* root $ROOT/etc/imgate/cron/daily-report" \
  "cron: the daily report"

# reportd's status page, its server running as reportd (not root), reads
# Postfix's queues through postqueue: the install lists the instance in
# the default main.cf's alternate_config_directories for that
case " $DS " in *" reportd "*)
  t_match "$(postconf -c /etc/postfix -h alternate_config_directories)" \
    "(^|[ ,])$PFX_DIR/etc(,|\$)" "postfix: the instance listed for postqueue -c"
  touch -d '10 seconds ago' "$PFX_DIR/etc/main.cf" "$PFX_DIR/etc/master.cf"
  pfx start > "$S/postfix.out" 2>&1 || sed 's/^/# /' "$S/postfix.out"
  t_atexit pfx_stop
  p=$(svstat "$ROOT/etc/imgate/service/reportd" |
      sed -n 's/.*(pid \([0-9]*\)).*/\1/p')
  t_eq "$(ps -o user= -p "${p:-0}")" reportd "reportd: runs as reportd"
  t_wait_tcp 9025 10
  i=0 page=""
  while [ $i -lt 50 ]; do
    page=$(curl -s --max-time 5 http://127.0.0.1:9025/status.txt)
    printf '%s\n' "$page" | grep -q '^ *0  deferred$' && break
    sleep 0.2; i=$((i+1))
  done
  t_match "$page" "^ +0  deferred$" \
    "reportd (not root) reads Postfix's queues through postqueue"
esac

# a second install changes nothing, says nothing but that it is done,
# and keeps a site's own settings.  What an install touches, but the
# state of running services (supervise/), is compared before and after.
case " $DS " in *" acctd "*)
  t_match "$(cat "$S/install.out")" "^install: note: no $ROOT/var/lib/imgate/acctd/accounts.cdb yet" \
    "the first install says acctd has no accounts yet"
esac
snapshot() {
  { find "$ROOT/etc" "$ROOT/usr" -name supervise -prune -o \
      -printf '%p %y %m %u %g %l\n'
    find "$ROOT/etc" "$ROOT/usr" -name supervise -prune -o -type f \
      -exec md5sum {} +
    postconf -c "$PFX_DIR/etc" -n; postconf -c "$PFX_DIR/etc" -M
    cat /etc/postfix/main.cf 2>/dev/null; getent passwd; getent group
  } | sort | md5sum
}
d1=$(echo $DS | cut -d' ' -f1)
echo 60 > "$ROOT/etc/imgate/service/$d1/env/SITE_SETTING"
envs=$(cat "$ROOT"/etc/imgate/service/*/env/* | md5sum)
snap=$(snapshot)
inst
t_eq "$(cat "$S/install.out")" "install: done:$DS" \
  "a second install says nothing but done"
t_eq "$(snapshot)" "$snap" "a second install changes nothing"
t_eq "$(cat "$ROOT"/etc/imgate/service/*/env/* | md5sum)" "$envs" \
  "a second install keeps env/ as the site left it"

# uninstall: stopped, unlinked, Postfix as it was
"$TOP/package/uninstall" > "$S/uninstall.out" 2>&1
t_eq "$?" 0 "uninstall exits 0"
for d in $DS; do
  t_eq "$(ls "$ROOT/etc/service/$d" 2>&1 >/dev/null | grep -c 'No such')" 1 "$d: link removed"
done
sleep 1
left=$(for p in /proc/[0-9]*; do
  c=$(readlink "$p/cwd" 2>/dev/null)
  case $c in "$ROOT"/etc/imgate/service/*) echo "${p#/proc/}" ;; esac
done)
t_eq "$left" "" "no service process left"
t_eq "$(postconf -c "$PFX_DIR/etc" -n)" "$before" "Postfix's settings as before the install"
t_eq "$(postconf -c "$PFX_DIR/etc" -M)" "$beforeM" "master.cf as before the install"
t_eq "$(ls -d "$Q/imgate" 2>/dev/null)" "" "the sockets' directory in the queue removed"
t_eq "$(cat /etc/postfix/main.cf 2>/dev/null || echo none)" "$defaultcf" \
  "the default main.cf as before the install"
t_eq "$(ls "$ROOT/usr/local/bin" | wc -l)" 0 "programs removed"
t_eq "$(ls "$ROOT/etc/cron.d")" "" "cron jobs removed"
t_eq "$(ls "$ROOT/etc/tmpfiles.d")" "" "tmpfiles.d entry removed"
"$TOP/package/uninstall" > "$S/uninstall2.out" 2>&1
t_eq "$(cat "$S/uninstall2.out")" "uninstall: done" "a second uninstall does nothing"
t_eq "$(stat -c %U "$ROOT/var/lib/imgate/$d1")" "$(duser "$d1")" "data kept (no PURGE)"
# userdel refuses a uid that some process runs as: another sandbox on
# this machine (a demo) may use the same uid in its own /etc
uid=$(id -u imgatelog)
busy=$(ps -eo uid= | awk -v u="$uid" '$1 == u' | head -n 1)
PURGE=yes "$TOP/package/uninstall" > "$S/purge.out" 2>&1
t_eq "$(ls "$ROOT/var/lib" 2>/dev/null)" "" "PURGE=yes: data removed"
if [ -n "$busy" ]; then
  t_skip "PURGE=yes: users removed" "uid $uid is in use by another sandbox"
else
  t_eq "$(id -u imgatelog 2>/dev/null)" "" "PURGE=yes: users removed"
fi
