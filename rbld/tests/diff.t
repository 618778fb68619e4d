#!/bin/sh
# diff.t - the differential test: the same zone files and thousands of
# queries generated from them, sent to rbld and to Debian's rbldnsd, both
# started here on loopback; every answer must be the same (rcode, flags,
# answer and authority records, TTLs, TXT) except where issue 4 asks for
# better behaviour.  Those differences are listed in gendata.py with
# "!allow=REASON" and checked by dnsq.py's allowed():
#   edns-opt  rbld answers an EDNS query with an OPT RR (RFC 6891);
#             rbldnsd only adds one to replies longer than 512 bytes.
#   formerr   a query with two OPT RRs, or an RR running past the
#             packet: rbld answers FORMERR (RFC 6891), rbldnsd answers.
#   tc        an answer too big for UDP: rbld sets TC (and answers over
#             TCP); rbldnsd leaves records out silently and clears AA.
T=$(dirname "$0")
B=${IMGATE_BUILD:-build}
command -v rbldnsd >/dev/null || { echo "skip - differential: no rbldnsd"; exit 0; }
D=$(mktemp -d "${IMGATE_TESTLOGS:-/tmp}/rbld-diff.XXXXXX")
chmod 755 "$D"
python3 "$T/gendata.py" "$D" > "$D/nq" || { echo "not ok - gendata"; exit 1; }
cd "$D" || exit 1
ZONES=$(cat zones)
# both refuse root; nobody can read the files
$B/rbld -n -u nobody -b 127.0.0.1/5391 -c 0 $ZONES 2> rbld.log &
P1=$!
rbldnsd -n -u nobody -b 127.0.0.1/5392 -c 0 $ZONES > rbldnsd.log 2>&1 &
P2=$!
trap 'kill $P1 $P2 2>/dev/null' EXIT
for i in 1 2 3 4 5 6 7 8 9 10; do
  python3 "$T/dnsq.py" ask 127.0.0.1:5391 bl.example SOA | grep -q rcode=0 &&
  python3 "$T/dnsq.py" ask 127.0.0.1:5392 bl.example SOA | grep -q rcode=0 && break
  sleep 0.3
done
echo "# $(cat nq) queries"
python3 "$T/dnsq.py" diff 127.0.0.1:5391 127.0.0.1:5392 queries
rc=$?
[ $rc = 0 ] || { echo "# rbld log:"; sed 's/^/#   /' rbld.log | head -20; }
exit $rc
