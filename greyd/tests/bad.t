#!/bin/sh
# greyd/tests/bad.t - what greyd refuses: a TCP listener off loopback
# (exit 100: the policy protocol has no access control); requests it
# cannot judge (too long, malformed, a client address that is no
# address): a warning line bad_request, never a decision or a store
# failure.
. "$IMGATE_TOP/tests/lib/common.sh"
. "$IMGATE_TOP/greyd/tests/lib.sh"

for l in inet:0.0.0.0:10023 192.0.2.1:10023 "unix:$GD_DIR/x.sock,[::]:10023"
do
  out=$(env LISTEN="$l" STORE="$GD_DIR/ldb" timeout 5 greyd 2>&1)
  rc=$?
  t_eq "$rc" 100 "LISTEN=$l: exit 100"
  t_eq "$out" "greyd: fatal: LISTEN: TCP only on loopback (127.0.0.0/8 \
or [::1]), the protocol has no access control: ${l##*,}" "LISTEN=$l: says why"
done
P=$(t_port)
env LISTEN="inet:127.0.0.1:$P,unix:$GD_DIR/lo.sock" STORE="$GD_DIR/ldb" \
  greyd 2> "$GD_DIR/lo.log" &
LO=$!
T_PIDS="$T_PIDS $LO"
t_wait_log "$GD_DIR/lo.log" 'store state=up' 10 &&
  t_ok "LISTEN on 127.0.0.1 and unix: accepted" ||
  t_fail "LISTEN on 127.0.0.1 and unix: accepted"
# a second greyd on the same endpoints (started by mistake) must not
# take them over: it would split the clients between two stores
for l in "inet:127.0.0.1:$P" "unix:$GD_DIR/lo.sock"; do
  out=$(env LISTEN="$l" STORE="$GD_DIR/ldb2" timeout 5 greyd 2>&1)
  t_eq "$?" 111 "a second greyd on $l: exit 111"
  t_match "$out" "fatal: unable to .* $l: Address already in use" \
    "a second greyd on $l: says why"
done
t_eq "$(gd_req "$GD_DIR/lo.sock" 192.0.2.7 unknown 192.0.2.7 a@example.org \
  b@example.com)" "action=DEFER_IF_PERMIT 4.7.1 Greylisted, please try \
again in 300 seconds" "the first greyd still answers"
t_stop $LO
# a LISTEN with no address in it (blank, or separators only)
for l in " " "," " , "; do
  out=$(env LISTEN="$l" STORE="$GD_DIR/ldb" timeout 5 greyd 2>&1)
  t_eq "$?" 100 "LISTEN='$l': exit 100"
  t_match "$out" "LISTEN: no address to listen on" "LISTEN='$l': says why"
done
out=$(env LISTEN="unix:relative.sock" STORE="$GD_DIR/ldb" timeout 5 greyd 2>&1)
t_eq "$?" 100 "LISTEN=unix:relative.sock: exit 100"

gd_start bad STORE="$GD_DIR/db" || { t_fail "greyd starts"; exit 1; }
S=$GD_DIR/bad.sock
# send BYTES: what greyd answers to them (the connection then closes)
send() { python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1])
s.sendall(sys.stdin.buffer.read()); s.shutdown(socket.SHUT_WR)
out = b""
while True:
    try: d = s.recv(65536)
    except OSError: break
    if not d: break
    out += d
print(out.decode(errors="replace").split("\n")[0])' "$S"; }
# nbad N: wait (at most 5 s) for the Nth bad_request line
nbad() { i=0; while [ "$(grep -c bad_request "$GD_DIR/bad.log")" -lt "$1" ] &&
  [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done; }

python3 -c 'print("request=smtpd_access_policy\nx=" + "a" * 100000)' |
  send > /dev/null
nbad 1
t_match "$(grep bad_request "$GD_DIR/bad.log" | sed -n 1p)" \
  '^greyd: warning: bad_request conn=[0-9]+ reason=too_long$' \
  "a 100 kB attribute: logged too_long"
python3 -c 'print("x=y\n" * 5000)' | send > /dev/null
nbad 2
t_match "$(grep bad_request "$GD_DIR/bad.log" | sed -n 2p)" \
  '^greyd: warning: bad_request conn=[0-9]+ reason=too_long$' \
  "5,000 attributes: logged too_long"
printf 'no equals sign\n\n' | send > /dev/null
nbad 3
t_match "$(grep bad_request "$GD_DIR/bad.log" | sed -n 3p)" \
  '^greyd: warning: bad_request conn=[0-9]+ reason=malformed$' \
  "a line without =: logged malformed"
for a in 999.1.1.1 not-an-address 2001:db8::zz; do
  t_eq "$(gd_req "$S" "$a" unknown x a@example.org b@example.com)" \
    "action=DUNNO" "client_address=$a: DUNNO"
done
sleep 0.3
t_eq "$(grep -c 'bad_request conn=[0-9]* reason=bad_client_address client=' \
  "$GD_DIR/bad.log")" 3 "each bad client address logged"
# no client_address at all (a tester's input: answered with no line)
t_eq "$(printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nsender=a@example.org\nrecipient=b@example.com\n\n' |
        socat -t 10 - "UNIX-CONNECT:$S" | head -1)" "action=DUNNO" \
  "no client_address: DUNNO"
nbad 7
t_match "$(grep bad_request "$GD_DIR/bad.log" | tail -1)" \
  '^greyd: warning: bad_request conn=[0-9]+ reason=no_client_address$' \
  "no client_address: logged"
t_eq "$(grep -c ' decision ' "$GD_DIR/bad.log")" 0 "no decision line for them"
t_eq "$(grep -c 'store failure' "$GD_DIR/bad.log")" 0 "no store failure"
gd_stop bad

# long NAME STORE: addresses of 512 bytes and more are cut and completed
# by a hash, then greylisted like any other (once: "Pass store failure")
X=$(python3 -c 'print("x" * 500)')
L1="$X@example.org" L2="y$X@example.org" L3="$X$X$X$X$X$X$X$X@example.org"
D="action=DEFER_IF_PERMIT 4.7.1 Greylisted, please try again in"
long() {
  gd_clock 0
  gd_start "$1" STORE="$2" || { t_fail "$1: greyd starts"; return 1; }
  S=$GD_DIR/$1.sock
  for s in "$L1 b@example.com" "$L2 b@example.com" "a@example.org $L1" \
           "$L3 $L3" "$L1 $L2"; do
    set -- "$1" "$2" $s
    t_eq "$(gd_req "$S" 192.0.2.10 unknown x "$3" "$4")" "$D 300 seconds" \
      "$1: ${#3}-byte sender, ${#4}-byte recipient: deferred"
  done
  gd_clock 100
  t_eq "$(gd_req "$S" 192.0.2.10 unknown x "$L3" "$L3")" "$D 200 seconds" \
    "$1: long triplet: early retry"
  gd_clock 400
  t_eq "$(gd_req "$S" 192.0.2.10 unknown x "$L3" "$L3")" "action=DUNNO" \
    "$1: long triplet: retry passes"
  t_eq "$(gd_req "$S" 192.0.2.10 unknown x "$L2" "$L1")" "$D 300 seconds" \
    "$1: another long triplet: still new"
  t_eq "$(grep -c 'reason="Reject new triplet"' "$GD_DIR/$1.log")" 6 \
    "$1: new triplets logged"
  t_eq "$(grep -c 'reason="Pass retry"' "$GD_DIR/$1.log")" 1 \
    "$1: retry logged"
  t_eq "$(grep -c 'store failure' "$GD_DIR/$1.log")" 0 \
    "$1: long addresses: no store failure"
  gd_stop "$1"
}
long lmdb "$GD_DIR/db"
. "$IMGATE_TOP/tests/lib/pg.sh"
if pg_usable; then
  if pg_start; then long pg "$PG_URI"; else t_fail "PostgreSQL starts"; fi
  pg_stop
else
  t_skip "long addresses in PostgreSQL" "no PostgreSQL or not root"
fi
