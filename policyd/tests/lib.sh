# policyd/tests/lib.sh - helpers for policyd's end-to-end tests (sourced
# after tests/lib/common.sh).
#
#   zones_start PORT ZONESPEC...   serve DNS lists on 127.0.0.1:PORT:
#                                  rbld when it is built, else dnsmock.py;
#                                  the same data files either way
#   mock_start PORT ARGS...        always dnsmock.py (for the failures
#                                  rbld must not be made to fake)
#   pd_start NAME RULES DNS [VAR=VALUE...]   policyd on $D/NAME.sock,
#                                  log in $D/NAME.log, PID in $PD_PID
#   pq NAME                        requests on stdin, answers on stdout
#   decision NAME CLIENT           the last decision line for CLIENT

HERE=$IMGATE_TOP/policyd/tests
D=$(t_tmpdir)
# t_tmpdir ran in a subshell: register the directory for the exit trap
T_DIRS="$T_DIRS $D"

dns_wait() {
  i=0
  while [ $i -lt 50 ]; do
    dig +tries=1 +time=1 -p "$1" @127.0.0.1 up.invalid 2>/dev/null |
      grep -q 'status:' && return 0
    i=$((i+1)); sleep 0.1
  done
  echo "# DNS server on port $1 did not come up" >&2
  return 1
}

zones_start() {
  port=$1; shift
  if [ -x "$IMGATE_BUILD/rbld" ] && [ -z "${PD_NO_RBLD:-}" ]; then
    ZONES_BY=rbld
    t_bg "$IMGATE_BUILD/rbld" -n -b "127.0.0.1/$port" "$@"
  else
    ZONES_BY=dnsmock
    t_bg python3 "$HERE/dnsmock.py" -b "127.0.0.1/$port" "$@"
  fi
  dns_wait "$port"
}

mock_start() {
  port=$1; shift
  t_bg python3 "$HERE/dnsmock.py" -b "127.0.0.1/$port" "$@"
  dns_wait "$port"
}

pd_start() {
  name=$1 rules=$2 dns=$3; shift 3
  rm -f "$D/$name.sock"
  t_bg env LISTEN="unix:$D/$name.sock" RULES="$rules" DNS="$dns" \
    STATS_INTERVAL=0 "$@" policyd 2> "$D/$name.log"
  PD_PID=$T_PID
  t_wait_path "$D/$name.sock" 5 || { echo "# policyd $name did not start";
                                     cat "$D/$name.log"; }
}

pq() { python3 "$HERE/pq.py" "$D/$1.sock"; }

decision() { grep "decision .*client=$2 " "$D/$1.log" | tail -1; }

# key=value from a log line (bare or quoted value)
logval() {
  printf '%s\n' "$1" | sed -n "s/.* $2=\(\"[^\"]*\"\|[^ ]*\).*/\1/p" |
    tr -d '"'
}
