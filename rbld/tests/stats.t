#!/bin/sh
# stats.t - the -s statistics line names every zone, however many and
# however long their names: 60 zones of 240-byte names make a line of
# some 17 KB, past the 8 KB buffer rbld had (which silently dropped the
# zones that did not fit, and could write past its end).
T=$(dirname "$0")
B=${IMGATE_BUILD:-build}
D=$(mktemp -d "${IMGATE_TESTLOGS:-/tmp}/rbld-stats.XXXXXX") && [ -n "$D" ] ||
  { echo "not ok - a folder of its own"; exit 1; }
chmod 755 "$D"
cd "$D" || exit 1
Q="python3 $T/dnsq.py"
ok() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fi; }
printf '$SOA 0 ns.example.net h.example.net 1 1h 1h 1w 5m\n1.2.3.4\n' > bl
chmod 644 bl
: > stats
chown nobody stats
# four 59-byte labels: a 240-byte zone name, z01 ... z60 in front
L=$(printf '%059d' 0)
zones=""
for i in $(seq -w 1 60); do
  zones="$zones z$i.$L.$L.$L.example:ip4set:bl"
done
$B/rbld -n -u nobody -b 127.0.0.1/5407 -c 0 -s "$D/stats" $zones \
  2> rbld.log &
P=$!
trap 'kill $P 2>/dev/null' EXIT
for i in 1 2 3 4 5 6 7 8 9 10; do
  sleep 0.3
  $Q ask 127.0.0.1:5407 4.3.2.1.z60.$L.$L.$L.example A 2>/dev/null |
    grep -q rcode=0 && break
done
$Q ask 127.0.0.1:5407 4.3.2.1.z01.$L.$L.$L.example A > /dev/null
$Q ask 127.0.0.1:5407 9.9.9.9.z60.$L.$L.$L.example A > /dev/null
kill -HUP $P                 # a line now (and every -c interval)
for i in 1 2 3 4 5 6 7 8 9 10; do
  sleep 0.2
  [ "$(wc -l < stats)" -ge 2 ] && break
done
kill $P
wait $P 2>/dev/null
trap - EXIT
line=$(tail -n 1 stats)
ok "one line, all 60 zones in it" \
  "[ \$(printf '%s' \"\$line\" | tr ' ' '\n' | grep -c '^z[0-9][0-9]\.') = 60 ]"
ok "the last zone counted: 2 queries (probe, NXDOMAIN), 1 ok, 1 nxdomain" \
  "printf '%s' \"\$line\" | tr ' ' '\n' | grep -q '^z60\.$L\.$L\.$L\.example:2:1:1:'"
ok "the first zone counted: 1 query, 1 ok" \
  "printf '%s' \"\$line\" | tr ' ' '\n' | grep -q '^z01\.$L\.$L\.$L\.example:1:1:0:'"
ok "the total ends the line: 3 queries, 2 ok, 1 nxdomain" \
  "printf '%s' \"\$line\" | grep -q ' \*:3:2:1:[0-9]*:[0-9]*\$'"
ok "the line is longer than 8 KB" "[ \$(tail -n 1 stats | wc -c) -gt 8192 ]"
