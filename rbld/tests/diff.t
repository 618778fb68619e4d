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
D=$(mktemp -d "${IMGATE_TESTLOGS:-/tmp}/rbld-diff.XXXXXX") && [ -n "$D" ] ||
  { echo "not ok - a folder of its own"; exit 1; }
chmod 755 "$D"
python3 "$T/gendata.py" "$D" > "$D/nq" || { echo "not ok - gendata"; exit 1; }
cd "$D" || exit 1
ZONES=$(cat zones)
. "$T/pair.sh"
# both refuse root; nobody can read the files
pair_start bl.example 5391 5392 $ZONES
echo "# $(cat nq) queries"
pair_diff queries
