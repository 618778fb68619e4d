#!/bin/sh
# tests/demo.t - make demo at a small size: the whole gateway in its
# sandbox on trafgen's traffic; fails when any report number differs
# from the ground truth, when a reply differs from the model, or when
# anything is left running.  Also checks that the comparison itself
# catches a wrong number.
. "$IMGATE_TOP/tests/lib/common.sh"
t_need_root demo
D=$(t_tmpdir)
out=$IMGATE_TESTLOGS/demo.out

# the comparison catches one number off, and names it
printf 'greyd\tPass retry\t7\ngreyd\tReject new triplet\t9\n' > "$D/truth"
printf 'greyd\tPass retry\t7\ngreyd\tReject new triplet\t8\n' > "$D/rep"
"$IMGATE_TOP/tests/demo/compare" "$D/truth" "$D/rep" > "$D/cmp"
t_eq "$?" 1 "compare: a differing number fails"
t_eq "$(grep '^demo:' "$D/cmp" | tr '\n' '|')" \
  'demo: greyd "Reject new triplet" differs: truth 9, report 8|demo: 1 of 2 report numbers match the ground truth|' \
  "compare: names the number that differs"
printf 'greyd\tPass retry\t7\n' > "$D/rep"
"$IMGATE_TOP/tests/demo/compare" "$D/truth" "$D/rep" > /dev/null
t_eq "$?" 1 "compare: a number missing from the report counts as 0"

before=$(ps -eo pid= | wc -l)
DEMO_CLIENTS=${DEMO_T_CLIENTS:-150} DEMO_SEED=5 \
  timeout 400 "$IMGATE_TOP/tests/demo/run" "$IMGATE_BUILD" > "$out" 2>&1
rc=$?
t_eq "$rc" 0 "demo exits 0"
t_match "$(tail -n 1 "$out")" \
  '^demo: ([0-9]+) of \1 report numbers match the ground truth$' \
  "demo: every report number matches the ground truth"
t_match "$(grep '^trafgen: .* sessions' "$out")" \
  ' 0 replies differ from the model$' "demo: every SMTP reply as the model says"
# the demo's processes are gone (svscan, supervise, the daemons, multilog,
# Postfix): none runs in, or names, a demo sandbox
sandbox=$(sed -n 's/^demo: sandbox \([^ ]*\).*/\1/p' "$out")
t_match "$sandbox" '^/tmp/imgate-demo\.' "demo: names its sandbox"
left=""
for p in /proc/[0-9]*; do
  c=$(readlink "$p/cwd" 2>/dev/null; tr '\0' ' ' 2>/dev/null < "$p/cmdline")
  case $c in *"$sandbox/"*|*"$sandbox "*) left="$left ${p#/proc/}" ;; esac
done
t_eq "$left" "" "demo: nothing left running"
[ "$rc" = 0 ] || tail -40 "$out" | sed 's/^/# /'
