#!/bin/sh
# package.t - package/rbld: the service's run script starts rbld from
# env/ (chroot, own user), and rbld-rsync fetches rbldnsd-format zones
# from an rsync source (a LOCAL directory here, never the network) into
# the data directory, which rbld then reloads.
TOP=${IMGATE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$TOP/rbld/tests
B=${IMGATE_BUILD:-build}
D=$(mktemp -d "${IMGATE_TESTLOGS:-/tmp}/rbld-package.XXXXXX") && [ -n "$D" ] ||
  { echo "not ok - a folder of its own"; exit 1; }
chmod 755 "$D"
cd "$D" || exit 1
ok() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fi; }
command -v rsync >/dev/null || { echo "skip - package: no rsync (package/deps)"; exit 0; }
mkdir -p upstream data
chmod 755 data
printf '$SOA 0 ns.example.net h.example.net 1 1h 1h 1w 5m\n:127.0.0.2:public $\n1.2.3.4\n' > upstream/pub.ip4set
"$TOP/package/rbld/rbld-rsync" "$D/upstream/" "$D/data"
ok "rbld-rsync from a local source: exit 0" "[ $? = 0 ]"
ok "zone file arrived, readable" "[ -r data/pub.ip4set ] && cmp -s upstream/pub.ip4set data/pub.ip4set"
ok "no temporary files left" "[ \$(ls -A data | grep -v '^\\.rbld-rsync.lock\$' | wc -l) = 1 ]"
cp "$TOP/conf/rbld/local.soa" data/
: > data/black; : > data/white
chmod 644 data/*
# the service directory, with test settings
cp -r "$TOP/package/rbld" svc
echo 5397 > svc/env/PORT; echo nobody > svc/env/USER; echo "$D/data" > svc/env/ROOT
echo 1 > svc/env/CHECK
# ASan reserves terabytes of address space: no memory limit for it
if grep -q __asan_init "$B/rbld" 2>/dev/null; then echo = > svc/env/SOFTLIMIT; fi
echo "pub.example:ip4set:local.soa,pub.ip4set bl.local:ip4set:local.soa,black" > svc/env/ZONES
(cd svc && exec ./run) > run.log 2>&1 &
P=$!
trap 'kill $P 2>/dev/null' EXIT
sleep 0.6
ok "run script starts rbld" \
  "python3 $T/dnsq.py ask 127.0.0.1:5397 4.3.2.1.pub.example TXT | grep -q 'public 1.2.3.4'"
ok "SOA from conf/rbld/local.soa" \
  "python3 $T/dnsq.py ask 127.0.0.1:5397 pub.example SOA | grep -q 'AN pub.example. .* SOA'"
printf '$SOA 0 ns.example.net h.example.net 2 1h 1h 1w 5m\n:127.0.0.2:public $\n5.6.7.8\n' > upstream/pub.ip4set
touch -d '1 minute ago' upstream/pub.ip4set
"$TOP/package/rbld/rbld-rsync" "$D/upstream/" "$D/data"
sleep 2.2
ok "a new upstream version is fetched and reloaded" \
  "python3 $T/dnsq.py ask 127.0.0.1:5397 8.7.6.5.pub.example A | grep -q 'A 127.0.0.2'"
"$TOP/package/rbld/rbld-rsync" "$D/nonexistent/" "$D/data" 2> rs.err
ok "a failed transfer exits 111 and keeps the files" \
  "[ $? = 111 ] && [ -s data/pub.ip4set ]"
ok "rbld log lines reach the service log" "grep -q 'rbld: info: loaded dataset=ip4set:local.soa,pub.ip4set' run.log"
