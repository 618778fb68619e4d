#!/bin/sh
# harvest-skip.t - rbld-harvest never lists an address that is no
# remote client: 0.0.0.0/8 (unspecified), 127.0.0.0/8 (the gateway's
# own loopback), IPv6 :: and ::1 (their /64 ::/64), in any form,
# IPv4-mapped ones too; in neither list, counted as skipped.  (0.0.0.0
# was listed, a tester's input.)  The neighbours of each range are
# listed as usual.
. "$IMGATE_TOP/tests/lib/common.sh"
B=$IMGATE_BUILD
D=$(t_tmpdir)
cd "$D" || exit 1
NOW=1700000000
python3 - "$NOW" "$IMGATE_TOP/rbld/tests" <<'PY'
import sys
now = int(sys.argv[1])
sys.path.insert(0, sys.argv[2])
from harvestlines import lab, pol, grey
f = open("log", "w")
skip = ("0.0.0.0", "0.1.2.3", "127.0.0.1", "127.255.255.254",
        "::ffff:127.0.0.1", "::ffff:0.0.0.0", "::", "::1",
        "0:0:0:0:0:0:0:1", "::192.0.2.1")
listed = ("1.0.0.0", "126.255.255.255", "128.0.0.1", "0:0:0:1::1")
for ip in skip + listed:
    for i in range(3):
        f.write(pol(now - 100 + i, ip))
    f.write(grey(now - 50, ip))
f.close()
PY
$B/rbld-harvest -T $NOW -b black -w white -B black6 -V white6 log 2> h.log
t_eq "$?" 0 "harvest exits 0"
t_eq "$(cat black)" "# rbld-harvest: clients policyd rejected at least 3 times in 86400s (ip4set)
1.0.0.0 :127.0.0.2:rejected 3 times by rule R
126.255.255.255 :127.0.0.2:rejected 3 times by rule R
128.0.0.1 :127.0.0.2:rejected 3 times by rule R" \
  "blacklist: no 0/8, no 127/8 (plain or mapped); their neighbours listed"
t_eq "$(cat white)" "# rbld-harvest: clients greyd auto-whitelisted in 3024000s
1.0.0.0 :127.0.0.2:auto-whitelisted by greyd
126.255.255.255 :127.0.0.2:auto-whitelisted by greyd
128.0.0.1 :127.0.0.2:auto-whitelisted by greyd" \
  "whitelist: the same"
t_eq "$(cat black6)" "# rbld-harvest: /64s of clients policyd rejected at least 3 times in 86400s (ip6tset)
:127.0.0.2:its /64 was rejected at least 3 times in 86400s
0:0:0:1 # rejected 3 times by rule R" \
  "IPv6 blacklist: no ::/64 (::, ::1); the next /64 listed"
t_eq "$(cat white6)" "# rbld-harvest: /64s of clients greyd auto-whitelisted in 3024000s (ip6tset)
:127.0.0.2:its /64 was auto-whitelisted by greyd
0:0:0:1" "IPv6 whitelist: the same"
# 14 clients x 4 lines; 10 skipped clients x 4 lines
t_eq "$(cat h.log)" "rbld-harvest: info: harvest lines=56 used=16 \
unparsed=0 skipped=40 black=3 black_file=replaced white=3 \
white_file=replaced black6=1 black6_file=replaced white6=1 \
white6_file=replaced" "summary: the skipped counted apart"
