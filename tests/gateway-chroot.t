#!/bin/sh
# tests/gateway-chroot.t - the gateway wired by package/install into a
# real Postfix whose smtpd runs chrooted in its queue directory, as
# Debian's master.cf has it, and left chrooted: the policy services'
# sockets are in the queue directory (named relative to it), acctd is
# asked through proxymap (proxy:socketmap).  Exact SMTP replies: an
# unknown recipient 550 from acctd, a suspicious client 450 from greyd,
# a client policyd's rules refuse 554, a clean client accepted.  Then:
# a second install changes nothing, SMTPD_CHROOT_OFF=yes takes smtpd out
# of its chroot, the default puts back what an earlier install did that
# way (socket in RUN, smtpd unchrooted), uninstall restores Postfix and
# removes the sockets' directory.
[ -n "${IMGATE_GW_NS:-}" ] || {
  [ "$(id -u)" = 0 ] || { echo "skip - gateway-chroot: needs root"; exit 0; }
  IMGATE_GW_NS=1 exec unshare -m "$0" "$@"; }
TOP=$IMGATE_TOP B=$IMGATE_BUILD
. "$TOP/tests/lib/common.sh"
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/demo/lib.sh"
PATH=$B:/usr/sbin:$PATH
for d in acctd acctd-data greyd policyd; do
  [ -x "$B/$d" ] || { t_skip gateway-chroot "$d is not built"; exit 0; }
done
command -v swaks >/dev/null || { t_skip gateway-chroot "no swaks"; exit 0; }
S=$(t_tmpdir)
demo_private_etc "$S"
ROOT=$S/root PFX_DIR=$S/postfix PFX_CHROOT=y PFX_PORT=2525
Q=$PFX_DIR/queue
# a site's own proxy_read_maps, without $relay_recipient_maps
PFX_MAIN_EXTRA='proxy_read_maps = $local_recipient_maps $mydestination'
pfx_write_config
pc() { postconf -c "$PFX_DIR/etc" "$@"; }
before=$(pc -n) beforeM=$(pc -M)
t_eq "$(pc -F 127.0.0.1:2525/inet/chroot)" "127.0.0.1:2525/inet/chroot = y" \
  "the instance's smtpd is chrooted before the install"
mkdir -p "$ROOT/etc/imgate/acctd"
printf 'alice@example.com\nbob@example.com\n' > "$ROOT/etc/imgate/acctd/accounts.txt"
export ROOT POSTFIX_CONFIG=$PFX_DIR/etc RELAY_DOMAINS=example.com \
  DAEMONS="acctd greyd policyd" CRON=no
mkdir -p "$S/build"
for p in acctd acctd-data greyd greyd-dump policyd; do cp "$B/$p" "$S/build/"; done
inst() { "$TOP/package/install" "$S/build" > "$S/install.out" 2>&1; }
inst; rc=$?
t_eq "$rc" 0 "install exits 0"
[ "$rc" = 0 ] || sed 's/^/# /' "$S/install.out"
svscan=$(sed -n 's/^install: svscan .* started (pid \([0-9]*\))$/\1/p' "$S/install.out")
[ -n "$svscan" ] && t_atexit "kill $svscan"
uninst() { "$TOP/package/uninstall" > "$S/uninstall.out" 2>&1; }
t_atexit uninst

t_eq "$(pc -F 127.0.0.1:2525/inet/chroot)" "127.0.0.1:2525/inet/chroot = y" \
  "install leaves smtpd chrooted"
t_eq "$(stat -c '%U:%G %a' "$Q/imgate")" "root:root 755" \
  "QUEUE/imgate: root's, not writable by others"
for d in greyd policyd; do
  t_eq "$(stat -c '%U:%G %a' "$Q/imgate/$d")" "$d:$d 750" \
    "QUEUE/imgate/$d: $d's, closed to all but its group"
  t_eq "$(cat "$ROOT/etc/imgate/service/$d/env/LISTEN")" \
    "unix:$Q/imgate/$d/policy" "$d: listens in Postfix's queue directory"
done
t_match "$(id -nG postfix)" '(^| )greyd( .*)? policyd( |$)|(^| )policyd( .*)? greyd( |$)' \
  "postfix is in greyd's and policyd's groups"
first="reject_unauth_destination, reject_unlisted_recipient, permit_mynetworks"
policy() { echo "check_policy_service { unix:$1, default_action=DUNNO }"; }
t_eq "$(pc -h smtpd_recipient_restrictions)" \
  "$first, $(policy imgate/greyd/policy), $(policy imgate/policyd/policy)" \
  "policy services named relative to the queue directory"
t_eq "$(pc -h relay_recipient_maps)" \
  "proxy:socketmap:unix:$ROOT/run/imgate/acctd/socketmap:accounts" \
  "acctd through proxymap"
t_eq "$(pc -h proxy_read_maps)" \
  '$local_recipient_maps $mydestination $relay_recipient_maps' \
  "a site's proxy_read_maps gets \$relay_recipient_maps added"

t_eq "$(postfix -c "$PFX_DIR/etc" check 2>&1)" "" \
  "postfix check: nothing to say about QUEUE/imgate"
for s in "$ROOT/run/imgate/acctd/socketmap" "$Q/imgate/greyd/policy" \
         "$Q/imgate/policyd/policy"; do
  t_wait_path "$s" 20 || t_fail "socket $s"
done
t_eq "$(stat -c '%G %a' "$Q/imgate/greyd/policy")" "greyd 660" \
  "greyd's socket: its group's only"
pfx start > "$S/postfix.out" 2>&1 || sed 's/^/# /' "$S/postfix.out"
t_atexit pfx_stop
t_wait_tcp 2525 20 || t_fail "Postfix listens"

# swaks presents each client through XCLIENT (PTR name, address, HELO)
rcpt() {   # NAME ADDR HELO TO
  pfx_rcpt --from sender@example.net --to "$4" --ehlo "$3" \
    --xclient "ADDR=$2 NAME=$1 REVERSE_NAME=$1"
}
clean="mx.fabrikam.example 198.18.7.9 mx.fabrikam.example"
t_match "$(rcpt $clean nobody@example.com)" \
  '^550 5\.1\.1 <nobody@example\.com>: Recipient address rejected: User unknown in relay recipient table$' \
  "unknown recipient: 550 5.1.1 from acctd through proxymap"
t_match "$(rcpt $clean alice@example.com)" '^250 2\.1\.5 Ok$' \
  "a clean client, a known recipient: 250 (greyd and policyd say DUNNO)"
t_match "$(rcpt '[UNAVAILABLE]' 192.0.2.77 mail.example.net bob@example.com)" \
  '^450 4\.7\.1 <bob@example\.com>: Recipient address rejected: ' \
  "a client without PTR: 450 4.7.1 greylisted by greyd"
r=$(rcpt '[UNAVAILABLE]' 192.0.2.78 '[192.0.2.78]' bob@example.com)
t_match "$r" \
  '^554 5\.7\.1 <bob@example\.com>: Recipient address rejected: Rejected by policy \(PTRNUL HELO_IP\)$' \
  "no PTR and an IP literal HELO: 554 from policyd (its REJECT wins)"
t_match "$(grep 'reason="Reject new triplet"' "$ROOT/var/log/imgate/greyd/current")" \
  ' client=192\.0\.2\.77 .*ptr=unknown class=PTRNUL ' "greyd logs the triplet it greylisted"
L=$(pfx_log)
t_eq "$(grep -c 'warning: .*imgate/\(greyd\|policyd\)/policy' "$L")" 0 \
  "smtpd reached both policy services (no connect warning)"
t_match "$(pfx_send --from sender@example.net --to alice@example.com \
    --ehlo mx.fabrikam.example \
    --xclient 'ADDR=198.18.7.9 NAME=mx.fabrikam.example REVERSE_NAME=mx.fabrikam.example')" \
  '^250 2\.0\.0 Ok: queued as ' "a clean client's message accepted"
p=$(pgrep -x -P "$(pfx_master_pid)" smtpd | head -n 1)
t_eq "$(readlink "/proc/${p:-0}/root")" "$Q" "smtpd runs chrooted in the queue directory"

# acctd down: 451 4.3.0 through proxymap, never a 550; back up: 550
svc -d "$ROOT/etc/imgate/service/acctd"
i=0
while svstat "$ROOT/etc/imgate/service/acctd" | grep -q ': up ' && [ $i -lt 50 ]
do sleep 0.1; i=$((i+1)); done
t_match "$(rcpt $clean nobody@example.com)" \
  '^451 4\.3\.0 <nobody@example\.com>: Temporary lookup failure$' \
  "acctd down: 451 4.3.0 (deferred, not bounced)"
svc -u "$ROOT/etc/imgate/service/acctd"
t_wait_path "$ROOT/run/imgate/acctd/socketmap" 10
i=0
while r=$(rcpt $clean nobody@example.com); [ $i -lt 20 ]; do
  case $r in 550*) break ;; esac; sleep 0.5; i=$((i+1))
done
t_match "$r" '^550 5\.1\.1 ' "acctd up again: 550 (proxymap reconnects)"

# why proxymap: the same map opened by the chrooted smtpd itself fails
# (the reply once the reloaded smtpd answers it: 10 s at most)
map=$(pc -h relay_recipient_maps)
pfx_map() {   # MAP REPLY-PATTERN
  pc -e "relay_recipient_maps = $1"
  touch -d '10 seconds ago' "$PFX_DIR/etc/main.cf"; pfx reload >/dev/null 2>&1
  i=0
  while r=$(rcpt $clean nobody@example.com); [ $i -lt 20 ]; do
    printf '%s\n' "$r" | grep -Eq "$2" && break
    sleep 0.5; i=$((i+1))
  done
  echo "$r"
}
t_match "$(pfx_map "${map#proxy:}" '^451 ')" '^451 4\.3\.0 ' \
  "without proxy: the chrooted smtpd cannot reach acctd (451 4.3.0)"
t_match "$(pfx_map "$map" '^550 ')" '^550 5\.1\.1 ' "with proxy: 550 again"

# a second install: nothing to do
conf=$(pc -n; pc -M)
inst
t_eq "$(cat "$S/install.out")" "install: done: acctd greyd policyd" \
  "a second install says nothing but done"
t_eq "$(pc -n; pc -M)" "$conf" "a second install changes nothing in Postfix"

# SMTPD_CHROOT_OFF=yes is still an option
SMTPD_CHROOT_OFF=yes inst
t_eq "$(pc -F 127.0.0.1:2525/inet/chroot)" "127.0.0.1:2525/inet/chroot = n" \
  "SMTPD_CHROOT_OFF=yes: smtpd out of its chroot"

# an earlier install's state: smtpd out of its chroot (above), greyd on
# RUN's socket named by its full path.  The default undoes all of it.
G=$ROOT/etc/imgate/service/greyd
echo "unix:$ROOT/run/imgate/greyd/policy" > "$G/env/LISTEN"
svc -t "$G"; t_wait_path "$ROOT/run/imgate/greyd/policy" 10
pc -e "smtpd_recipient_restrictions = $first, $(policy "$ROOT/run/imgate/greyd/policy")"
inst
r=$(pc -h smtpd_recipient_restrictions)
t_eq "$(grep -v '^install: done' "$S/install.out")" \
"install: greyd: socket unix:$Q/imgate/greyd/policy (Postfix's queue directory)
install: postfix smtpd_recipient_restrictions = $r
install: postfix 127.0.0.1:2525/inet chroot = y" \
  "the default moves greyd's socket and puts back smtpd's chroot"
t_eq "$(pc -n; pc -M)" "$conf" "Postfix as the first install left it"
t_wait_path "$Q/imgate/greyd/policy" 10 ||
  t_fail "greyd restarted on its new socket"
touch -d '10 seconds ago' "$PFX_DIR/etc/main.cf" "$PFX_DIR/etc/master.cf"
pfx reload >/dev/null 2>&1
i=0
while r=$(rcpt '[UNAVAILABLE]' 192.0.2.99 mail.example.net alice@example.com)
      [ $i -lt 20 ]; do
  case $r in 450*) break ;; esac; sleep 0.5; i=$((i+1))
done
t_match "$r" '^450 4\.7\.1 ' "greyd greylists again through the chroot"
p=$(pgrep -x -P "$(pfx_master_pid)" smtpd | head -n 1)
t_eq "$(readlink "/proc/${p:-0}/root")" "$Q" "smtpd chrooted again"

pfx_stop
uninst; rc=$?
t_eq "$rc" 0 "uninstall exits 0"
t_eq "$(pc -n)" "$before" "uninstall: main.cf as before the install"
t_eq "$(pc -M)" "$beforeM" "uninstall: master.cf as before the install"
t_eq "$(ls -A "$Q/imgate" 2>&1 >/dev/null | grep -c 'No such')" 1 \
  "uninstall: QUEUE/imgate removed"
