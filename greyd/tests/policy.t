#!/bin/sh
# greyd/tests/policy.t - greyd on the policy protocol, the same behaviour
# against LMDB and against a real PostgreSQL: greylisting with exact
# reasons and replies, normalised senders, unsuspicious clients, static
# whitelists reloaded when changed, auto-whitelisting, greyd-dump; then
# two greyd sharing one database, and the database failing and coming
# back.  Time passes through the test clock (GREYD_TEST_CLOCK).
. "$IMGATE_TOP/tests/lib/common.sh"
. "$IMGATE_TOP/greyd/tests/lib.sh"
. "$IMGATE_TOP/tests/lib/pg.sh"

W=$GD_DIR/wl
mkdir -p "$W"
printf '192.0.2.7\n' > "$W/clients"
printf 'postmaster@\n' > "$W/recipients"
printf 'example.edu\nalerts@example.net\n' > "$W/senders"
WL="WHITELIST_CLIENTS=$W/clients WHITELIST_RECIPIENTS=$W/recipients
WHITELIST_SENDERS=$W/senders"

G="action=DEFER_IF_PERMIT 4.7.1 Greylisted, please try again in"
DEFER300="$G 300 seconds"
A=a@example.org B=b@example.com

# ex REPLY WANT_REPLY WANT_REASON WHAT: the next decision of greyd $k
ex() {
  dn=$((dn+1))
  t_eq "$1" "$2" "$k: $4: reply"
  t_eq "$(gd_reason "$GD_DIR/$k.log" "$dn")" "$3" "$k: $4: reason"
}

greylisting() {
  k=$1; S=$GD_DIR/$k.sock; dn=0
  sus() { gd_req "$S" "$1" unknown "[$1]" "$2" "$3"; }
  gd_clock 0
  ex "$(sus 203.0.113.77 $A $B)" "$DEFER300" "Reject new triplet" \
    "suspicious client, new triplet"
  gd_clock 100
  ex "$(sus 203.0.113.77 $A $B)" "$G 200 seconds" "Reject early retry" \
    "early retry"
  gd_clock 301
  ex "$(sus 203.0.113.78 $A $B)" "action=DUNNO" "Pass retry" \
    "retry after the delay, same /24"
  gd_clock 400
  ex "$(sus 203.0.113.77 'prvs=1234abcdef=A+list@Example.ORG' B@example.com)" \
    "action=DUNNO" "Pass cached triplet" "BATV, extension and case normalised"
  ex "$(sus 203.0.113.77 '' $B)" "$DEFER300" "Reject new triplet" \
    "null sender is a triplet of its own"
  ex "$(sus 198.51.100.77 $A $B)" "$DEFER300" "Reject new triplet" \
    "other network is a new triplet"
  ex "$(gd_req "$S" 203.0.113.99 mail.example.net mail.example.net $A \
        c@example.com)" \
    "action=DUNNO" "Pass unsuspicious client" "unsuspicious client passes"
  t_match "$(grep ' decision ' "$GD_DIR/$k.log" | sed -n "${dn}p")" \
    ' class=none( |$)' "$k: unsuspicious logged class=none"
  r=$(gd_req "$S" 203.0.113.66 unknown x $A d@example.com DATA)
  t_eq "$r" "action=DUNNO" "$k: DATA stage passes"
  ex "$(sus 192.0.2.7 $A $B)" "action=DUNNO" "Pass whitelisted client" \
    "whitelisted client"
  ex "$(sus 203.0.113.66 $A Postmaster@example.com)" "action=DUNNO" \
    "Pass whitelisted recipient" "whitelisted recipient"
  ex "$(sus 203.0.113.66 a@cs.example.edu $B)" "action=DUNNO" \
    "Pass whitelisted sender" "whitelisted sender domain"
  ex "$(sus 203.0.113.66 prvs=1234abcdef=alerts@example.net $B)" \
    "action=DUNNO" "Pass whitelisted sender" "BATV: whitelisted unwrapped"
  ex "$(sus 203.0.113.66 SRS0=HHH=TT=example.edu=a+x@fwd.example $B)" \
    "action=DUNNO" "Pass whitelisted sender" "SRS: whitelisted unwrapped"
  # the client whitelist changes: reloaded without a signal
  sleep 1.1
  printf '192.0.2.7\n198.51.100.0/24\n' > "$W/clients.new"
  mv "$W/clients.new" "$W/clients"
  t_wait_log "$GD_DIR/$k.log" 'reload result=ok' 5 &&
    t_ok "$k: whitelist reloaded" || t_fail "$k: whitelist reloaded"
  ex "$(sus 198.51.100.77 $A $B)" "action=DUNNO" "Pass whitelisted client" \
    "newly whitelisted network"
  printf '192.0.2.7\n' > "$W/clients.new"; mv "$W/clients.new" "$W/clients"
  # auto-whitelisting: five passes, counted once an hour
  b=10000
  for s in alpha bravo charlie delta echo; do
    gd_clock $b
    ex "$(sus 203.0.113.9 $s@example.net awl@example.com)" "$DEFER300" \
      "Reject new triplet" "awl $s new"
    gd_clock $((b + 300))
    want="Pass retry"; [ $s = echo ] && want="Pass and auto-whitelist IP"
    ex "$(sus 203.0.113.9 $s@example.net awl@example.com)" "action=DUNNO" \
      "$want" "awl $s retry"
    b=$((b + 4000))
  done
  ex "$(sus 203.0.113.9 foxtrot@example.net awl@example.com)" \
    "action=DUNNO" "Pass new triplet from white listed IP" \
    "auto-whitelisted client"
  ex "$(sus 203.0.113.10 foxtrot@example.net awl@example.com)" \
    "$DEFER300" "Reject new triplet" "auto-whitelisting is per address"
  # greyd-dump lists what the store holds
  d=$(STORE=$2 greyd-dump -t | grep "$B" | grep "$A" | grep 203.0.113.0/24)
  t_eq "$(echo "$d" | cut -f2-4,7)" \
    "$(printf '203.0.113.0/24\t%s\t%s\t2' $A $B)" \
    "$k: greyd-dump shows the passed triplet"
  t_eq "$(STORE=$2 greyd-dump -c |
          awk -F'\t' '$2 == "203.0.113.9" { print $3 }')" 5 \
    "$k: greyd-dump shows the client count"
  t_eq "$(grep -c ' decision ' "$GD_DIR/$k.log")" $dn \
    "$k: one line per decision"
}

run_kind() {
  k=$1; store=$2
  gd_start "$k" STORE="$store" $WL || { t_fail "$k: greyd starts"; return 1; }
  greylisting "$k" "$store"
  eval "t_stop \$GD_PID_$k"
}

# the test clock said 2023: by the real clock everything is stale
expiry() {
  k=$1; store=$2
  before=$(greyd-dump "$store" | wc -l)
  t_eq "$(greyd-dump --expire "$store" 2>&1)" \
    "greyd-dump: expired $before records" "$k: greyd-dump --expire"
  t_eq "$(greyd-dump "$store" | wc -l)" 0 "$k: store empty after expiry"
}

run_kind lmdb "$GD_DIR/db"
expiry lmdb "$GD_DIR/db"

if ! pg_usable; then
  t_skip "pg" "needs root, user postgres and PostgreSQL 15 binaries"
  exit 0
fi
pg_start || { t_fail "PostgreSQL starts"; exit 1; }
run_kind pg "$PG_URI"

# two greyd on one database: what one learns, the other knows
gd_clock 50000
gd_start pa STORE="$PG_URI"
gd_start pb STORE="$PG_URI"
A=$GD_DIR/pa.sock B=$GD_DIR/pb.sock
t_eq "$(gd_req "$A" 203.0.113.120 unknown x s@example.org shared@example.com)" \
  "$DEFER300" "shared: first MX defers a new triplet"
gd_clock 50301
t_eq "$(gd_req "$B" 203.0.113.121 unknown x s@example.org shared@example.com)" \
  "action=DUNNO" "shared: second MX passes the retry"
t_eq "$(gd_reason "$GD_DIR/pb.log" 1)" "Pass retry" "shared: second MX reason"
t_eq "$(gd_req "$B" 203.0.113.9 unknown x golf@example.net awl@example.com)" \
  "action=DUNNO" "shared: client auto-whitelisted on one MX passes the other"
t_eq "$(gd_reason "$GD_DIR/pb.log" 2)" "Pass new triplet from white listed IP" \
  "shared: awl reason on the second MX"

# the database goes away: pass (never block mail), then reconnect
pg_stop
t_eq "$(gd_req "$A" 203.0.113.130 unknown x down@example.org b@example.com)" \
  "action=DUNNO" "store down: request passes"
t_eq "$(gd_reason "$GD_DIR/pa.log" 2)" "Pass store failure" "store down: reason"
t_wait_log "$GD_DIR/pa.log" 'store state=down' 5 &&
  t_ok "store down: logged" || t_fail "store down: logged"
pg_run || t_fail "PostgreSQL restarts"
w=0
while [ "$(grep -c 'store state=up' "$GD_DIR/pa.log")" -lt 2 ] &&
      [ $w -lt 700 ]; do
  sleep 0.1; w=$((w+1))
done
t_eq "$(grep -c 'store state=up' "$GD_DIR/pa.log")" 2 "store back: reconnected"
t_eq "$(gd_req "$A" 203.0.113.130 unknown x down@example.org b@example.com)" \
  "$DEFER300" "store back: greylisting again"
expiry pg "$PG_URI"
