#!/bin/sh
# tests/gateway-chroot.t - the gateway wired by package/install into a
# real Postfix whose smtpd runs chrooted in its queue directory, as
# Debian's master.cf has it, and left chrooted: the policy services'
# sockets are in the queue directory (named relative to it), acctd is
# asked through proxymap (proxy:socketmap).  Postfix runs before the
# install, which reloads it.  Exact SMTP replies: an unknown recipient
# 550 from acctd, a suspicious client 450 from greyd, a client policyd's
# rules refuse 554, a clean client accepted.  Then: a second install
# changes nothing, SMTPD_CHROOT_OFF=yes takes smtpd out of its chroot,
# the default puts back what an earlier install did that way (socket in
# RUN, smtpd unchrooted), uninstall restores Postfix and removes the
# sockets' directory.  Then a second site: every listener form of
# lib/endpoint.h (inet:, ADDR:PORT, a bare path, two endpoints), its own
# relay_recipient_maps kept, proxy_read_maps explicitly empty,
# postscreen's smtpd/pass, and a listener Postfix cannot be given
# refused.
TOP=$IMGATE_TOP B=$IMGATE_BUILD
. "$TOP/tests/lib/common.sh"
t_own_mounts gateway-chroot "$0" "$@"
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
# Postfix runs before the install: the install must reload it
pfx start > "$S/postfix.out" 2>&1 || sed 's/^/# /' "$S/postfix.out"
t_atexit pfx_stop
t_wait_tcp 2525 20 || t_fail "Postfix listens"
gw_first_install
uninst() { "$TOP/package/uninstall" > "$S/uninstall.out" 2>&1; }
t_atexit uninst
t_eq "$(grep reload "$S/install.out")" "install: postfix $PFX_DIR/etc reloaded" \
  "install reloads the running Postfix"

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

# swaks presents each client through XCLIENT (PTR name, address, HELO)
rcpt() {   # NAME ADDR HELO TO
  pfx_rcpt --from sender@example.net --to "$4" --ehlo "$3" \
    --xclient "ADDR=$2 NAME=$1 REVERSE_NAME=$1"
}
clean="mx.fabrikam.example 198.18.7.9 mx.fabrikam.example"
# no manual reload: the master has its SIGHUP (5 s at most)
rcpt_until() {   # PATTERN NAME ADDR HELO TO
  pat=$1; shift; i=0
  while r=$(rcpt "$@"); [ $i -lt 10 ]; do
    printf '%s\n' "$r" | grep -Eq "$pat" && break
    sleep 0.5; i=$((i+1))
  done
  echo "$r"
}
t_match "$(rcpt_until '^550 ' $clean nobody@example.com)" \
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
install: postfix 127.0.0.1:2525/inet chroot = y
install: postfix $PFX_DIR/etc reloaded" \
  "the default moves greyd's socket and puts back smtpd's chroot"
t_eq "$(pc -n; pc -M)" "$conf" "Postfix as the first install left it"
t_wait_path "$Q/imgate/greyd/policy" 10 ||
  t_fail "greyd restarted on its new socket"
r=$(rcpt_until '^450 ' '[UNAVAILABLE]' 192.0.2.99 mail.example.net alice@example.com)
t_match "$r" '^450 4\.7\.1 ' "greyd greylists again through the chroot (no manual reload)"
p=$(pgrep -x -P "$(pfx_master_pid)" smtpd | head -n 1)
t_eq "$(readlink "/proc/${p:-0}/root")" "$Q" "smtpd chrooted again"

uninst; rc=$?
t_eq "$rc" 0 "uninstall exits 0"
t_eq "$(grep reload "$S/uninstall.out")" "uninstall: postfix $PFX_DIR/etc reloaded" \
  "uninstall reloads the running Postfix"
t_match "$(rcpt_until '^250 ' $clean nobody@example.com)" '^250 2\.1\.5 Ok$' \
  "uninstall: the running Postfix no longer asks acctd (no manual reload)"
pfx_stop
t_eq "$(pc -n)" "$before" "uninstall: main.cf as before the install"
t_eq "$(pc -M)" "$beforeM" "uninstall: master.cf as before the install"
t_eq "$(ls -A "$Q/imgate" 2>&1 >/dev/null | grep -c 'No such')" 1 \
  "uninstall: QUEUE/imgate removed"

# ---- a second site: every listener form, its own maps, postscreen ----
# relay_recipient_maps of its own (carol is only there), proxy_read_maps
# explicitly empty, postscreen in front of smtpd/pass (both chrooted)
printf 'carol@example.com OK\n' > "$S/relay_recipients"
PFX_MAIN_EXTRA="relay_recipient_maps = hash:$S/relay_recipients
proxy_read_maps =
inet_protocols = all"
pfx_write_config
postmap -c "$PFX_DIR/etc" "hash:$S/relay_recipients"
cat >> "$PFX_DIR/etc/master.cf" <<EOC
127.0.0.1:2526 inet n - y - 1 postscreen
smtpd     pass  - - y - - smtpd
EOC
touch -d '10 seconds ago' "$PFX_DIR/etc/main.cf" "$PFX_DIR/etc/master.cf"
before=$(pc -n) beforeM=$(pc -M)
pfx start > "$S/postfix.out" 2>&1 || sed 's/^/# /' "$S/postfix.out"
t_wait_tcp 2525 20 || t_fail "Postfix listens again"
E=$ROOT/etc/imgate/service
for d in acctd greyd policyd; do mkdir -p "$E/$d/env"; done
# acctd(8)'s inet form, greyd's bare path, policyd's ADDR:PORT; first a
# host name, which neither Postfix's policy client nor the daemon takes
echo "inet:127.0.0.1:10031" > "$E/acctd/env/SOCKETMAP"
echo "$Q/imgate/greyd/policy" > "$E/greyd/env/LISTEN"
echo "mx.example.com:10040" > "$E/policyd/env/LISTEN"
"$TOP/package/install" "$S/build" > "$S/install.out" 2> "$S/install.err"
t_eq "$?" 100 "a listener Postfix cannot be given: install exits 100"
t_eq "$(cat "$S/install.err")" \
  "install: fatal: policyd's LISTEN: cannot wire \"mx.example.com:10040\": Postfix needs unix:/path, /path, inet:ADDR:PORT or ADDR:PORT (ADDR IPv4 or [IPv6])" \
  "a listener Postfix cannot be given: refused, and why"
t_eq "$(pc -n; pc -M)" "$before
$beforeM" "refused: Postfix untouched"
t_eq "$(ls "$ROOT/etc/service" 2>/dev/null)" "" "refused: no service started"

echo "127.0.0.1:10040" > "$E/policyd/env/LISTEN"
inst; rc=$?
t_eq "$rc" 0 "every listener form: install exits 0"
[ "$rc" = 0 ] || sed 's/^/# /' "$S/install.out"
t_eq "$(pc -h relay_recipient_maps)" \
  "proxy:socketmap:inet:127.0.0.1:10031:accounts, hash:$S/relay_recipients" \
  "acctd's inet: form through proxymap, the site's map kept after it"
t_eq "$(grep "the site's" "$S/install.out")" \
  "install: postfix relay_recipient_maps: the site's hash:$S/relay_recipients kept, after acctd's" \
  "install says it kept the site's map"
t_eq "$(pc -h proxy_read_maps)" '$relay_recipient_maps' \
  "proxy_read_maps explicitly empty: \$relay_recipient_maps added"
t_eq "$(pc -h smtpd_recipient_restrictions)" \
  "$first, $(policy imgate/greyd/policy), check_policy_service { inet:127.0.0.1:10040, default_action=DUNNO }" \
  "a bare path in the queue directory, ADDR:PORT as inet:"
t_eq "$(grep reload "$S/install.out")" "install: postfix $PFX_DIR/etc reloaded" \
  "the running Postfix reloaded"
t_wait_tcp 10031 20 || t_fail "acctd listens on 127.0.0.1:10031"
t_wait_tcp 10040 20 || t_fail "policyd listens on 127.0.0.1:10040"
t_wait_path "$Q/imgate/greyd/policy" 20 || t_fail "greyd on its bare path"
t_match "$(rcpt_until '^550 ' $clean nobody@example.com)" \
  '^550 5\.1\.1 <nobody@example\.com>: Recipient address rejected: User unknown in relay recipient table$' \
  "acctd by inet: through proxymap: 550 (proxy_read_maps was empty)"
t_match "$(rcpt $clean carol@example.com)" '^250 2\.1\.5 Ok$' \
  "a recipient only in the site's own map: 250"
t_match "$(rcpt $clean alice@example.com)" '^250 2\.1\.5 Ok$' \
  "a recipient acctd knows: 250"
t_match "$(rcpt '[UNAVAILABLE]' 192.0.2.177 mail.example.net bob@example.com)" \
  '^450 4\.7\.1 <bob@example\.com>: Recipient address rejected: ' \
  "greyd on a bare path: 450 4.7.1"
t_match "$(rcpt '[UNAVAILABLE]' 192.0.2.178 '[192.0.2.178]' bob@example.com)" \
  '^554 5\.7\.1 <bob@example\.com>: Recipient address rejected: Rejected by policy \(PTRNUL HELO_IP\)$' \
  "policyd on 127.0.0.1:10040: 554 5.7.1"

# the same again: nothing grows, nothing said
conf=$(pc -n; pc -M)
inst
t_eq "$(cat "$S/install.out")" "install: done: acctd greyd policyd" \
  "the site's maps: a second install says nothing but done"
t_eq "$(pc -n; pc -M)" "$conf" "the site's maps: a second install changes nothing"

# proxy_read_maps of a site in the comma form: added once, not twice
pc -e 'proxy_read_maps = $local_recipient_maps, $relay_recipient_maps'
inst
t_eq "$(pc -h proxy_read_maps)" '$local_recipient_maps, $relay_recipient_maps' \
  "proxy_read_maps in the comma form that has it: left alone"
pc -e 'proxy_read_maps = $local_recipient_maps, $mydestination'
inst
t_eq "$(pc -h proxy_read_maps)" \
  '$local_recipient_maps, $mydestination, $relay_recipient_maps' \
  "proxy_read_maps in the comma form without it: added once"
inst
t_eq "$(pc -h proxy_read_maps)" \
  '$local_recipient_maps, $mydestination, $relay_recipient_maps' \
  "proxy_read_maps in the comma form: not added twice"
pc -e 'proxy_read_maps ='

# two endpoints separated by a space: the unix socket in the queue
# directory is wired, though it comes second
echo "127.0.0.1:10041 unix:$Q/imgate/greyd/policy" > "$E/greyd/env/LISTEN"
svc -t "$E/greyd"
inst
t_eq "$(pc -h smtpd_recipient_restrictions)" \
  "$first, $(policy imgate/greyd/policy), check_policy_service { inet:127.0.0.1:10040, default_action=DUNNO }" \
  "two endpoints: one wired, the queue directory's socket"
t_wait_tcp 10041 20 || t_fail "greyd listens on both"
t_match "$(rcpt '[UNAVAILABLE]' 192.0.2.179 mail.example.net bob@example.com)" \
  '^450 4\.7\.1 <bob@example\.com>: Recipient address rejected: ' \
  "two endpoints: smtpd alive, greyd greylists (450 4.7.1)"
echo "inet:127.0.0.1:10041, inet:127.0.0.1:10042" > "$E/greyd/env/LISTEN"
svc -t "$E/greyd"
inst
t_eq "$(pc -h smtpd_recipient_restrictions)" \
  "$first, check_policy_service { inet:127.0.0.1:10041, default_action=DUNNO }, check_policy_service { inet:127.0.0.1:10040, default_action=DUNNO }" \
  "two inet endpoints: the first wired"
t_wait_tcp 10042 20 || t_fail "greyd listens on 10041 and 10042"
t_match "$(rcpt_until '^450 ' '[UNAVAILABLE]' 192.0.2.180 mail.example.net bob@example.com)" \
  '^450 4\.7\.1 <bob@example\.com>: Recipient address rejected: ' \
  "greyd by inet: 450 4.7.1"

# a socket outside the queue directory: wired by its full path, and
# the chrooted smtpd that cannot reach it named
G=$ROOT/run/imgate/greyd/policy
echo "$G" > "$E/greyd/env/LISTEN"
svc -t "$E/greyd"
inst
t_eq "$(grep -v '^install: done' "$S/install.out")" \
"install: warning: 127.0.0.1:2525/inet runs chrooted in $Q: it cannot reach $G (put the socket inside $Q, or SMTPD_CHROOT_OFF=yes)
install: postfix smtpd_recipient_restrictions = $first, $(policy "$G"), check_policy_service { inet:127.0.0.1:10040, default_action=DUNNO }
install: postfix $PFX_DIR/etc reloaded" \
  "a socket outside the queue directory: its full path, and a warning"

# SMTPD_CHROOT_OFF=yes: every smtpd, postscreen's smtpd/pass too
SMTPD_CHROOT_OFF=yes inst
t_eq "$(grep -c warning "$S/install.out")" 0 \
  "SMTPD_CHROOT_OFF=yes: no warning about the socket outside the queue"
t_wait_path "$G" 20 || t_fail "greyd on $G"
t_match "$(rcpt_until '^450 ' '[UNAVAILABLE]' 192.0.2.181 mail.example.net bob@example.com)" \
  '^450 4\.7\.1 <bob@example\.com>: Recipient address rejected: ' \
  "the unchrooted smtpd reaches greyd's socket outside the queue: 450 4.7.1"
t_eq "$(pc -F 127.0.0.1:2525/inet/chroot smtpd/pass/chroot \
    127.0.0.1:2526/inet/chroot)" \
"127.0.0.1:2525/inet/chroot = n
127.0.0.1:2526/inet/chroot = y
smtpd/pass/chroot = n" \
  "SMTPD_CHROOT_OFF=yes: smtpd/pass out of its chroot too, postscreen left"

# IPv6: acctd and policyd on [::1], Postfix's socketmap and policy
# client take the brackets
if ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/'; then
  echo "inet:[::1]:10031" > "$E/acctd/env/SOCKETMAP"
  echo "[::1]:10040" > "$E/policyd/env/LISTEN"
  svc -t "$E/acctd" "$E/policyd"
  SMTPD_CHROOT_OFF=yes inst
  t_eq "$(pc -h relay_recipient_maps)" \
    "proxy:socketmap:inet:[::1]:10031:accounts, hash:$S/relay_recipients" \
    "acctd on [::1]: proxy:socketmap:inet:[::1]:PORT"
  t_eq "$(pc -h smtpd_recipient_restrictions)" \
    "$first, $(policy "$G"), check_policy_service { inet:[::1]:10040, default_action=DUNNO }" \
    "policyd on [::1]: inet:[::1]:PORT"
  sleep 1
  t_match "$(rcpt_until '^550 ' $clean nobody@example.com)" '^550 5\.1\.1 ' \
    "acctd over IPv6 through proxymap: 550 5.1.1"
  t_match "$(rcpt '[UNAVAILABLE]' 192.0.2.182 '[192.0.2.182]' bob@example.com)" \
    '^554 5\.7\.1 <bob@example\.com>: Recipient address rejected: Rejected by policy \(PTRNUL HELO_IP\)$' \
    "policyd over IPv6: 554 5.7.1"
else
  t_skip "IPv6 listeners" "no ::1 on lo in this namespace"
fi

uninst; rc=$?
t_eq "$rc" 0 "the second site: uninstall exits 0"
pfx_stop
t_eq "$(pc -n)" "$before" "the second site: main.cf as before (its own map, proxy_read_maps =)"
t_eq "$(pc -M)" "$beforeM" "the second site: master.cf as before (smtpd/pass chrooted)"
