#!/bin/sh
# bigdiff.t - the differential test on data big enough for the paths
# the small one never takes: an ip4set with over 589,824 single
# addresses (more than 8 a /16, so its table is counted into slots
# rather than sorted whole, and its bare lines are read in bulk, across
# many read buffers), with ranges, exclusions, repeated and valued
# lines among them, and a 30,000-name dnset (names parsed in one pass,
# hash slots prefetched).  3,000 queries to rbld and to Debian's rbldnsd,
# same answers.
T=$(cd "$(dirname "$0")" && pwd)
B=${IMGATE_BUILD:-build}
command -v rbldnsd >/dev/null ||
  { echo "skip - big differential: no rbldnsd"; exit 0; }
D=$(mktemp -d "${IMGATE_TESTLOGS:-/tmp}/rbld-bigdiff.XXXXXX") && [ -n "$D" ] ||
  { echo "not ok - a folder of its own"; exit 1; }
chmod 755 "$D"
cd "$D" || exit 1
python3 - <<'EOF' || { echo "not ok - big data"; exit 1; }
import random
r = random.Random(7)
ips = r.sample(range(1 << 24, 0xdf000000), 620000)
def q4(a):
    return "%d.%d.%d.%d" % (a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255)
with open("bl.ip4set", "w") as f:
    f.write("$SOA 0 ns1.big.example h.big.example 1 1h 10m 1w 5m\n")
    f.write("$NS 1d ns1.big.example\n")
    f.write(":127.0.0.2:Listed $, see http://big.example/?$\n")
    for i, a in enumerate(ips):
        if i % 5000 == 1:
            f.write("%s :3:valued $\n" % q4(a))
        elif i % 5000 == 2:
            f.write("!%s\n" % q4(ips[i - 2]))
        elif i % 5000 == 3:
            f.write("%s\n%s # again\n" % (q4(a), q4(a)))
        else:
            f.write(q4(a) + "\n")
        if i % 1000 == 0:
            b = r.randrange(0xe0000000, 0xefffff00) & ~255
            f.write("%s-%s :4:range $\n" % (q4(b), q4(b + r.randrange(1, 300))))
            f.write("%s/24\n" % q4(a & ~255))
with open("d.dnset", "w") as f:
    f.write("$SOA 0 ns1.big.example h.big.example 1 1h 10m 1w 5m\n")
    f.write(":127.0.0.2:domain $ listed\n")
    names = ["h%d.Spam%d.example" % (i, i % 97) for i in range(30000)]
    for i, n in enumerate(names):
        f.write(("*." if i % 10 == 0 else "") + n + ("." if i % 7 == 0 else "")
                + "\n")
with open("queries", "w") as f:
    for i in range(3000):
        t = "A" if i % 2 else "TXT"
        k = i % 6
        if k < 3:
            a = r.choice(ips) + (k == 2)
        elif k == 3:
            a = r.randrange(0xe0000000, 0xf0000000)
        else:
            a = None
        if a is not None:
            f.write("%d.%d.%d.%d.bl.big.example %s\n" % (
                a & 255, (a >> 8) & 255, (a >> 16) & 255, a >> 24, t))
        else:
            n = r.choice(names)
            f.write("%s%s.dbl.big.example %s\n" % (
                "x." if k == 5 else "", n, t))
EOF
ZONES="bl.big.example:ip4set:bl.ip4set dbl.big.example:dnset:d.dnset"
. "$T/pair.sh"
pair_start bl.big.example 5411 5412 $ZONES
grep -q 'loaded dataset=ip4set:bl.ip4set entries=' rbld.log ||
  { echo "not ok - big ip4set loaded"; exit 1; }
echo "ok - big ip4set loaded"
pair_diff queries
