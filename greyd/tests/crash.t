#!/bin/sh
# greyd/tests/crash.t - kill -9 under load loses nothing greyd answered:
# every triplet greyd deferred before the kill is, after a restart on
# the same LMDB directory, an early retry (never a new triplet again).
. "$IMGATE_TOP/tests/lib/common.sh"
. "$IMGATE_TOP/greyd/tests/lib.sh"

gd_start crash STORE="$GD_DIR/db" || { t_fail "greyd starts"; exit 1; }
greyd-load -u "$GD_DIR/crash.sock" -c 16 -n 3000000 -t 60 \
  -w "$GD_DIR/answered" > "$GD_DIR/load1.out" 2>&1 &
LOAD=$!
T_PIDS="$T_PIDS $LOAD"
sleep 2
kill -9 "$GD_PID_crash"
wait "$LOAD"
cnt=$(wc -l < "$GD_DIR/answered")
t_match "$cnt" '^[1-9][0-9]{3,}$' \
  "thousands answered before kill -9 ($cnt)"
t_match "$(cat "$GD_DIR/load1.out")" 'errors=[1-9]' "the load saw greyd die"
gd_start after STORE="$GD_DIR/db" || { t_fail "greyd restarts"; exit 1; }
greyd-load -u "$GD_DIR/after.sock" -c 8 -f "$GD_DIR/answered" -t 120 \
  > "$GD_DIR/load2.out" 2>&1
t_match "$(cat "$GD_DIR/load2.out")" \
  "requests=$cnt .*defer=$cnt pass=0 other=0 errors=0" \
  "every answered request replayed and deferred"
t_eq "$(grep -c 'reason="Reject new triplet"' "$GD_DIR/after.log")" 0 \
  "no answered triplet was lost"
t_eq "$(grep -c 'reason="Reject early retry"' "$GD_DIR/after.log")" "$cnt" \
  "each replay is an early retry"
gd_stop after
greyd-dump -t "$GD_DIR/db" > "$GD_DIR/dump" 2>&1
t_eq "$?" 0 "greyd-dump reads the store after the crash"
