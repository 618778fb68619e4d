#!/bin/sh
# harvest.t - rbld-harvest reads multilog directories (TAI64N labels,
# @*.s then current) of policyd and greyd lines, writes the private
# black and white lists atomically, and rbld serves them.
T=$(dirname "$0")
B=${IMGATE_BUILD:-build}
# no folder, no test: it must never write where it was started
D=$(mktemp -d "${IMGATE_TESTLOGS:-/tmp}/rbld-harvest.XXXXXX") && [ -n "$D" ] ||
  { echo "not ok - a folder of its own"; exit 1; }
chmod 755 "$D"
cd "$D" || exit 1
mkdir -p log/policyd log/greyd
NOW=1700000000
python3 - "$NOW" "$IMGATE_TOP/rbld/tests" <<'PY'
import sys
now = int(sys.argv[1])
sys.path.insert(0, sys.argv[2])
from harvestlines import lab, pol, grey
old = open("log/policyd/@400000006553f0000000000000.s", "w")
# three rejects two days ago: outside a 1-day window
for i in range(3):
    old.write(pol(now - 2 * 86400 + i, "192.0.2.1", "reject", '"PTRNUL HELO_IP"'))
# 2 rejects in the old file within the window, 1 in current: counts 3
old.write(pol(now - 3600, "192.0.2.2", "reject", '"RBL MULTIPLE MAIN"'))
old.write(pol(now - 3500, "192.0.2.2", "reject", '"RBL MULTIPLE MAIN"'))
old.close()
cur = open("log/policyd/current", "w")
cur.write(pol(now - 100, "192.0.2.2", "reject", '"PTRNUL"'))
# only two rejects: below the threshold
cur.write(pol(now - 90, "192.0.2.3", "reject", "HELO_IP"))
cur.write(pol(now - 80, "192.0.2.3", "reject", "HELO_IP"))
# defers and dunnos do not count
for i in range(5):
    cur.write(pol(now - 70 + i, "192.0.2.4", "defer", "HELO_IP"))
# a rule with a dollar sign and a quote must not break the template
for i in range(4):
    cur.write(pol(now - 60 + i, "198.51.100.7", "reject", '"ODD $1 \\"rule\\""'))
cur.write("garbage line\n@zzzz policyd: info: decision action=reject client=1.1.1.1\n")
cur.write(pol(now - 50, "2001:db8::1", "reject", "X"))
# three rejects stamped an hour after now (a clock that jumped): not in
# the window (a tester's input, once counted)
for i in range(3):
    cur.write(pol(now + 3600 + i, "192.0.2.9", "reject", "FUTURE"))
cur.close()
g = open("log/greyd/current", "w")
g.write(grey(now - 100, "203.0.113.5", "Pass and auto-whitelist IP"))
g.write(grey(now - 90, "203.0.113.5", "Pass and auto-whitelist IP"))
g.write(grey(now - 80, "203.0.113.6", "Pass retry"))
g.write(grey(now - 40 * 86400, "203.0.113.7", "Pass and auto-whitelist IP"))
g.close()
PY
ok() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fi; }
$B/rbld-harvest -n 3 -t 1d -T $NOW -b black -w white log/policyd log/greyd \
  2> h.log
ok "harvest exits 0" "[ $? = 0 ]"
cat > black.want <<'EOT'
# rbld-harvest: clients policyd rejected at least 3 times in 86400s (ip4set)
192.0.2.2 :127.0.0.2:rejected 3 times by rule RBL MULTIPLE MAIN
198.51.100.7 :127.0.0.2:rejected 4 times by rule ODD $$1 "rule"
EOT
ok "blacklist: threshold, window, rule named, template-safe" "cmp -s black black.want"
[ -f black ] && sed 's/^/# /' black
cat > white.want <<'EOT'
# rbld-harvest: clients greyd auto-whitelisted in 3024000s
203.0.113.5 :127.0.0.2:auto-whitelisted by greyd
EOT
ok "whitelist: auto-whitelisted clients only, within its window" "cmp -s white white.want"
ok "summary log line" "grep -q 'rbld-harvest: info: harvest lines=.* black=2 black_file=replaced white=1' h.log"
ino=$(stat -c %i black)
$B/rbld-harvest -n 3 -t 1d -T $NOW -b black -w white log/policyd log/greyd 2> h2.log
ok "unchanged lists are not rewritten" \
  "grep -q 'black_file=unchanged' h2.log && [ \$(stat -c %i black) = $ino ]"
$B/rbld-harvest -n 2 -t 1d -T $NOW -b black log/policyd 2> h3.log
ok "a changed list is replaced by rename (new inode)" \
  "[ \$(stat -c %i black) != $ino ] && grep -q '^192.0.2.3 ' black"
ok "no temporary file left" "[ ! -e black.tmp ]"
$B/rbld-harvest -b black 2>/dev/null
ok "usage error exits 100" "[ $? = 100 ]"
$B/rbld-harvest -b black /nonexistent 2>/dev/null
ok "unreadable log exits 111" "[ $? = 111 ]"

# rbld serves the harvested lists
printf '$SOA 0 ns.example.net h.example.net 0 1h 1h 1w 5m\n' > soa
chmod 644 black white soa
$B/rbld -n -u nobody -b 127.0.0.1/5394 -c 1 \
  black.local:ip4set:soa,black white.local:ip4set:soa,white 2> rbld.log &
P=$!
trap 'kill $P 2>/dev/null' EXIT
sleep 0.5
ok "rbld answers from the blacklist with the rule" \
  "python3 $T/dnsq.py ask 127.0.0.1:5394 3.2.0.192.black.local TXT | grep -q 'rejected 2 times by rule HELO_IP'"
ok "rbld answers from the whitelist" \
  "python3 $T/dnsq.py ask 127.0.0.1:5394 5.113.0.203.white.local A | grep -q 'A 127.0.0.2'"
$B/rbld-harvest -n 3 -t 1d -T $NOW -b black log/policyd 2>/dev/null
sleep 2.3
ok "rbld reloads the replaced list" \
  "python3 $T/dnsq.py ask 127.0.0.1:5394 3.2.0.192.black.local TXT | grep -q rcode=3"
