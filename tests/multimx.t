#!/bin/sh
# tests/multimx.t - several MXs: two gateway instances (two Postfix, two
# greyd) share one PostgreSQL greylist.  A client greylisted at one MX
# passes its retry at the other; a client auto-whitelisted through one
# MX passes a new triplet at the other at once.
. "$IMGATE_TOP/tests/lib/common.sh"
. "$IMGATE_TOP/tests/lib/postfix.sh"
. "$IMGATE_TOP/tests/lib/pg.sh"
t_need_root multimx
[ -x "$IMGATE_BUILD/greyd" ] || { t_skip multimx "greyd is not built"; exit 0; }
pg_usable || { t_skip multimx "no PostgreSQL 15 or no user postgres"; exit 0; }
T=$(t_tmpdir)
pg_start || { t_fail "PostgreSQL starts"; exit 1; }

# greyd N: its socket T/gN.sock, its log T/gN.log; DELAY 2 s, a client
# whitelisted after 2 passes (each pass counts)
greyd_start() {
  env LISTEN=unix:$T/g$1.sock SOCKET_MODE=0666 STORE=$PG_URI DELAY=2 \
    AWL_CLIENTS=2 AWL_INTERVAL=0 greyd > "$T/g$1.log" 2>&1 &
  T_PIDS="$T_PIDS $!"
  t_wait_path "$T/g$1.sock" 20
}
greyd_start 1 || { t_fail "greyd 1 starts"; cat "$T/g1.log"; exit 1; }
greyd_start 2 || { t_fail "greyd 2 starts"; cat "$T/g2.log"; exit 1; }

# Postfix N on 127.0.0.1:252N, asking greyd N
mx_start() {
  PFX_DIR=$T/mx$1 PFX_PORT=252$1 PFX_POLICIES=unix:$T/g$1.sock pfx_start
  t_atexit "PFX_DIR=$T/mx$1 pfx_stop"
}
mx_start 1 || { t_fail "Postfix 1 starts"; exit 1; }
mx_start 2 || { t_fail "Postfix 2 starts"; exit 1; }

# a small server without a PTR: suspicious (PTRNUL), greylisted
rcpt() {   # MX FROM TO
  PFX_PORT=252$1 pfx_rcpt --from "$2" --to "$3" \
    --xclient "ADDR=192.0.2.77 NAME=[UNAVAILABLE] REVERSE_NAME=[UNAVAILABLE]" \
    --ehlo mail.example.net
}
reason() { grep "recipient=$2" "$T/g$1.log" | tail -n 1 | sed 's/.*reason="\([^"]*\)".*/\1/'; }

t_match "$(rcpt 1 a@example.net alice@example.com)" '^450 4\.7\.1 ' \
  "MX1: a new triplet is greylisted"
t_eq "$(reason 1 alice@example.com)" "Reject new triplet" "greyd 1: Reject new triplet"
t_match "$(rcpt 2 a@example.net alice@example.com)" '^450 4\.7\.1 ' \
  "MX2: the same triplet, too early, is refused again"
t_eq "$(reason 2 alice@example.com)" "Reject early retry" \
  "greyd 2 knows the triplet MX1 saw: Reject early retry"
sleep 3
t_match "$(rcpt 2 a@example.net alice@example.com)" '^250 ' \
  "MX2: the retry after the delay passes"
t_eq "$(reason 2 alice@example.com)" "Pass retry" "greyd 2: Pass retry"

# a second passed triplet through MX1 makes the client whitelisted
t_match "$(rcpt 1 a@example.net bob@example.com)" '^450 ' "MX1: another new triplet is greylisted"
sleep 3
t_match "$(rcpt 1 a@example.net bob@example.com)" '^250 ' "MX1: its retry passes"
t_eq "$(reason 1 bob@example.com)" "Pass and auto-whitelist IP" \
  "greyd 1: the client is auto-whitelisted"

# at the other MX, a triplet never seen passes at once
t_match "$(rcpt 2 z@example.org carol@example.com)" '^250 ' \
  "MX2: the whitelisted client passes a new triplet at once"
t_eq "$(reason 2 carol@example.com)" "Pass new triplet from white listed IP" \
  "greyd 2: Pass new triplet from white listed IP"
t_match "$(grep -c 'store=pg' "$T/g2.log")" '^[1-9]' "greyd 2 logs its store as pg"
