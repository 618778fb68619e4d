#!/bin/sh
# reload.t - reloads under load: while a client sends queries without
# pause, the data file is replaced (tmp + rename), broken, removed and
# rewritten in place; no query may be lost or answered differently, new
# data must show up, and broken or missing files keep the old data
# (rbldnsd answers SERVFAIL then).  Warnings name file and line and are
# not repeated while the broken file stays the same.
T=$(dirname "$0")
B=${IMGATE_BUILD:-build}
D=$(mktemp -d "${IMGATE_TESTLOGS:-/tmp}/rbld-reload.XXXXXX") && [ -n "$D" ] ||
  { echo "not ok - a folder of its own"; exit 1; }
chmod 755 "$D"
cd "$D" || exit 1
Q="python3 $T/dnsq.py"
base() {
  printf '$SOA 0 ns.example.net h.example.net 7 1h 1h 1w 5m\n'
  printf ':127.0.0.2:listed $\n'
  i=0
  while [ $i -lt 50 ]; do printf '10.0.0.%d\n' $i; i=$((i + 1)); done
}
put() {   # put FILE: stdin to FILE atomically
  cat > "$1.tmp" && chmod 644 "$1.tmp" && mv "$1.tmp" "$1"
}
{ base; echo "20.0.0.1"; } | put bl
: > queries
i=0
while [ $i -lt 50 ]; do
  echo "$i.0.0.10.bl.example A" >> queries
  echo "$i.0.0.10.bl.example TXT" >> queries
  i=$((i + 1))
done
echo "9.9.9.9.bl.example A" >> queries
$B/rbld -n -u nobody -b 127.0.0.1/5393 -c 1 bl.example:ip4set:bl 2> rbld.log &
P=$!
trap 'kill $P 2>/dev/null' EXIT
sleep 0.5
ok() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fi; }
ask() { $Q ask 127.0.0.1:5393 "$@"; }

$Q load 127.0.0.1:5393 queries 9 > load.out 2>&1 &
L=$!
sleep 1
{ base; echo "20.0.0.2"; } | put bl              # a new version
sleep 2.2
ok "new data loaded while answering" \
  "ask 2.0.0.20.bl.example A | grep -q 'A 127.0.0.2'"
ok "old entry gone after reload" "ask 1.0.0.20.bl.example A | grep -q rcode=3"
printf '\037\213garbage, not gzip at all' | put bl   # broken file
sleep 2.2
ok "broken file: old data still served" \
  "ask 2.0.0.20.bl.example A | grep -q 'A 127.0.0.2'"
mv bl bl.away                                     # missing file
sleep 2.2
ok "missing file: old data still served (rbldnsd: SERVFAIL)" \
  "ask 2.0.0.20.bl.example A | grep -q 'A 127.0.0.2'"
{ base; echo "20.0.0.3"; } | put bl
sleep 2.2
ok "fixed file loads again" "ask 3.0.0.20.bl.example A | grep -q 'A 127.0.0.2'"
wait $L
cat load.out
# a load that waits on its file (a FIFO nobody writes yet) does not
# stop the answers; then the "file" changes while rbld reads it (its
# time is set while rbld waits for the data): the old data stays
mkfifo bl.fifo && chmod 644 bl.fifo && mv bl.fifo bl
sleep 2.2
ok "answers go on while a load waits on its file" \
  "ask 3.0.0.20.bl.example A | grep -q 'A 127.0.0.2'"
exec 3> bl                                        # rbld's open returns
sleep 0.3
touch -m -d '2030-01-01 00:00:00' bl              # changed while read
{ base; echo "20.0.0.9"; } >&3
exec 3>&-
sleep 0.5
ok "file changed while read: old data kept" \
  "ask 3.0.0.20.bl.example A | grep -q 'A 127.0.0.2' &&
   ask 9.0.0.20.bl.example A | grep -q rcode=3"
ok "file changed while read: logged, with the advice" \
  "grep -q 'file changed while read: write a temporary file and rename' rbld.log"
rm -f bl
{ base; echo "20.0.0.3"; } | put bl
ok "no query lost or answered wrongly during reloads" \
  "grep -q ' 0 lost, 0 answered differently' load.out"
ok "many queries were sent" \
  "[ \$(sed -n 's/^# load: \([0-9]*\) sent.*/\1/p' load.out) -gt 1000 ]"
ok "failed load logged with the file" \
  "grep -q 'warning: data file=bl .*error=' rbld.log"
ok "keeping line logged" "grep -q 'warning: keeping dataset=ip4set:bl' rbld.log"
n=$(grep -c 'error="read error' rbld.log)
ok "a broken file is reported once, not every check ($n)" "[ $n = 1 ]"
n=$(grep -c 'error="unable to open file"' rbld.log)
ok "a missing file is reported once, not every check ($n)" "[ $n = 1 ]"

# SIGHUP forces a check even with -c 0; a warning names the line
kill $P
$B/rbld -n -u nobody -b 127.0.0.1/5393 -c 0 bl.example:ip4set:bl 2> rbld2.log &
P=$!
sleep 0.4
{ base; echo "20.0.0.4"; echo "1.2.3.300"; } | put bl
sleep 1.2
ok "-c 0: no reload without a signal" "ask 4.0.0.20.bl.example A | grep -q rcode=3"
kill -HUP $P
sleep 0.5
ok "SIGHUP reloads" "ask 4.0.0.20.bl.example A | grep -q 'A 127.0.0.2'"
ok "warning names file and line" \
  "grep -q 'warning: data file=bl line=54 error=\"invalid address\"' rbld2.log"
# warnings are capped at 5 per load, then one line with the count
{ base; for x in a b c d e f g h i j k l; do echo "bad-$x"; done; } | put bl
kill -HUP $P
sleep 0.5
ok "warnings capped at 5" \
  "[ \$(grep -c 'error=\"invalid domain name\"\|error=\"invalid address\"' rbld2.log) = 6 ]"
ok "count of suppressed warnings" "grep -q 'suppressed=7' rbld2.log"

# a gzip file cut short (at 10 and 12 bytes, in the middle, before its
# CRC) or with a bad CRC is a failed load: the old data stays, a
# warning names the file (zlib reads such a file as a short one)
{ base; echo "20.0.0.5"; } | put bl
kill -HUP $P
sleep 0.5
ok "gzip: good data loaded" "ask 5.0.0.20.bl.example A | grep -q 'A 127.0.0.2'"
{ base; echo "20.0.0.6"
  python3 -c 'for i in range(20003): print("30.%d.%d.1" % (i >> 8, i & 255))'
} | gzip -c > big.gz
size=$(wc -c < big.gz)
for cut in 10 12 $((size / 2)) $((size - 4)) crc; do
  if [ $cut = crc ]; then
    python3 -c 'import sys; d = bytearray(open("big.gz", "rb").read())
d[-8] ^= 1; sys.stdout.buffer.write(d)' | put bl
  else
    head -c $cut big.gz | put bl
  fi
  kill -HUP $P
  sleep 0.5
  ok "gzip cut at $cut: old data kept" \
    "ask 5.0.0.20.bl.example A | grep -q 'A 127.0.0.2' &&
     ask 3.0.0.10.bl.example A | grep -q 'A 127.0.0.2' &&
     ask 6.0.0.20.bl.example A | grep -q rcode=3"
done
n=$(grep -c 'warning: data file=bl .*error="compressed data truncated"' rbld2.log)
ok "truncated gzip reported with the file ($n)" "[ $n = 4 ]"
ok "bad gzip CRC reported with the file" \
  "grep -q 'warning: data file=bl error=\"read error' rbld2.log"
n=$(grep -c 'warning: load_failed dataset=ip4set:bl' rbld2.log)
ok "every broken gzip is a failed load ($n)" "[ $n = 5 ]"
cat big.gz | put bl
kill -HUP $P
sleep 0.8
ok "whole gzip loads" "ask 6.0.0.20.bl.example A | grep -q 'A 127.0.0.2' &&
   ask 1.2.3.30.bl.example A | grep -q 'A 127.0.0.2' &&
   grep -q 'loaded dataset=ip4set:bl entries=20054 warnings=0' rbld2.log"

# a file rewritten in place (same inode), to the same size, within the
# second of its last change is still a change: rbld compares the
# nanoseconds of its time too (rbldnsd, comparing seconds, misses it
# until the file changes again)
{ base; echo "20.0.0.7"; } | put bl
touch -m -d '@1800000000.100000000' bl
kill -HUP $P
sleep 0.5
ok "in place: first version loaded" \
  "ask 7.0.0.20.bl.example A | grep -q 'A 127.0.0.2'"
{ base; echo "20.0.0.8"; } > bl
touch -m -d '@1800000000.200000000' bl
kill -HUP $P
sleep 0.5
ok "in place, same size and second: new version loaded" \
  "ask 8.0.0.20.bl.example A | grep -q 'A 127.0.0.2' &&
   ask 7.0.0.20.bl.example A | grep -q rcode=3"
