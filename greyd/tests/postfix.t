#!/bin/sh
# greyd/tests/postfix.t - greyd behind a real Postfix on loopback, with
# XCLIENT presenting different client addresses, PTR names and HELOs;
# the same behaviour against LMDB and against PostgreSQL.
. "$IMGATE_TOP/tests/lib/common.sh"
t_need_root "greyd behind Postfix"
. "$IMGATE_TOP/tests/lib/postfix.sh"
. "$IMGATE_TOP/greyd/tests/lib.sh"
. "$IMGATE_TOP/tests/lib/pg.sh"

# rcpt ADDR NAME HELO FROM TO: the reply to RCPT TO
rcpt() {
  pfx_rcpt --xclient "ADDR=$1 NAME=$2 REVERSE_NAME=$2" --ehlo "$3" \
    --from "$4" --to "$5"
}

GREY="Recipient address rejected: Greylisted, please try again in"

behaviour() {
  k=$1
  gd_clock 0
  r=$(rcpt 203.0.113.77 '[UNAVAILABLE]' pc01 a@example.org b@example.com)
  t_eq "$r" "450 4.7.1 <b@example.com>: $GREY 300 seconds" \
    "$k: suspicious client gets 450 4.7.1"
  gd_clock 120
  r=$(rcpt 203.0.113.77 '[UNAVAILABLE]' pc01 a@example.org b@example.com)
  t_eq "$r" "450 4.7.1 <b@example.com>: $GREY 180 seconds" \
    "$k: early retry refused again"
  gd_clock 301
  r=$(rcpt 203.0.113.77 '[UNAVAILABLE]' pc01 a@example.org b@example.com)
  t_eq "$r" "250 2.1.5 Ok" "$k: accepted after the delay"
  r=$(pfx_send --xclient "ADDR=203.0.113.77 NAME=[UNAVAILABLE]" \
      --ehlo pc01 --from a@example.org --to b@example.com)
  t_match "$r" '^250 2\.0\.0 Ok: queued' "$k: the retried message is queued"
  r=$(rcpt 198.51.100.25 mx1.example.net mx1.example.net x@example.net \
      b@example.com)
  t_eq "$r" "250 2.1.5 Ok" "$k: unsuspicious client accepted at once"
  r=$(rcpt 198.51.100.26 dsl-198-51-100-26.dyn.example.net \
      dsl-198-51-100-26.dyn.example.net x@example.net b@example.com)
  t_match "$r" "^450 4\.7\.1 " "$k: dynamic PTR and HELO greylisted"
  for s in alpha bravo charlie delta echo; do
    case $s in alpha) b=10000 ;; bravo) b=14000 ;; charlie) b=18000 ;;
      delta) b=22000 ;; echo) b=26000 ;; esac
    gd_clock $b
    r1=$(rcpt 203.0.113.9 '[UNAVAILABLE]' '[203.0.113.9]' $s@example.net \
         c@example.com)
    gd_clock $((b + 301))
    r2=$(rcpt 203.0.113.9 '[UNAVAILABLE]' '[203.0.113.9]' $s@example.net \
         c@example.com)
    t_eq "${r1%% *} ${r2%% *}" "450 250" "$k: pass $s after greylisting"
  done
  t_match "$(grep 'client=203.0.113.9 ' "$GD_DIR/$k.log" | tail -1)" \
    'reason="Pass and auto-whitelist IP"' "$k: fifth pass auto-whitelists"
  r=$(rcpt 203.0.113.9 '[UNAVAILABLE]' '[203.0.113.9]' new@example.net \
      c@example.com)
  t_eq "$r" "250 2.1.5 Ok" "$k: auto-whitelisted client accepted at once"
  t_match "$(grep 'client=203.0.113.9 ' "$GD_DIR/$k.log" | tail -1)" \
    'reason="Pass new triplet from white listed IP"' "$k: whitelisted reason"
}

PFX_POLICIES="unix:$GD_DIR/lmdb.sock"
gd_start lmdb STORE="$GD_DIR/db" || { t_fail "greyd starts"; exit 1; }
pfx_start || { t_fail "postfix starts"; exit 1; }
behaviour lmdb
if pg_start; then
  gd_start pg STORE="$PG_URI" || t_fail "greyd on PostgreSQL starts"
  PFX_POLICIES="unix:$GD_DIR/pg.sock"
  pfx_reload
  sleep 1
  behaviour pg
else
  t_skip "pg" "no PostgreSQL to start"
fi
