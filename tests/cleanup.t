#!/bin/sh
# tests/cleanup.t - a test that ends by a signal still removes its
# directories and stops what it started: TERM (tests/run's timeout), HUP
# (the session that ran it gone) and PIPE (its output piped into head,
# which leaves early).  HUP and PIPE left /tmp/imgate-t.* and the test's
# processes behind when only TERM and INT ran the exit trap.  (INT is
# not tried: a background shell ignores it.)
. "$IMGATE_TOP/tests/lib/common.sh"
D=$(t_tmpdir)

# A stand-in test: a directory, a background process, then output line
# after line until it is stopped (the wait is short: a trap runs between
# two commands, never during a sleep).
cat > "$D/victim.t" <<'EOV'
. "$IMGATE_TOP/tests/lib/common.sh"
V=$(t_tmpdir)
t_bg sleep 300
echo "$T_ROOT $T_PID" > "$1.tmp" && mv "$1.tmp" "$1"
i=0
while [ $i -lt 300 ]; do echo "ok - line $i"; sleep 0.1; i=$((i+1)); done
EOV

# what the victim left: "gone" or what remains (removed here, so that a
# failing run leaves nothing either)
left() {
  read -r root pid < "$1" || { echo "no state"; return; }
  l=""
  if [ -d "$root" ]; then l="$root"; rm -rf "$root"; fi
  if kill -0 "$pid" 2>/dev/null; then l="$l sleep $pid"; kill "$pid"; fi
  echo "${l:-gone}"
}

for sig in TERM HUP; do
  s=$D/state.$sig
  sh "$D/victim.t" "$s" > /dev/null 2> "$D/err.$sig" &
  v=$!
  t_wait_path "$s" 10 || t_fail "$sig: victim started"
  kill -s "$sig" "$v"
  wait "$v"
  t_eq "$(left "$s")" gone "$sig: directory removed, process stopped"
done

s=$D/state.PIPE
sh "$D/victim.t" "$s" 2> "$D/err.PIPE" | head -1 > "$D/head.out"
t_eq "$(cat "$D/head.out")" "ok - line 0" "PIPE: head read one line"
t_eq "$(left "$s")" gone "PIPE: directory removed, process stopped"
