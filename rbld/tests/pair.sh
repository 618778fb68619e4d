# rbld/tests/pair.sh - sourced by the differential tests: rbld and
# Debian's rbldnsd side by side on the same data, in the current folder
# (T: this folder, B: the build).

# pair_start ZONE PORT1 PORT2 ZONESPEC...: rbld on 127.0.0.1/PORT1 and
# rbldnsd on PORT2 (both as nobody, who can read the files); waits, 3 s
# at most, until both answer ZONE's SOA.  Both are killed at exit.
pair_start() {
  pz=$1 pp1=$2 pp2=$3; shift 3
  $B/rbld -n -u nobody -b 127.0.0.1/$pp1 -c 0 "$@" 2> rbld.log &
  P1=$!
  rbldnsd -n -u nobody -b 127.0.0.1/$pp2 -c 0 "$@" > rbldnsd.log 2>&1 &
  P2=$!
  trap 'kill $P1 $P2 2>/dev/null' EXIT
  for pi in 1 2 3 4 5 6 7 8 9 10; do
    sleep 0.3
    python3 "$T/dnsq.py" ask 127.0.0.1:$pp1 "$pz" SOA | grep -q rcode=0 &&
      python3 "$T/dnsq.py" ask 127.0.0.1:$pp2 "$pz" SOA |
        grep -q rcode=0 && return 0
  done
  return 1
}

# pair_diff QUERIES: every query asked of both; the differences and
# rbld's log shown; returns the diff's status
pair_diff() {
  python3 "$T/dnsq.py" diff 127.0.0.1:$pp1 127.0.0.1:$pp2 "$1"
  prc=$?
  [ $prc = 0 ] || { echo "# rbld log:"; sed 's/^/#   /' rbld.log | head -20; }
  return $prc
}
