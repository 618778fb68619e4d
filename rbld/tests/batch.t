#!/bin/sh
# batch.t - a batch answers as single queries do.  rbld's UDP worker
# reads up to 64 queries with one recvmmsg and prepares them in groups
# of 16 (parse, zone, address, the datasets' prefetches) before it
# answers any; batch.py sends thousands of queries of every kind (the
# differential test's data and queries, and raw packets: malformed,
# flags, EDNS sizes and versions, edge names, every ACL source) first
# one at a time, then back to back while rbld is stopped, and checks
# each batched reply against the lone one, byte for byte.
T=$(cd "$(dirname "$0")" && pwd)
B=${IMGATE_BUILD:-build}
D=$(mktemp -d "${IMGATE_TESTLOGS:-/tmp}/rbld-batch.XXXXXX") || exit 1
chmod 755 "$D"
python3 "$T/gendata.py" "$D" > "$D/nq" || { echo "not ok - gendata"; exit 1; }
cd "$D" || exit 1
# one worker, so every query of a window meets the same recvmmsg; a
# zone without its file (-q) answers SERVFAIL
$B/rbld -n -q -u nobody -b 127.0.0.1/5406 -c 0 -W 1 $(cat zones) \
  x.example:ip4set:missing 2> rbld.log &
P=$!
trap 'kill -CONT $P 2>/dev/null; kill $P 2>/dev/null' EXIT
for i in 1 2 3 4 5 6 7 8 9 10; do
  sleep 0.3
  python3 "$T/dnsq.py" ask 127.0.0.1:5406 bl.example SOA |
    grep rcode=0 > /dev/null && break
done
EXPECT_FILE=$(cat nq) EXPECT_RAW=384 EXPECT_NOREPLY=34 \
  timeout 300 python3 "$T/batch.py" 5406 $P queries ||
  echo "not ok - batch.py exited $?"
kill -0 $P 2>/dev/null
if [ $? = 0 ]; then echo "ok - rbld still running"
else echo "not ok - rbld still running"; sed 's/^/# /' rbld.log | tail; fi
