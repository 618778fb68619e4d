#!/bin/sh
# Rebuilding the CDB while lookups stream in over both protocols costs no
# failed lookup: 20 connections each way, 10 rebuilds (each renamed into
# place by acctd-data, each with different extra accounts).  The first
# five are found by acctd's once-a-second check, the last five at once
# through SIGHUP.
. "$IMGATE_TOP/tests/lib/common.sh"
D=$(t_tmpdir)
cd "$D" || exit 111
P=$(t_port 21100)

awk 'BEGIN { for (i = 0; i < 2000; i++) printf "known%d@example.com\n", i }' > known.txt
awk 'BEGIN { for (i = 0; i < 2000; i++) printf "Known%d+ext@EXAMPLE.com\n", i }' > keys.txt
cat known.txt keys.txt > mixed.txt
build() {   # build N: the known accounts plus 20000 that change each time
  { cat known.txt
    awk -v n="$1" 'BEGIN { for (i = 0; i < 20000; i++) printf "x%d.%d@example.org\n", n, i }'
  } > src.txt
  acctd-data src.txt acc.cdb 2>> build.log
}
build 0
CDB=$D/acc.cdb SOCKETMAP=unix:$D/sm.sock TCPTABLE=127.0.0.1:$P \
  acctd 2> log &
A=$!
T_PIDS="$T_PIDS $A"
t_wait_path sm.sock 5 && t_wait_tcp "$P" 5 || t_fail "acctd starts"

acctd-bench-load -a "unix:$D/sm.sock" -p socketmap -k mixed.txt -c 20 \
  -T 1 -d 9 -n 5000000 > sm.out &
L1=$!
acctd-bench-load -a "127.0.0.1:$P" -p tcp -k mixed.txt -c 20 -T 1 -d 9 \
  -n 5000000 > tcp.out &
L2=$!
sleep 0.3
n=1
opens() { grep -c 'cdb file=.* entries=22000 case=fold' log; }
while [ $n -le 10 ]; do
  build $n
  [ $n -gt 5 ] && kill -HUP $A
  i=0; while [ "$(opens)" -le $n ] && [ $i -lt 30 ]; do sleep 0.1; i=$((i+1)); done
  n=$((n + 1))
done
wait $L1; wait $L2
t_match "$(cat sm.out)" '^requests=[0-9]+ .* ok=[0-9]+ notfound=0 temp=0 other=0 errors=0$' "socketmap: no failed lookup during 10 rebuilds"
t_match "$(cat tcp.out)" '^requests=[0-9]+ .* ok=[0-9]+ notfound=0 temp=0 other=0 errors=0$' "tcp: no failed lookup during 10 rebuilds"
req=$(sed 's/^requests=\([0-9]*\).*/\1/' sm.out)
[ "${req:-0}" -gt 10000 ] && t_ok "socketmap: lookups really streamed ($req)" || t_fail "socketmap: lookups really streamed" "$req"
req=$(sed 's/^requests=\([0-9]*\).*/\1/' tcp.out)
[ "${req:-0}" -gt 10000 ] && t_ok "tcp: lookups really streamed ($req)" || t_fail "tcp: lookups really streamed" "$req"
t_eq "$(grep -c 'cdb file=.* entries=22000 case=fold' log)" 11 "every rebuild picked up (11 opens logged)"
t_eq "$(grep -c 'warning' log)" 0 "no warning logged"
t_match "$(printf 'get x10.19999@example.org\n' | python3 "$IMGATE_TOP/acctd/tests/wire.py" "127.0.0.1:$P" 'b"get x10.19999@example.org\n"')" '^200 OK' "the last build is the one served"

# Rewritten in place (same inode, as cp over it does): acctd waits until
# the file has been quiet for two seconds, then reads it; no lookup in
# between gets a temporary answer.
printf 'inplace@example.com\n' > one.txt
acctd-data one.txt other.cdb 2>/dev/null
ino=$(stat -c %i acc.cdb)
cat other.cdb > acc.cdb
t_eq "$(stat -c %i acc.cdb)" "$ino" "in place: same inode"
W="python3 $IMGATE_TOP/acctd/tests/wire.py"
i=0 seen=""
while [ $i -lt 60 ]; do
  r=$($W "127.0.0.1:$P" 'b"get inplace@example.com\n"')
  seen="$seen ${r%%\\n}"
  [ "$r" = "200 OK\n" ] && break
  sleep 0.1; i=$((i + 1))
done
t_eq "$r" "200 OK\n" "in place: new content served within 6 s"
case $seen in *400*) t_fail "in place: no temporary answer meanwhile" "$seen" ;;
  *) t_ok "in place: no temporary answer meanwhile" ;; esac
t_eq "$(grep -c 'warning' log)" 0 "in place: no warning logged"
