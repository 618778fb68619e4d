#!/bin/sh
# greyd/tests/pipeline.t - many requests at once on one connection
# (pipelined: all written before any answer is read), and on many
# connections at once: every request answered, greyd still alive.
# Once a batch of more than 64 requests freed the array its keys
# pointed into (use after free, SIGSEGV).
. "$IMGATE_TOP/tests/lib/common.sh"
. "$IMGATE_TOP/greyd/tests/lib.sh"

P="$IMGATE_TOP/greyd/tests/pipeline.py"
gd_start pipe STORE="$GD_DIR/db" || { t_fail "greyd starts"; exit 1; }
for n in 65 200 1000; do
  t_eq "$(python3 "$P" "$GD_DIR/pipe.sock" $n 1 a$n)" \
    "answers=$n defer=$n other=0" "$n pipelined requests on one connection"
done
t_eq "$(python3 "$P" "$GD_DIR/pipe.sock" 200 20 b)" \
  "answers=4000 defer=4000 other=0" "200 pipelined requests on 20 connections"
t_eq "$(python3 "$P" "$GD_DIR/pipe.sock" 1000 1 a1000)" \
  "answers=1000 defer=1000 other=0" "the same 1000 again: all deferred"
t_eq "$(grep -c 'reason="Reject early retry"' "$GD_DIR/pipe.log")" 1000 \
  "logged as early retries"
# one triplet 40 times in one write: a batch is decided in slices, each
# sees what the ones before it stored; and within a slice, the requests
# before it (batches of one triplet went wrong once)
t_eq "$(python3 "$P" "$GD_DIR/pipe.sock" 40 1 s1 same)" \
  "answers=40 defer=40 other=0" "one triplet 40 times: all deferred"
t_eq "$(grep 'decision.* recipient=s1\.0\.0@example\.com' "$GD_DIR/pipe.log" |
        sed 's/.*reason="\([^"]*\)".*/\1/' | uniq -c |
        awk '{ $1 = $1; print }' | paste -sd,)" \
  "1 Reject new triplet,39 Reject early retry" \
  "one triplet 40 times: new once, then early retries, in order"
gd_clock 400
t_eq "$(python3 "$P" "$GD_DIR/pipe.sock" 40 1 s1 same)" \
  "answers=40 defer=0 other=40" "the same after the delay: all pass"
t_eq "$(grep 'decision.* recipient=s1\.0\.0@example\.com' "$GD_DIR/pipe.log" |
        sed 1,40d | sed 's/.*reason="\([^"]*\)".*/\1/' | uniq -c |
        awk '{ $1 = $1; print }' | paste -sd,)" \
  "1 Pass retry,39 Pass cached triplet" \
  "after the delay: one retry, then cached passes, in order"

# pipelined suspicious, clean and DATA-stage requests: answered in the
# order they came, though only the suspicious ones wait for the store;
# logged in that order too (the DATA one is not a decision)
t_eq "$(python3 "$IMGATE_TOP/greyd/tests/order.py" "$GD_DIR/pipe.sock" |
        paste -sd' ')" \
  "action=DEFER_IF_PERMIT action=DUNNO action=DEFER_IF_PERMIT action=DUNNO action=DUNNO" \
  "pipelined mixed requests: answered in order"
t_eq "$(grep 'decision' "$GD_DIR/pipe.log" | tail -4 |
        sed 's/.*reason="\([^"]*\)".* client=\([^ ]*\).*/\1 \2/' |
        paste -sd,)" \
  "Reject new triplet 192.0.2.10,Pass unsuspicious client 198.51.100.20,Reject new triplet 192.0.2.11,Pass unsuspicious client 198.51.100.21" \
  "pipelined mixed requests: logged in order"
kill -0 "$GD_PID_pipe" 2>/dev/null && t_ok "greyd alive" ||
  t_fail "greyd alive"
t_eq "$(grep -c 'store failure' "$GD_DIR/pipe.log")" 0 "no store failure"
gd_stop pipe
