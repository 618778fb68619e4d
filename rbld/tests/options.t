#!/bin/sh
# options.t - the options and specials that change answers: -e (host
# bits), -t (TTL default and clamps), -a (no NS in AUTHORITY), -C (no
# gzip), -l (query log), $TIMESTAMP (future data refused, expired data
# not served), $MAXRANGE4 given as a count.
T=$(dirname "$0")
B=${IMGATE_BUILD:-build}
D=$(mktemp -d "${IMGATE_TESTLOGS:-/tmp}/rbld-options.XXXXXX") && [ -n "$D" ] ||
  { echo "not ok - a folder of its own"; exit 1; }
chmod 755 "$D"
cd "$D" || exit 1
Q="python3 $T/dnsq.py"
ok() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fi; }
P=
start() {   # start PORT ARGS...: rbld in the background, pid in $P
  port=$1; shift
  $B/rbld -n -u nobody -b 127.0.0.1/$port -c 0 "$@" 2>> rbld.log &
  P="$P $!"
  sleep 0.4
}
trap 'kill $P 2>/dev/null' EXIT
printf '$SOA 0 ns.example.net h.example.net 1 1h 1h 1w 5m\n$NS 1h ns.example.net\n10.1.2.5/24 :2:hostbits\n$TTL 10\n1.2.3.4\n' > hb
printf '$SOA 0 ns.example.net h.example.net 1 1h 1h 1w 5m\n$TTL 5d\n1.2.3.4\n' > big
printf '$SOA 0 ns.example.net h.example.net 1 1h 1h 1w 5m\n1.2.3.4\n' | gzip > z.gz
printf '$TIMESTAMP 2099:01:01\n1.2.3.4\n' > future
printf '$TIMESTAMP 2020:01:01 +1d\n1.2.3.4\n' > expired
printf '$MAXRANGE4 256\n5.0.0.0/23\n5.1.0.0/24\n' > maxr
chmod 644 *
start 5398 a.example:ip4set:hb
ok "without -e a CIDR with host bits is skipped" \
  "$Q ask 127.0.0.1:5398 1.2.1.10.a.example A | grep -q rcode=3"
ok "the skip is logged with the line" "grep -q 'file=hb line=3 error=\"invalid address (host bits' rbld.log"
start 5399 -e a.example:ip4set:hb
ok "-e masks the host bits" \
  "$Q ask 127.0.0.1:5399 9.2.1.10.a.example TXT | grep -q 'TXT \"hostbits\"'"
start 5400 -t 20:30:1h a.example:ip4set:hb b.example:ip4set:big
ok "-t min clamps \$TTL 10 up to 30" \
  "$Q ask 127.0.0.1:5400 4.3.2.1.a.example A | grep -q 'AN 4.3.2.1.a.example. 30 '"
ok "-t max clamps \$TTL 5d down to 3600" \
  "$Q ask 127.0.0.1:5400 4.3.2.1.b.example A | grep -q 'AN 4.3.2.1.b.example. 3600 '"
start 5401 -a a.example:ip4set:hb
ok "-a: no NS in AUTHORITY" \
  "! $Q ask 127.0.0.1:5401 4.3.2.1.a.example A | grep -q '^NS '"
ok "-a: NS still answers at the apex" \
  "$Q ask 127.0.0.1:5401 a.example NS | grep -q '^AN a.example. .* NS'"
start 5402 a.example:ip4set:z.gz
ok "gzip data read" "$Q ask 127.0.0.1:5402 4.3.2.1.a.example A | grep -q 'A 127.0.0.2'"
$B/rbld -n -C -u nobody -b 127.0.0.1/5403 a.example:ip4set:z.gz 2> c.log
ok "-C refuses compressed data" "[ $? = 111 ] && grep -q 'decompression disabled' c.log"
$B/rbld -n -u nobody -b 127.0.0.1/5403 a.example:ip4set:future 2> f.log
ok "\$TIMESTAMP in the future: not loaded" "[ $? = 111 ] && grep -q 'in the future' f.log"
start 5404 -q a.example:ip4set:expired b.example:ip4set:maxr
ok "\$TIMESTAMP expired: SERVFAIL" \
  "$Q ask 127.0.0.1:5404 4.3.2.1.a.example A | grep -q rcode=2"
ok "\$MAXRANGE4 256: a /23 ignored" \
  "$Q ask 127.0.0.1:5404 1.0.0.5.b.example A | grep -q rcode=3"
ok "\$MAXRANGE4 256: a /24 kept" \
  "$Q ask 127.0.0.1:5404 1.0.1.5.b.example A | grep -q 'A 127.0.0.2'"
mkdir jail; chmod 755 jail; cp hb jail/; : > jail/qlog; chown nobody jail/qlog
start 5405 -r "$D/jail" -l /qlog a.example:ip4set:hb
$Q ask 127.0.0.1:5405 4.3.2.1.A.example TXT > /dev/null
sleep 0.2
ok "-l logs each query (inside the chroot)" \
  "grep -q '127.0.0.1 4.3.2.1.A.example type16 class1: rcode0/' jail/qlog"
$Q ask 127.0.0.1:5405 4.3.2.1.a.example A +tcp > /dev/null
sleep 0.2
ok "-l logs queries over TCP too" \
  "grep -q '127.0.0.1 4.3.2.1.a.example type1 class1: rcode0/' jail/qlog"
