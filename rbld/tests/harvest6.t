#!/bin/sh
# harvest6.t - rbld-harvest lists IPv6 clients: per /64 (the unit
# ip6tset lists), in ip6tset files of their own (-B, -V), with the same
# threshold and windows as IPv4; the textual forms of one address count
# as one; an IPv4-mapped address is the IPv4 client; malformed clients
# stay unparsed.  rbld and rbldnsd, on loopback, answer the nibble-
# reversed name of a harvested address from the files.
. "$IMGATE_TOP/tests/lib/common.sh"
B=$IMGATE_BUILD
D=$(t_tmpdir)
cd "$D" || exit 1
mkdir -p log/policyd log/greyd
NOW=1700000000
python3 - "$NOW" "$IMGATE_TOP/rbld/tests" <<'PY'
import sys
now = int(sys.argv[1])
sys.path.insert(0, sys.argv[2])
from harvestlines import lab, pol, grey
old = open("log/policyd/@400000006553f0000000000000.s", "w")
# 3 rejects two days ago: outside the 1-day window
for i in range(3):
    old.write(pol(now - 2 * 86400 + i, "2001:db8:3:3::1", "reject", "OLD"))
# one address in three forms (compressed, full with leading zeros, upper
# case without "::"), across the rotated file and current: counts 3
old.write(pol(now - 3600, "2001:db8:1:1::25", "reject", '"RBL MULTIPLE MAIN"'))
old.close()
cur = open("log/policyd/current", "w")
cur.write(pol(now - 300, "2001:0db8:0001:0001:0000:0000:0000:0025", "reject",
              '"RBL MULTIPLE MAIN"'))
cur.write(pol(now - 290, "2001:DB8:1:1:0:0:0:25", "reject", "PTRNUL"))
# two rejects: one short of the threshold
cur.write(pol(now - 280, "2001:db8:2:2::1", "reject", "HELO_IP"))
cur.write(pol(now - 270, "2001:db8:2:2::1", "reject", "HELO_IP"))
# three addresses of one /64: the /64 counts 3; a $ stays as is in the
# comment (no template there)
cur.write(pol(now - 260, "2001:db8:4:4::1", "reject", '"ODD $1"'))
cur.write(pol(now - 250, "2001:db8:4:4::2", "reject", '"ODD $1"'))
cur.write(pol(now - 240, "2001:db8:4:4:ffff::3", "reject", "HELO_IP"))
# a /64 of zero groups is written as four groups, no "::"
for i in range(3):
    cur.write(pol(now - 230 + i, "2001:db8::9", "reject", "PTRNUL"))
# defers do not count
for i in range(5):
    cur.write(pol(now - 220 + i, "2001:db8:5:5::1", "defer", "HELO_IP"))
# IPv4-mapped: the IPv4 client, counted with its dotted form
cur.write(pol(now - 200, "::ffff:192.0.2.7", "reject", "HELO_IP"))
cur.write(pol(now - 190, "::FFFF:c000:207", "reject", "HELO_IP"))
cur.write(pol(now - 180, "192.0.2.7", "reject", "HELO_IP"))
# malformed clients: unparsed (4 lines)
for c in ("2001:db8::g1", "2001:db8:::1", "2001:db8:1:2:3:4:5:6:7", "1.2.3"):
    cur.write(pol(now - 170, c, "reject", "X"))
# stamped an hour after now (a clock that jumped): not in the window
for i in range(3):
    cur.write(pol(now + 3600 + i, "2001:db8:6:6::1", "reject", "FUTURE"))
cur.close()
g = open("log/greyd/current", "w")
g.write(grey(now - 100, "2001:db8:a:a::5", "Pass and auto-whitelist IP"))
g.write(grey(now - 90, "2001:db8:a:a:0:0:0:5", "Pass and auto-whitelist IP"))
g.write(grey(now - 80, "2001:db8:b:b::5", "Pass retry"))
g.write(grey(now - 40 * 86400, "2001:db8:c:c::5", "Pass and auto-whitelist IP"))
g.write(grey(now - 70, "::ffff:203.0.113.9", "Pass and auto-whitelist IP"))
g.write(grey(now - 60, "fe80::1%eth0", "Pass and auto-whitelist IP"))
g.close()
PY

$B/rbld-harvest -n 3 -t 1d -T $NOW -b black -w white -B black6 -V white6 \
  log/policyd log/greyd 2> h.log
t_eq "$?" 0 "harvest exits 0"
cat > black6.want <<'EOT'
# rbld-harvest: /64s of clients policyd rejected at least 3 times in 86400s (ip6tset)
:127.0.0.2:its /64 was rejected at least 3 times in 86400s
2001:db8:0:0 # rejected 3 times by rule PTRNUL
2001:db8:1:1 # rejected 3 times by rule RBL MULTIPLE MAIN
2001:db8:4:4 # rejected 3 times by rule ODD $1
EOT
t_eq "$(cat black6)" "$(cat black6.want)" \
  "IPv6 blacklist: /64s at the threshold in the window, forms counted as one"
cat > white6.want <<'EOT'
# rbld-harvest: /64s of clients greyd auto-whitelisted in 3024000s (ip6tset)
:127.0.0.2:its /64 was auto-whitelisted by greyd
2001:db8:a:a
EOT
t_eq "$(cat white6)" "$(cat white6.want)" \
  "IPv6 whitelist: auto-whitelisted /64s within the window"
cat > black.want <<'EOT'
# rbld-harvest: clients policyd rejected at least 3 times in 86400s (ip4set)
192.0.2.7 :127.0.0.2:rejected 3 times by rule HELO_IP
EOT
t_eq "$(cat black)" "$(cat black.want)" \
  "IPv4-mapped rejections count for the IPv4 client"
cat > white.want <<'EOT'
# rbld-harvest: clients greyd auto-whitelisted in 3024000s
203.0.113.9 :127.0.0.2:auto-whitelisted by greyd
EOT
t_eq "$(cat white)" "$(cat white.want)" \
  "an IPv4-mapped auto-whitelisted client is in the IPv4 whitelist"
# lines: 4 old + 25 current policyd + 6 greyd; unparsed: 4 malformed
# policyd clients and the zone-scoped fe80::1%eth0; used: the 14
# rejects and 3 auto-whitelistings inside the windows (not the 3 old,
# the 5 defers, the 3 future, the retry, the 40-day-old one)
t_eq "$(cat h.log)" "rbld-harvest: info: harvest lines=35 used=17 \
unparsed=5 skipped=0 black=1 black_file=replaced white=1 white_file=replaced \
black6=3 black6_file=replaced white6=1 white6_file=replaced" \
  "summary line counts the IPv6 files"

ino=$(stat -c %i black6)
$B/rbld-harvest -n 3 -t 1d -T $NOW -B black6 -V white6 \
  log/policyd log/greyd 2> h2.log
t_eq "$(stat -c %i black6)" "$ino" "an unchanged IPv6 file is not rewritten"
t_match "$(cat h2.log)" ' black6=3 black6_file=unchanged white6=1 white6_file=unchanged$' \
  "summary: unchanged, only the files asked for"
$B/rbld-harvest -n 2 -t 1d -T $NOW -B black6 log/policyd 2> h3.log
t_match "$(grep -c '^2001:db8:2:2 # rejected 2 times by rule HELO_IP$' black6) $(stat -c %i black6)" \
  "^1 [0-9]+\$" "with -n 2 the /64 rejected twice is listed"
[ "$(stat -c %i black6)" != "$ino" ] && t_ok "a changed IPv6 file is replaced by rename (new inode)" ||
  t_fail "a changed IPv6 file is replaced by rename (new inode)"
t_eq "$(ls)" "$(printf '%s\n' black black.want black6 black6.want h.log h2.log h3.log log white white.want white6 white6.want)" \
  "no temporary file left"
$B/rbld-harvest -n 3 -t 1d -T $NOW -B black6 log/policyd 2>/dev/null

# rbld (and rbldnsd, the format's reference) serve the files: one zone
# of each kind holds the IPv4 and the IPv6 dataset
printf '$SOA 0 ns.example.net h.example.net 0 1h 1h 1w 5m\n' > soa
chmod 644 black white black6 white6 soa
ZONES="bl.local:ip4set:soa,black bl.local:ip6tset:soa,black6
wl.local:ip4set:soa,white wl.local:ip6tset:soa,white6"
P1=$(t_port 25394)
t_bg $B/rbld -n -u nobody -b 127.0.0.1/$P1 -c 0 $ZONES 2> rbld.log
P2=$(t_port $((P1 + 1)))
t_bg rbldnsd -n -u nobody -b 127.0.0.1/$P2 -c 0 $ZONES > rbldnsd.log 2>&1
t_wait_tcp $P1 5
i=0
until dig +short +time=1 +tries=1 @127.0.0.1 -p $P2 bl.local SOA |
    grep -q ns.example.net || [ $i -ge 30 ]; do sleep 0.1; i=$((i+1)); done
nib() {
  python3 -c 'import ipaddress,sys
print(ipaddress.ip_address(sys.argv[1]).reverse_pointer[:-len(".ip6.arpa")])' "$1"
}
q() {   # q PORT NAME TYPE: the answer's data, or the status
  r=$(dig +time=2 +tries=1 +noall +answer +comments @127.0.0.1 -p "$1" "$2" "$3")
  a=$(printf '%s\n' "$r" | awk '$4 == "'"$3"'" { $1 = $2 = $3 = $4 = ""; sub(/^ +/, ""); print }')
  [ -n "$a" ] && echo "$a" ||
    printf '%s\n' "$r" | sed -n 's/.*status: \([A-Z]*\).*/\1/p'
}
t_match "$(cat rbld.log)" "loaded dataset=ip6tset:soa,black6 entries=3 warnings=0" \
  "rbld loads the IPv6 blacklist without a warning"
t_match "$(cat rbld.log)" "loaded dataset=ip6tset:soa,white6 entries=1 warnings=0" \
  "rbld loads the IPv6 whitelist without a warning"
for s in "1 rbld" "2 rbldnsd"; do
  set -- $s; eval P=\$P$1; who=$2
  t_eq "$(q $P "$(nib 2001:db8:1:1::25).bl.local" A)" 127.0.0.2 \
    "$who: the harvested IPv6 address is listed (A)"
  t_eq "$(q $P "$(nib 2001:db8:1:1::25).bl.local" TXT)" \
    '"its /64 was rejected at least 3 times in 86400s"' \
    "$who: the harvested IPv6 address is listed (TXT)"
  t_eq "$(q $P "$(nib 2001:db8:1:1:abcd::1).bl.local" A)" 127.0.0.2 \
    "$who: another address of the /64 is listed"
  t_eq "$(q $P "$(nib 2001:db8:2:2::1).bl.local" A)" NXDOMAIN \
    "$who: the /64 rejected N-1 times is not listed"
  t_eq "$(q $P "$(nib 2001:db8:3:3::1).bl.local" A)" NXDOMAIN \
    "$who: the /64 rejected outside the window is not listed"
  t_eq "$(q $P "$(nib 2001:db8:a:a::5).wl.local" A)" 127.0.0.2 \
    "$who: the auto-whitelisted IPv6 client is in the whitelist"
  t_eq "$(q $P 7.2.0.192.bl.local TXT)" '"rejected 3 times by rule HELO_IP"' \
    "$who: the IPv4 client beside it in the same zone"
done
