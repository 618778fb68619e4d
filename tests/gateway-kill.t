#!/bin/sh
# tests/gateway-kill.t - the demo's gateway under trafgen's traffic while
# each daemon is killed with SIGKILL, twice: supervise restarts every
# one, Postfix sees at most temporary failures (policy services fail
# open with default_action=DUNNO; acctd down is a 451), no legitimate
# message is lost or wrongly rejected (the MTA clients retry their 4xx),
# and every accepted message is delivered.
. "$IMGATE_TOP/tests/lib/common.sh"
t_need_root gateway-kill
have=""
for d in acctd greyd policyd; do
  [ -x "$IMGATE_BUILD/$d" ] && [ -d "$IMGATE_TOP/package/$d" ] && have="$have $d"
done
if [ -z "$have" ]; then
  t_skip gateway-kill "no daemon has its package/ service directory yet"
  exit 0
fi
out=$IMGATE_TESTLOGS/gateway-kill.out
DEMO_KILL=1 DEMO_CLIENTS=${KILL_T_CLIENTS:-500} DEMO_SEED=11 \
  timeout 400 "$IMGATE_TOP/tests/demo/run" "$IMGATE_BUILD" > "$out" 2>&1
rc=$?
t_eq "$rc" 0 "fault run exits 0"
kills=$(sed -n 's/^demo: \([0-9]*\) kills, restarted by supervise: \([0-9]*\)$/\1 \2/p' "$out")
set -- $kills
t_match "${1:-0}" '^[1-9][0-9]*$' "daemons were killed during the traffic"
t_eq "${2:-}" "${1:-x}" "supervise restarted every killed daemon"
t_match "$(grep '^trafgen: faults' "$out")" 'wrongly_rejected=0 lost=0$' \
  "no message lost or wrongly rejected"
acc=$(sed -n 's/^demo: accepted \([0-9]*\) messages, delivered \([0-9]*\), blocked by content scanning \([0-9]*\)$/\1 \2 \3/p' "$out")
set -- $acc
t_eq "$(( ${2:-0} + ${3:-0} ))" "${1:-x}" "every accepted message delivered (or blocked by amavis)"
t_eq "$(tail -n 1 "$out")" "demo: fault run: no mail lost or wrongly rejected" \
  "the demo's verdict"
[ "$rc" = 0 ] || tail -30 "$out" | sed 's/^/# /'
